"""What a dataset version is, computed where the data lives (the training process): content hash, schema, row
count and column profile of a DataFrame, numpy arrays, or files.

The version of a dataset is the hash of its content, so the same data logged from any run, on any machine, is
the same version. Hashing reads the content once, in chunks for files; the profile may read a sample.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ridgeline.monitoring.profile import profile_columns

_CHUNK = 8 * 1024 * 1024
# Files larger than this are hashed but not read into a table to profile.
MAX_PROFILED_FILE = 512 * 1024 * 1024
_TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


@dataclass(frozen=True)
class DatasetDescription:
    digest: str  # sha256 of the content, hex: the version's identity
    kind: str  # dataframe, arrays, files
    rows: int | None
    schema: list[dict[str, str]]
    profile: dict[str, Any] | None
    source: str
    size_bytes: int | None = None
    files: list[dict[str, Any]] = field(default_factory=list)


def describe(data: Any, source: str | None = None) -> DatasetDescription:
    """Hash and profile ``data``: a pandas DataFrame, a numpy array, several arrays (a tuple, list or dict, e.g.
    ``(X, y)``), or a file or folder path."""
    if isinstance(data, str | os.PathLike):
        return _describe_files(Path(data), source)
    if _is_dataframe(data):
        return _describe_frame(data, source or "")
    arrays = _as_arrays(data)
    if arrays is None:
        raise TypeError(f"log_dataset takes a pandas DataFrame, numpy arrays or a file path, not {type(data).__name__}")
    return _describe_arrays(arrays, source or "")


def _is_dataframe(data: Any) -> bool:
    # Checked by name so pandas is imported only by callers who already use it.
    return any(cls.__module__.startswith("pandas") and cls.__name__ == "DataFrame" for cls in type(data).__mro__)


def _as_arrays(data: Any) -> dict[str, np.ndarray[Any, Any]] | None:
    if isinstance(data, np.ndarray):
        return {"data": data}
    if isinstance(data, Mapping) and all(isinstance(v, np.ndarray) for v in data.values()):
        return {str(k): v for k, v in data.items()}
    if isinstance(data, Sequence) and data and all(isinstance(v, np.ndarray) for v in data):
        return {f"array_{i}": v for i, v in enumerate(data)}
    return None


def _describe_frame(frame: Any, source: str) -> DatasetDescription:
    import pandas as pd

    digest = hashlib.sha256()
    schema = [{"name": str(name), "dtype": str(dtype)} for name, dtype in frame.dtypes.items()]
    digest.update(repr(schema).encode())
    # pandas' row hashes are stable across processes and versions of the same data (not Python's hash()).
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    columns = {str(name): frame[name].to_numpy() for name in frame.columns}
    profile = profile_columns(columns, len(frame)).to_json()
    return DatasetDescription(digest.hexdigest(), "dataframe", len(frame), schema, profile, source)


def _describe_arrays(arrays: dict[str, np.ndarray[Any, Any]], source: str) -> DatasetDescription:
    digest = hashlib.sha256()
    schema = []
    columns: dict[str, np.ndarray[Any, Any]] = {}
    rows = None
    for name, array in arrays.items():
        contiguous = np.ascontiguousarray(array)
        digest.update(f"{name}|{contiguous.dtype.str}|{contiguous.shape}".encode())
        if contiguous.dtype.kind == "O":
            # An object array's bytes are pointers: hash what the objects say instead.
            digest.update("\0".join(map(repr, contiguous.ravel())).encode())
        else:
            digest.update(contiguous.data)
        schema.append({"name": name, "dtype": str(array.dtype), "shape": "x".join(map(str, array.shape))})
        rows = len(array) if rows is None and array.ndim else rows
        if array.ndim == 1:
            columns[name] = array
        elif array.ndim == 2:
            columns.update({f"{name}[{i}]": array[:, i] for i in range(array.shape[1])})
    same_length = columns and len({len(column) for column in columns.values()}) == 1
    profile = profile_columns(columns, len(next(iter(columns.values())))).to_json() if same_length else None
    return DatasetDescription(digest.hexdigest(), "arrays", rows, schema, profile, source)


def _walk(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for folder, subfolders, names in os.walk(root):
        subfolders.sort()
        for name in sorted(names):
            yield Path(folder) / name


def _describe_files(root: Path, source: str | None) -> DatasetDescription:
    if not root.exists():
        raise FileNotFoundError(f"no such file or folder: {root}")
    digest = hashlib.sha256()
    files = []
    total = 0
    for path in _walk(root):
        relative = path.name if root.is_file() else path.relative_to(root).as_posix()
        file_digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                file_digest.update(chunk)
        size = path.stat().st_size
        total += size
        digest.update(f"{relative}\0{file_digest.hexdigest()}\0".encode())
        files.append({"path": relative, "size": size, "sha256": file_digest.hexdigest()})
    table = _read_table(root) if root.is_file() else None
    rows, schema, profile = None, [], None
    if table is not None:
        frame_description = _describe_frame(table, "")
        rows, schema, profile = frame_description.rows, frame_description.schema, frame_description.profile
    return DatasetDescription(
        digest.hexdigest(), "files", rows, schema, profile, source or str(root.resolve()), total, files
    )


def _read_table(path: Path) -> Any:
    """A CSV or Parquet file as a DataFrame to profile, when pandas is there and the file is not huge."""
    if path.suffix.lower() not in _TABLE_SUFFIXES or path.stat().st_size > MAX_PROFILED_FILE:
        return None
    try:
        import pandas as pd
    except ImportError:
        return None
    try:
        return pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
    except (ValueError, OSError, ImportError):
        # An unreadable table is still a dataset version (hashed); it just has no profile.
        return None
