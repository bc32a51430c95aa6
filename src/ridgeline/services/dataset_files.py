"""Reading a logged dataset version's content back, where that is possible: a version logged from one CSV or
Parquet file that is still at the path it was logged from, unchanged (its digest is checked). Versions of
DataFrames or arrays keep no content in Ridgeline, and folders or remote sources are not read.

The validation gate reads evaluation data this way (in the caller's process) and monitoring reads a model
version's training data as its reference (in the server's). A version's source is whatever the client that
logged it said, so before a byte is read the version must describe a file exactly as the SDK records one: a
sha256 digest, the size, and the absolute path with every symlink already resolved. The path must still be that
real path (no symlink, ``..`` or ``/proc/self/root`` on the way) and name a regular file of that size; only
then is the file opened (without following a symlink) and hashed. Every way of failing those checks gives the
same answer, so a client cannot learn through errors which paths exist on the server.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from ridgeline.domain.entities import DatasetVersion
from ridgeline.domain.errors import InvalidArgument

if TYPE_CHECKING:
    import pandas as pd

_READABLE = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_SHA256 = re.compile(r"[0-9a-f]{64}")


def read_version(found: DatasetVersion, label: str) -> pd.DataFrame:
    """The content of ``found`` (called ``label`` in errors) as a DataFrame, or an InvalidArgument saying why
    it cannot be read here."""
    if found.kind != "files" or Path(found.source).suffix.lower() not in _READABLE:
        raise InvalidArgument(
            f"dataset {label!r} (version {found.digest[:12]}, {found.kind}, from {found.source!r}) cannot be read "
            "here: only a version logged from one CSV or Parquet file still at that path on this machine can; "
            "pass the data as a DataFrame instead",
            field="dataset",
        )
    path = Path(found.source)
    if not _same_file(found):
        raise InvalidArgument(
            f"{found.source} is not the file of dataset {label!r} version {found.digest[:12]} on this machine: it "
            f"moved, was never here, or changed since dataset {label!r} version {found.digest[:12]} was logged "
            "(its content is another version now); pass the data as a DataFrame instead",
            field="dataset",
        )
    return read_table(path)


def _same_file(found: DatasetVersion) -> bool:
    """Whether the version's source is, on this machine, the very file it describes (see the module's doc)."""
    from ridgeline.services.dataset_description import describe

    source = found.source
    if not _SHA256.fullmatch(found.digest) or not isinstance(found.size_bytes, int):
        return False
    if not os.path.isabs(source) or "\x00" in source or os.path.realpath(source) != source:
        return False
    try:
        info = os.stat(source, follow_symlinks=False)
        # Size first: a file that cannot be the version is never opened.
        return (
            stat.S_ISREG(info.st_mode) and info.st_size == found.size_bytes and describe(source).digest == found.digest
        )
    except OSError:
        return False


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file as a DataFrame; anything else is refused by name."""
    import pandas as pd

    kind = _READABLE.get(path.suffix.lower())
    if kind is None:
        raise InvalidArgument(f"{path}: evaluation data is a .csv or .parquet file", field="data")
    try:
        return pd.read_csv(path) if kind == "csv" else pd.read_parquet(path)
    except FileNotFoundError:
        raise InvalidArgument(f"{path}: no such file", field="data") from None
    except (ValueError, OSError) as exc:
        raise InvalidArgument(f"{path} is not a readable {kind} table: {exc}", field="data") from None
