"""Adaptive micro-batching: concurrent requests for the same model checked and scored in one call each.

Adaptive because a lone request never waits: the first request of an idle server is scored at once. While a
batch is being scored, arriving requests queue up and become the next batch, up to ``max_rows`` rows; ``wait_s``
optionally holds a batch that is not full yet for more. Batches grow with the load and shrink back when it falls.

Where a batch is scored adapts too. A model that answers within ``INLINE_S`` is scored on the event loop: a hand-off
to a thread would cost more than the scoring, and requests arriving meanwhile wait in the socket buffers and are
read as the next batch. A slower model is scored on a thread, so the server keeps reading and answering
``/ping`` while it works; each batch's duration decides for the next one.

A batch merges the requests' inputs as they were parsed (records with records, columns with the same columns,
frames with the same columns, arrays of the same row shape), checks the merged input against the signature once
and calls ``predict`` once, then hands each request its own rows. The fixed cost per call of checking and of most
models' ``predict`` (scikit-learn validates its input on every call) is paid once per batch instead of once per
request. If the merged batch is refused or the model fails on it, each request is checked and scored alone, so
only the one at fault gets the error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ridgeline.serving.models import Served

Scored = tuple[Any, Any]  # (the model's input as checked, its predictions)

INLINE_S = 0.002


@dataclass(slots=True)
class _Waiting:
    served: Served
    data: Any
    rows: int
    key: tuple[Any, ...] | None
    future: asyncio.Future[Scored]


def _key(data: Any) -> tuple[Any, ...] | None:
    """Which inputs can be merged together, or None when this one goes alone."""
    if isinstance(data, list):
        return ("records",)
    if isinstance(data, dict):
        return ("columns", tuple(data))
    if hasattr(data, "columns") and hasattr(data, "iloc"):
        return ("frame", tuple(data.columns), tuple(str(dtype) for dtype in data.dtypes))
    if getattr(data, "ndim", 0) >= 1:
        return ("array", data.shape[1:], str(data.dtype))
    return None


def _rows(data: Any) -> int:
    if isinstance(data, dict):
        return len(next(iter(data.values())))
    return len(data)


def _merge(parts: list[Any]) -> Any:
    first = parts[0]
    if isinstance(first, list):
        return [record for part in parts for record in part]
    if isinstance(first, dict):
        return {name: [value for part in parts for value in part[name]] for name in first}
    if hasattr(first, "columns"):
        import pandas as pd

        return pd.concat(parts, ignore_index=True)
    import numpy as np

    return np.concatenate(parts)


def _slice(values: Any, start: int, stop: int) -> Any:
    return values.iloc[start:stop] if hasattr(values, "iloc") else values[start:stop]


def score(served: Served, data: Any) -> Scored:
    prepared = served.prepare(data)
    return prepared, served.predict(prepared)


class MicroBatcher:
    def __init__(self, max_rows: int, wait_s: float, on_batch: Callable[[int], None]) -> None:
        self.max_rows = max_rows
        self.wait_s = wait_s
        self.on_batch = on_batch
        self._queue: list[_Waiting] = []
        self._inline = True  # the last batch was scored within INLINE_S
        # Held so the task is not garbage-collected while it runs (the event loop keeps only a weak reference).
        self._drainer: asyncio.Task[None] | None = None

    async def score(self, served: Served, data: Any) -> Scored:
        """The request's input as checked, and its predictions; raises what checking or the model raised."""
        key = _key(data)
        if key is None:
            return await asyncio.to_thread(score, served, data)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Scored] = loop.create_future()
        self._queue.append(_Waiting(served, data, _rows(data), key, future))
        if self._drainer is None:
            self._drainer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                if self.wait_s and sum(item.rows for item in self._queue) < self.max_rows:
                    await asyncio.sleep(self.wait_s)
                else:
                    await asyncio.sleep(0)  # one turn of the loop reads what arrived while the last batch scored
                await self._score(self._take())
        finally:
            self._drainer = None

    def _take(self) -> list[_Waiting]:
        """The oldest request and every queued one that merges with it, up to ``max_rows`` rows."""
        first = self._queue[0]
        batch: list[_Waiting] = []
        rest: list[_Waiting] = []
        rows = 0
        for item in self._queue:
            same = item.served is first.served and item.key == first.key
            if same and (not batch or rows + item.rows <= self.max_rows):
                batch.append(item)
                rows += item.rows
            else:
                rest.append(item)
        self._queue = rest
        return batch

    async def _score(self, batch: list[_Waiting]) -> None:
        served = batch[0].served
        self.on_batch(len(batch))
        try:
            merged = batch[0].data if len(batch) == 1 else _merge([item.data for item in batch])
            started = time.perf_counter()
            if self._inline:
                prepared, outputs = score(served, merged)
            else:
                prepared, outputs = await asyncio.to_thread(score, served, merged)
            self._inline = time.perf_counter() - started < INLINE_S
            if len(batch) > 1 and len(outputs) != len(prepared):
                raise ValueError(f"the model answered {len(outputs)} predictions for {len(prepared)} rows")
        except Exception as exc:
            if len(batch) == 1:
                if not batch[0].future.done():
                    batch[0].future.set_exception(exc)
                return
            for item in batch:
                await self._score([item])
            return
        start = 0
        for item in batch:
            if not item.future.done():
                stop = start + item.rows
                answer = (
                    (prepared, outputs)
                    if len(batch) == 1
                    else (_slice(prepared, start, stop), _slice(outputs, start, stop))
                )
                item.future.set_result(answer)
            start += item.rows
