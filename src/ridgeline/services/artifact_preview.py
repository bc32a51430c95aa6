"""The head of a Parquet artifact as JSON rows, for the run page's artifact browser.

Only what the first rows need is read: the footer and the first row group's column chunks, through ranged
reads of the artifact store (a file of any size costs a few requests, never a full download). pyarrow is
imported when a preview is asked for, so the server starts and runs without it; then the preview says so.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from typing import Any

from ridgeline.domain.errors import InvalidArgument, PayloadTooLarge, RidgelineError
from ridgeline.services.artifacts import ArtifactService

MAX_ROWS = 200
DEFAULT_ROWS = 50
MAX_COLUMNS = 100
# A cell's text is cut here: a preview is for looking, and one huge string must not make the answer huge.
MAX_CELL_CHARS = 200
# The row groups holding the first rows are read whole (Parquet's unit of decoding); past this, refused.
MAX_ROW_GROUP_BYTES = 64 * 1024 * 1024
PARQUET_SUFFIXES = (".parquet", ".pq")


class PreviewUnavailable(RidgelineError):
    """The server cannot make this preview (pyarrow is not installed)."""

    code = "NOT_IMPLEMENTED"
    http_status = 501


@dataclass(frozen=True)
class TableHead:
    columns: list[dict[str, str]]
    rows: list[list[Any]]
    total_rows: int
    total_columns: int

    def to_json(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "rows": self.rows,
            "total_rows": self.total_rows,
            "total_columns": self.total_columns,
            "truncated": self.total_rows > len(self.rows) or self.total_columns > len(self.columns),
        }


class _RangedFile(io.RawIOBase):
    """A read-only, seekable view of one stored artifact that reads only the byte ranges asked for."""

    def __init__(self, artifacts: ArtifactService, run_id: str, path: str, size: int) -> None:
        self._artifacts, self._run_id, self._path, self._size = artifacts, run_id, path, size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        end = min(self._size, self._position + len(buffer))
        if end <= self._position:
            return 0
        data = b"".join(self._artifacts.read(self._run_id, self._path, self._position, end))
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


def _cell(value: Any) -> Any:
    """A JSON-safe, bounded rendering of one value (dates, decimals, bytes and nested values become text)."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes):
        text = value[: MAX_CELL_CHARS // 2].hex() + ("…" if len(value) > MAX_CELL_CHARS // 2 else "")
        return f"0x{text}"
    text = json.dumps(value, default=str) if isinstance(value, list | dict) else str(value)
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS] + "…"


def parquet_head(artifacts: ArtifactService, run_id: str, path: str, rows: int = DEFAULT_ROWS) -> TableHead:
    """The first ``rows`` rows (at most :data:`MAX_ROWS`) and :data:`MAX_COLUMNS` columns of a Parquet artifact."""
    if not path.lower().endswith(PARQUET_SUFFIXES):
        raise InvalidArgument("a preview is made for Parquet files (.parquet) only", field="path")
    if not 1 <= rows <= MAX_ROWS:
        raise InvalidArgument(f"rows must be between 1 and {MAX_ROWS}", field="rows")
    record = artifacts.info(run_id, path)
    try:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError as exc:
        raise PreviewUnavailable("previews of Parquet files need pyarrow on the server: pip install pyarrow") from exc
    source = _RangedFile(artifacts, run_id, path, record.size)
    try:
        parquet = pq.ParquetFile(source)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidArgument(f"not a readable Parquet file: {exc}", field="path") from exc
    metadata = parquet.metadata
    names = parquet.schema_arrow.names
    chosen = names[:MAX_COLUMNS]
    # The row groups that hold the first rows are decoded whole (Parquet's unit); too big a span is refused.
    groups: list[int] = []
    covered = span = 0
    while covered < rows and len(groups) < metadata.num_row_groups:
        group = metadata.row_group(len(groups))
        groups.append(len(groups))
        covered += group.num_rows
        span += group.total_byte_size
    if span > MAX_ROW_GROUP_BYTES:
        raise PayloadTooLarge(
            f"the first rows span {span} bytes of row groups, more than the {MAX_ROW_GROUP_BYTES} a preview "
            "reads; download the file instead",
            field="path",
        )
    table_rows: list[list[Any]] = []
    if groups:
        try:
            batch = next(parquet.iter_batches(batch_size=rows, row_groups=groups, columns=chosen), None)
        except (pa.ArrowException, OSError) as exc:
            raise InvalidArgument(f"not a readable Parquet file: {exc}", field="path") from exc
        if batch is not None:
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            table_rows = [[_cell(column[i]) for column in columns] for i in range(batch.num_rows)]
    schema = parquet.schema_arrow
    return TableHead(
        columns=[{"name": name, "type": str(schema.field(name).type)} for name in chosen],
        rows=table_rows[:rows],
        total_rows=metadata.num_rows,
        total_columns=len(names),
    )
