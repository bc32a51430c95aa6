"""Raw monitoring events in the artifact store (a local folder or object storage), as Parquet partitioned by
monitor and day::

    monitoring/<monitor id>/predictions/date=YYYY-MM-DD/<batch id>.parquet
    monitoring/<monitor id>/actuals/date=YYYY-MM-DD/<batch id>.parquet

Predictions: ``id`` (string), ``timestamp`` (UTC, ms), ``period`` (int32), ``model_version`` (int64, null when
unknown), ``prediction`` (JSON), ``scores`` (JSON: class probabilities or a score; null when not given), then one
column per feature or tag: ``in.NAME`` typed as its values are, or ``json.NAME`` (JSON texts) when they have no
one type. Files of one monitor may differ in their input columns (a feature added, a tag sent sometimes).
Actuals: ``id``, ``timestamp`` (when the truth was logged; the prediction's own time decides its window),
``value`` (JSON). Each batch is one file written whole, so readers
never see part of one; nothing here is rewritten, so several ingestion workers never conflict.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from ridgeline.domain.ids import new_id
from ridgeline.store.artifacts.storage import ArtifactStorage

PREFIX = "monitoring"
INPUT = "in."
JSON_INPUT = "json."
_FIXED = ("id", "timestamp", "period", "model_version", "prediction", "scores")
_DAY_MS = 86_400_000


def prediction_schema() -> Any:
    import pyarrow as pa  # type: ignore[import-untyped]

    return pa.schema(
        [
            ("id", pa.string()),
            ("timestamp", pa.timestamp("ms", tz="UTC")),
            ("period", pa.int32()),
            ("model_version", pa.int64()),
            ("prediction", pa.string()),
            ("scores", pa.string()),
        ]
    )


def actual_schema() -> Any:
    import pyarrow as pa

    return pa.schema([("id", pa.string()), ("timestamp", pa.timestamp("ms", tz="UTC")), ("value", pa.string())])


def day_of(timestamp_ms: int) -> str:
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC).strftime("%Y-%m-%d")


class MonitoringEvents:
    def __init__(self, storage: ArtifactStorage) -> None:
        self.storage = storage

    def write_predictions(self, monitor_id: str, table: Any) -> int:
        """``table``: an Arrow table with the prediction columns (``timestamp`` as UTC ms), in day files."""
        import pyarrow as pa

        days = table.column("timestamp").cast(pa.int64()).to_numpy() // _DAY_MS
        for day in sorted(set(days.tolist())):
            part = table.filter(pa.array(days == day))
            self._put(monitor_id, "predictions", day_of(int(day) * _DAY_MS), part)
        return int(table.num_rows)

    def write_actuals(self, monitor_id: str, rows: list[dict[str, Any]]) -> int:
        return self._write(monitor_id, "actuals", rows, actual_schema())

    def read_predictions(
        self,
        monitor_id: str,
        *,
        start: int | None = None,
        end: int | None = None,
        ids: Iterable[str] | None = None,
        inputs: Iterable[str] = (),
    ) -> Any:
        """The predictions with ``start <= timestamp < end`` (ms) and, if given, one of ``ids``, as a pyarrow
        Table of the fixed columns plus, for each name in ``inputs``, ``in.NAME`` as JSON texts (null where a file
        lacks it); only the days in range are read."""
        import pyarrow as pa

        names = list(inputs)
        tables = [
            _with_inputs(table, names)
            for table in self._tables(monitor_id, "predictions", prediction_schema(), start, end, ids)
        ]
        if tables:
            return pa.concat_tables(tables)
        empty = prediction_schema().empty_table()
        return _with_inputs(empty, names)

    def read_actuals(self, monitor_id: str, ids: Iterable[str] | None = None) -> Any:
        """Actuals for ``ids`` (all when None); an id logged twice keeps its latest value."""

        import pyarrow as pa

        parts = self._tables(monitor_id, "actuals", actual_schema(), None, None, ids)
        table = pa.concat_tables(parts) if parts else actual_schema().empty_table()
        if table.num_rows == 0:
            return table
        # Latest wins: sort by time, keep the last index of each id.
        table = table.sort_by([("timestamp", "ascending")])
        last: dict[str, int] = {}
        for index, key in enumerate(table.column("id").to_pylist()):
            last[key] = index
        return table.take(sorted(last.values()))

    def delete(self, monitor_id: str) -> None:
        self.storage.delete_tree(f"{PREFIX}/{monitor_id}")

    def _write(self, monitor_id: str, kind: str, rows: list[dict[str, Any]], schema: Any) -> int:
        import pyarrow as pa

        by_day: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_day[day_of(row["timestamp"])].append(row)
        for day, day_rows in sorted(by_day.items()):
            self._put(monitor_id, kind, day, pa.Table.from_pylist(day_rows, schema=schema))
        return len(rows)

    def _put(self, monitor_id: str, kind: str, day: str, table: Any) -> None:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd")
        writer = self.storage.writer(f"{PREFIX}/{monitor_id}/{kind}/date={day}/{new_id()}.parquet")
        try:
            writer.write(buffer.getvalue())
            writer.commit()
        except BaseException:
            writer.abort()
            raise

    def _tables(
        self,
        monitor_id: str,
        kind: str,
        schema: Any,
        start: int | None,
        end: int | None,
        ids: Iterable[str] | None,
    ) -> list[Any]:
        """Each file of the days in range, filtered; the fixed columns cast to ``schema``'s types."""
        import pyarrow as pa
        import pyarrow.compute as pc  # type: ignore[import-untyped]
        import pyarrow.parquet as pq

        prefix = f"{PREFIX}/{monitor_id}/{kind}/"
        first = None if start is None else day_of(start)
        last = None if end is None else day_of(end - 1)
        wanted = None if ids is None else pa.array(list(ids), pa.string())
        tables = []
        for item in self.storage.find(prefix.rstrip("/")):
            day = item.key[len(prefix) :].split("/", 1)[0].removeprefix("date=")
            if (first is not None and day < first) or (last is not None and day > last):
                continue
            table = pq.read_table(io.BytesIO(b"".join(self.storage.read(item.key))))
            mask = None
            if wanted is not None:
                mask = pc.is_in(table.column("id"), value_set=wanted)
            if start is not None or end is not None:
                stamps = pc.cast(table.column("timestamp"), pa.int64())
                in_range = pc.and_(
                    pc.greater_equal(stamps, start if start is not None else -(2**62)),
                    pc.less(stamps, end if end is not None else 2**62),
                )
                mask = in_range if mask is None else pc.and_(mask, in_range)
            tables.append(table if mask is None else table.filter(mask))
        return tables


def _with_inputs(table: Any, names: list[str]) -> Any:
    """The fixed prediction columns, then each named input as JSON texts (one representation whatever its
    Arrow type was in its file)."""
    import orjson
    import pyarrow as pa

    fixed = table.select(list(_FIXED)).cast(prediction_schema())
    for name in names:
        values: list[str | None]
        if f"{INPUT}{name}" in table.column_names:
            values = [orjson.dumps(value, default=str).decode() for value in table.column(f"{INPUT}{name}").to_pylist()]
        elif f"{JSON_INPUT}{name}" in table.column_names:
            values = table.column(f"{JSON_INPUT}{name}").to_pylist()
        else:
            values = [None] * table.num_rows
        fixed = fixed.append_column(f"{INPUT}{name}", pa.array(values, pa.string()))
    return fixed
