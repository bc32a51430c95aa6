"""The ``ridgeline-export`` folder format (docs/export-format.md): its names, JSON lines, hashes and manifest.

Output is deterministic (rows sorted, JSON with sorted keys and fixed separators, Parquet written from plain
arrays), so export → import → export gives the same files; only ``exported_at`` in ``manifest.json`` differs.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from ridgeline import __version__
from ridgeline.domain.errors import InvalidArgument

FORMAT_NAME = "ridgeline-export"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)
MANIFEST = "manifest.json"
CHUNK = 1 << 20

# (phase, done, total): the CLI turns these into progress bars; a total may grow while work is discovered.
Progress = Callable[[str, int, int], None]


def quiet(_phase: str, _done: int, _total: int) -> None:
    """No progress shown."""


def write_lines(path: Path, rows: list[dict[str, Any]]) -> None:
    """JSON lines: sorted keys, no spaces, UTF-8 kept as is."""
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n")


def read_lines(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def chunks(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK):
        yield chunk


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in chunks(handle):
            digest.update(chunk)
    return digest.hexdigest()


def pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - pyarrow ships with the test and artifacts extras
        raise InvalidArgument(
            "export and import need pyarrow for metric histories: pip install 'ridgeline[artifacts]'"
        ) from None
    return pa, pq


def write_manifest(folder: Path, project: str, counts: dict[str, int]) -> None:
    """List every file of the folder with its sha256, beside the format, version and counts."""
    files = {
        path.relative_to(folder).as_posix(): sha256_file(path)
        for path in sorted(folder.rglob("*"))
        # Only the folder's own manifest is left out: an artifact may be called manifest.json too.
        if path.is_file() and path.relative_to(folder).as_posix() != MANIFEST
    }
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "ridgeline_version": __version__,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "project": project,
        "counts": counts,
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n")


def _plain_files(folder: Path) -> set[str]:
    """The folder's files (but the manifest), relative; a symlink or anything but a file or folder is refused
    before any byte is read: an export holds plain files only, and a link would make the import read (and copy
    into the artifact store) whatever it points to, outside the folder."""
    found = set()
    for parent, folders, names in os.walk(folder):
        for name in folders + names:
            entry = Path(parent, name)
            mode = entry.lstat().st_mode
            relative = entry.relative_to(folder).as_posix()
            if stat.S_ISLNK(mode) or not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise InvalidArgument(
                    f"{relative} in {folder} is a symlink or special file: an export folder holds plain files only",
                    field="dir",
                )
            if stat.S_ISREG(mode) and relative != MANIFEST:
                found.add(relative)
    return found


def read_manifest(folder: Path) -> dict[str, Any]:
    """The folder's manifest, once its format version is known and every file matches its sha256."""
    path = folder / MANIFEST
    if not path.is_file() or path.is_symlink():
        raise InvalidArgument(f"{folder} has no {MANIFEST}: it is not a Ridgeline export", field="dir")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"{path} is not valid JSON: {exc}", field="dir") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise InvalidArgument(f"{path} does not describe a {FORMAT_NAME} folder", field="dir")
    version = manifest.get("format_version")
    if version not in SUPPORTED_VERSIONS:
        supported = ", ".join(str(item) for item in SUPPORTED_VERSIONS)
        raise InvalidArgument(
            f"export format version {version!r} is not supported (this Ridgeline {__version__} reads version "
            f"{supported}); upgrade Ridgeline to import it",
            field="dir",
        )
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise InvalidArgument(f"{path} lists no files", field="dir")
    present = _plain_files(folder)
    unlisted = sorted(present - set(files))
    if unlisted:
        raise InvalidArgument(f"{unlisted[0]} is not listed in the manifest: the folder was changed", field="dir")
    for name, expected in sorted(files.items()):
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise InvalidArgument(f"the manifest names a file outside the folder: {name!r}", field="dir")
        if name not in present:
            raise InvalidArgument(f"{name} is missing from {folder}", field="dir")
        actual = sha256_file(folder / name)
        if actual != expected:
            raise InvalidArgument(
                f"{name} has sha256 {actual}, not the {expected} in the manifest: the folder was changed or "
                "damaged; nothing was imported",
                field="dir",
            )
    return manifest
