"""Adaptive micro-batching: concurrent requests for the same model scored in one ``predict`` call.

Adaptive because a lone request never waits: the first request of an idle server is scored at once. While a
batch is being scored (on a thread, so the event loop keeps accepting), arriving requests queue up and become the
next batch, up to ``max_rows`` rows; ``wait_s`` optionally holds a batch that is not full yet for more. Batches
grow with the load and shrink back when it falls. Worth it for models whose ``predict`` has a high fixed cost
per call (most scikit-learn ensembles, neural networks); each request keeps its own validation and error.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from ridgeline.serving.models import Served


@dataclass(slots=True)
class _Waiting:
    served: Served
    data: Any
    rows: int
    future: asyncio.Future[Any]


def _batchable(data: Any) -> tuple[Any, ...] | None:
    """A key telling which inputs can be stacked together, or None when this one cannot."""
    if hasattr(data, "columns") and hasattr(data, "iloc"):
        return ("frame", tuple(data.columns), tuple(str(dtype) for dtype in data.dtypes))
    if hasattr(data, "ndim") and hasattr(data, "shape") and data.ndim >= 1:
        return ("array", data.shape[1:], str(data.dtype))
    return None


def _stack(parts: list[Any]) -> Any:
    if hasattr(parts[0], "columns"):
        import pandas as pd

        return pd.concat(parts, ignore_index=True)
    import numpy as np

    return np.concatenate(parts)


def _slice(outputs: Any, start: int, stop: int) -> Any:
    return outputs.iloc[start:stop] if hasattr(outputs, "iloc") else outputs[start:stop]


class MicroBatcher:
    def __init__(self, max_rows: int, wait_s: float) -> None:
        self.max_rows = max_rows
        self.wait_s = wait_s
        self._queue: list[_Waiting] = []
        self._draining = False

    async def predict(self, served: Served, data: Any) -> Any:
        if _batchable(data) is None:
            return await asyncio.to_thread(served.predict, data)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(_Waiting(served, data, len(data), future))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                if self.wait_s and sum(item.rows for item in self._queue) < self.max_rows:
                    await asyncio.sleep(self.wait_s)
                await self._score(self._take())
        finally:
            self._draining = False

    def _take(self) -> list[_Waiting]:
        """The oldest request and every queued one that stacks with it, up to ``max_rows`` rows."""
        first = self._queue[0]
        key = (id(first.served), _batchable(first.data))
        batch: list[_Waiting] = []
        rest: list[_Waiting] = []
        rows = 0
        for item in self._queue:
            if (id(item.served), _batchable(item.data)) == key and (not batch or rows + item.rows <= self.max_rows):
                batch.append(item)
                rows += item.rows
            else:
                rest.append(item)
        self._queue = rest
        return batch

    async def _score(self, batch: list[_Waiting]) -> None:
        try:
            stacked = batch[0].data if len(batch) == 1 else _stack([item.data for item in batch])
            outputs = await asyncio.to_thread(batch[0].served.predict, stacked)
            if len(batch) > 1 and len(outputs) != len(stacked):
                raise ValueError(f"the model answered {len(outputs)} predictions for {len(stacked)} rows")
        except Exception as exc:
            if len(batch) == 1:
                if not batch[0].future.done():
                    batch[0].future.set_exception(exc)
                return
            # One request's rows may be what the model chokes on: score each alone so only that one fails.
            for item in batch:
                await self._score([item])
            return
        start = 0
        for item in batch:
            if not item.future.done():
                item.future.set_result(outputs if len(batch) == 1 else _slice(outputs, start, start + item.rows))
            start += item.rows
