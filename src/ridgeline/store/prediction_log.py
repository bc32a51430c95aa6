"""The prediction log on disk: Parquet files partitioned by day, one row per scored input row.

Layout (docs/serving.md; the monitoring issue ingests it)::

    <folder>/date=YYYY-MM-DD/<model>-<writer>-<first timestamp ms>-<sequence>.parquet

Columns: ``request_id`` (string), ``row`` (int32: the row's index in its request), ``timestamp`` (UTC, ms),
``model`` (string), ``version`` (int64, null for a model served from a run or folder), ``role`` (``primary``,
``canary`` or ``shadow``), ``latency_ms`` (float64: the whole request's model time), ``inputs`` (JSON object of
the row's columns, or a JSON array for array input), ``output`` (JSON of the row's prediction), ``error``
(string, null unless a shadow model failed). Files are written whole under a temporary name and renamed, so a
reader never sees half a file.
"""

from __future__ import annotations

import itertools
import os
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_sequence = itertools.count()


def schema() -> Any:
    import pyarrow as pa  # type: ignore[import-untyped]

    return pa.schema(
        [
            ("request_id", pa.string()),
            ("row", pa.int32()),
            ("timestamp", pa.timestamp("ms", tz="UTC")),
            ("model", pa.string()),
            ("version", pa.int64()),
            ("role", pa.string()),
            ("latency_ms", pa.float64()),
            ("inputs", pa.string()),
            ("output", pa.string()),
            ("error", pa.string()),
        ]
    )


def write(folder: Path, rows: list[dict[str, Any]], writer: str) -> list[Path]:
    """Write ``rows`` (dicts with the columns above; ``timestamp`` in epoch ms) into their days' partitions."""
    import pyarrow as pa
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    by_day: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_day[datetime.fromtimestamp(row["timestamp"] / 1000, UTC).strftime("%Y-%m-%d")].append(row)
    written = []
    for day, day_rows in sorted(by_day.items()):
        partition = folder / f"date={day}"
        partition.mkdir(parents=True, exist_ok=True)
        model = _UNSAFE.sub("_", str(day_rows[0]["model"]))[:100]
        name = f"{model}-{_UNSAFE.sub('_', writer)}-{day_rows[0]['timestamp']}-{next(_sequence)}.parquet"
        temporary = partition / f".{name}.tmp"
        pq.write_table(pa.Table.from_pylist(day_rows, schema=schema()), temporary)
        os.replace(temporary, partition / name)
        written.append(partition / name)
    return written
