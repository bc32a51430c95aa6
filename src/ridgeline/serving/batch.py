"""Batch scoring (``ridgeline predict``): a CSV or Parquet file through a model, in chunks, into Parquet.

Memory stays bounded whatever the file's size: the input is streamed (row group by row group for Parquet, block by
block for CSV), each chunk is checked against the model's signature, scored, and its predictions appended to the
output file before the next chunk is read. The output holds the
input's columns followed by the prediction column(s) (``prediction``, or the model's own column names when it
answers a DataFrame).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ridgeline.domain.errors import InvalidArgument

DEFAULT_BATCH_ROWS = 100_000


def _batches(source: Path, batch_rows: int) -> tuple[Iterator[Any], int | None]:
    """Record batches of the input and its row count when known up front (Parquet footers tell it)."""
    import pyarrow.csv as pv  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    suffix = source.suffix.lower()
    if suffix == ".parquet":
        # pre_buffer=False: read one row group at a time. With it, pyarrow fetches ahead and a 10M-row file
        # took 2 GB; without, memory holds one row group plus the chunk being scored.
        parquet = pq.ParquetFile(source, pre_buffer=False, buffer_size=1 << 20)
        return parquet.iter_batches(batch_size=batch_rows), parquet.metadata.num_rows
    if suffix == ".csv":
        # block_size is in bytes; ~64 bytes a row is a fair guess, the scorer re-chunks to batch_rows anyway.
        reader = pv.open_csv(source, read_options=pv.ReadOptions(block_size=max(1 << 20, batch_rows * 64)))
        return iter(reader), None
    raise InvalidArgument(f"{source.name}: the input must be a .csv or .parquet file", field="input")


def _rechunk(batches: Iterator[Any], rows: int) -> Iterator[Any]:
    import pyarrow as pa

    pending: list[Any] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending)


def _with_predictions(chunk: Any, outputs: Any) -> Any:
    import pyarrow as pa

    if hasattr(outputs, "columns"):
        extra = pa.Table.from_pandas(outputs.reset_index(drop=True), preserve_index=False)
        columns = {name: extra.column(name) for name in extra.column_names}
    else:
        values = outputs.to_numpy() if hasattr(outputs, "to_numpy") else outputs
        columns = {"prediction": pa.array(list(values) if getattr(values, "ndim", 1) > 1 else values)}
    for name, column in columns.items():
        if len(column) != chunk.num_rows:
            raise InvalidArgument(f"the model answered {len(column)} predictions for {chunk.num_rows} rows")
        chunk = chunk.append_column(name if name not in chunk.column_names else f"{name}_prediction", column)
    return chunk


def score_file(
    score: Callable[[Any], Any],
    source: Path,
    destination: Path,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: Callable[[int, int | None], None] = lambda done, total: None,
) -> int:
    """Score ``source`` into ``destination`` (Parquet, written whole under a temporary name) with ``score``
    (a DataFrame chunk in, its predictions out); returns the number of rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if batch_rows < 1:
        raise InvalidArgument("--batch-size must be at least 1", field="batch_size")
    if not source.is_file():
        raise InvalidArgument(f"{source}: no such file", field="input")
    temporary = destination.with_name(f".{destination.name}.tmp")
    writer = None
    done = 0
    try:
        batches, total = _batches(source, batch_rows)
        for chunk in _rechunk(batches, batch_rows):
            frame = chunk.to_pandas()
            scored = _with_predictions(chunk, score(frame))
            if writer is None:
                # Dictionary-encoding floats finds no repeats and was most of the time spent writing.
                dictionary = [field.name for field in scored.schema if not pa.types.is_floating(field.type)]
                writer = pq.ParquetWriter(temporary, scored.schema, use_dictionary=dictionary)
            writer.write_table(scored)
            done += chunk.num_rows
            progress(done, total)
        if writer is None:
            raise InvalidArgument(f"{source.name} holds no rows", field="input")
        writer.close()
        os.replace(temporary, destination)
    except pa.ArrowInvalid as exc:
        raise InvalidArgument(f"{source.name} cannot be read after row {done}: {exc}", field="input") from None
    finally:
        if writer is not None:
            writer.close()
        temporary.unlink(missing_ok=True)
    return done
