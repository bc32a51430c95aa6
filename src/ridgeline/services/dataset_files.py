"""Reading a logged dataset version's content back, where that is possible: a version logged from one CSV or
Parquet file that is still at the path it was logged from, unchanged (its digest is checked). Versions of
DataFrames or arrays keep no content in Ridgeline, and folders or remote sources are not read.

The validation gate reads evaluation data this way (in the caller's process) and monitoring reads a model
version's training data as its reference (in the server's).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ridgeline.domain.entities import DatasetVersion
from ridgeline.domain.errors import InvalidArgument

if TYPE_CHECKING:
    import pandas as pd

_READABLE = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def read_version(found: DatasetVersion, label: str) -> pd.DataFrame:
    """The content of ``found`` (called ``label`` in errors) as a DataFrame, or an InvalidArgument saying why
    it cannot be read here."""
    from ridgeline.services.dataset_description import describe

    path = Path(found.source)
    if found.kind != "files" or path.suffix.lower() not in _READABLE or not path.is_file():
        raise InvalidArgument(
            f"dataset {label!r} (version {found.digest[:12]}, {found.kind}, from {found.source!r}) cannot be read "
            "here: only a version logged from one CSV or Parquet file still at that path on this machine can; "
            "pass the data as a DataFrame instead",
            field="dataset",
        )
    if describe(path).digest != found.digest:
        raise InvalidArgument(
            f"{path} changed since dataset {label!r} version {found.digest[:12]} was logged: its content is "
            "another version now",
            field="dataset",
        )
    return read_table(path)


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
