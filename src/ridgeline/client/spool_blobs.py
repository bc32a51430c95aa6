"""The content of spooled artifacts: written whole or not at all, in constant memory, with its sha256."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# Large files are copied a piece at a time: memory stays flat whatever their size.
_CHUNK = 1024 * 1024


def write_blob(path: Path, source: Path | bytes) -> tuple[str, int]:
    """Copy ``source`` (a file, or bytes) to ``path`` through a temporary file, fsync-ed and renamed into place
    like the spool's records; returns the sha256 (hex) and size of what was written."""
    digest = hashlib.sha256()
    size = 0
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as out:
            if isinstance(source, bytes):
                digest.update(source)
                out.write(source)
                size = len(source)
            else:
                with open(source, "rb") as handle:
                    while chunk := handle.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)  # a half copy (disk full, source gone) must not eat the disk it lacked
        raise
    os.replace(tmp, path)
    return digest.hexdigest(), size
