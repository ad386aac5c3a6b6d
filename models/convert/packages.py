"""Finding and reading files inside registry packages that `hotline models fetch` downloaded.

Every converter gets `--downloads DIR`: the folder where the fetch step put the packages named in
models/models.toml (PyPI wheels or sdists, npm tarballs). A package is named as in the manifest:
`pypi:NAME==VERSION` or `npm:NAME@VERSION`.
"""

from __future__ import annotations

import re
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


class PackageError(Exception):
    """A package or a file inside it is missing: names the package."""


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def package_file(downloads: Path, spec: str) -> Path:
    """The downloaded archive for `spec` (pypi:NAME==VERSION or npm:NAME@VERSION)."""
    kind, _, rest = spec.partition(":")
    if kind == "pypi":
        name, _, version = rest.partition("==")
        for path in sorted(downloads.iterdir()):
            if path.name.endswith(".whl"):
                # NAME-VERSION-PYTAG-ABITAG-PLATFORM.whl
                parts = path.name.split("-")
                dist, file_version = parts[0], parts[1] if len(parts) > 1 else ""
            elif path.name.endswith((".tar.gz", ".zip")):
                stem = path.name.removesuffix(".tar.gz").removesuffix(".zip")
                dist, _, file_version = stem.rpartition("-")
            else:
                continue
            if _normalize(dist) == _normalize(name) and file_version == version:
                return path
    elif kind == "npm":
        name, _, version = rest.rpartition("@")
        candidate = downloads / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
        if candidate.exists():
            return candidate
    else:
        raise PackageError(f"unknown package kind in {spec!r} (want pypi:... or npm:...)")
    raise PackageError(f"package {spec} is not in {downloads}: was it downloaded?")


@contextmanager
def open_member(downloads: Path, spec: str, member: str) -> Iterator[IO[bytes]]:
    """A binary stream of `member` inside package `spec`, read without unpacking it all.

    For sdists and npm tarballs the member path is relative to the archive's top folder
    (`package/` for npm, `NAME-VERSION/` for sdists), so callers name it as inside the project.
    Damage found while the caller reads (a bad CRC in a wheel) is raised as PackageError too.
    """
    archive = package_file(downloads, spec)
    try:
        if archive.name.endswith((".whl", ".zip")):
            with zipfile.ZipFile(archive) as zf:
                try:
                    info = zf.getinfo(member)
                except KeyError:
                    raise PackageError(f"package {spec} has no file {member!r}") from None
                with zf.open(info) as handle:
                    yield handle
            return
        with tarfile.open(archive, "r:*") as tf:
            for entry in tf:
                _, _, inner = entry.name.partition("/")
                if inner == member and entry.isfile():
                    data = tf.extractfile(entry)
                    assert data is not None, "isfile() members always have data"
                    with data:
                        yield data
                    return
    except (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError) as err:
        raise PackageError(f"package {spec}: archive {archive.name} is damaged: {err}") from err
    raise PackageError(f"package {spec} has no file {member!r}")


def read_member(downloads: Path, spec: str, member: str) -> bytes:
    """The bytes of `member` inside package `spec` (see `open_member`)."""
    with open_member(downloads, spec, member) as handle:
        return handle.read()

