"""One worker's serving machinery, assembled from ServeOptions: the slots, the watcher, the canary choice,
shadow scoring, the prediction log, micro-batching, metrics and the reporter. The ASGI app (app.py) only speaks
HTTP on top of it."""

from __future__ import annotations

import functools
import gc
import os
import random
from pathlib import Path
from typing import Any

from ridgeline.config import Settings
from ridgeline.services.model_servers import ServerReport
from ridgeline.serving.batching import MicroBatcher, score
from ridgeline.serving.metrics import Metrics
from ridgeline.serving.models import Loader, Resolver, Served, Slot, Watcher, parse_canary, registry_uri
from ridgeline.serving.options import ServeOptions
from ridgeline.serving.predlog import PredictionLog, Scored, Sink
from ridgeline.serving.reporter import HttpTarget, LocalTarget, Reporter, target_for
from ridgeline.serving.shadow import ShadowRunner


class Runtime:
    def __init__(self, options: ServeOptions, loader: Loader, resolver: Resolver, settings: Settings) -> None:
        options.check()
        self.options = options
        self.metrics = Metrics()
        registry = registry_uri(options.uri)
        self.model_name = registry.name if registry is not None else options.uri
        self.primary = Slot("primary", options.uri, loader, resolver)
        self.canary: Slot | None = None
        self.canary_share = 0.0
        if options.canary and registry is not None:
            alias, self.canary_share = parse_canary(options.canary)
            self.canary = Slot("canary", registry.with_alias(alias), loader, resolver)
        self.shadow_slot = (
            Slot("shadow", registry.with_alias(options.shadow), loader, resolver)
            if options.shadow and registry is not None
            else None
        )
        self.slots = [slot for slot in (self.primary, self.canary, self.shadow_slot) if slot is not None]
        target = target_for(options.tracking_uri, settings) if registry is not None else None
        self.predictions = (
            PredictionLog(_sink(options, settings, target), on_drop=self._dropped) if options.log_predictions else None
        )
        self.shadow = (
            ShadowRunner(self.shadow_slot, self.model_name, self.predictions, self.metrics.shadow_outcome)
            if self.shadow_slot is not None and self.predictions is not None
            else None
        )
        self.batcher = (
            MicroBatcher(options.batch_max, options.batch_wait_ms / 1000, self.metrics.batch)
            if options.batch_max > 1
            else None
        )
        self.reporter = (
            Reporter(options.server_id, target, self.report, options.report_interval) if target is not None else None
        )
        self.watcher = Watcher(self.slots, options.poll_interval, self._versions_changed)

    def start(self) -> None:
        """Load every slot (the server is ready only once they answer), then start the background threads."""
        for slot in self.slots:
            slot.load()
        self._versions_changed()
        # The interpreter now holds millions of long-lived objects (the frameworks, the model); a full collection
        # would walk them all in the middle of some request. Frozen, collections see only what requests allocate.
        gc.freeze()
        for part in (self.predictions, self.shadow, self.reporter, self.watcher):
            if part is not None:
                part.start()

    def stop(self) -> None:
        for part in (self.watcher, self.shadow, self.predictions, self.reporter):
            if part is not None:
                part.stop()

    def pick(self) -> tuple[str, Served]:
        """The model for one request: the canary for its share of requests, the primary otherwise."""
        if self.canary is not None and random.random() * 100 < self.canary_share:
            served = self.canary.current
            if served is not None:
                return "canary", served
        served = self.primary.current
        assert served is not None, "the server answers only after start() loaded the primary model"
        return "primary", served

    async def score(self, served: Served, data: Any) -> tuple[Any, Any]:
        """The request's data checked against the signature, and the model's predictions for it.

        Without batching both run right here on the event loop: for a one-row request that is faster than any
        hand-off to a thread, and a worker process serves one core's worth of requests either way.
        """
        if self.batcher is not None:
            return await self.batcher.score(served, data)
        return score(served, data)

    def record(self, scored: Scored, data: Any) -> None:
        """Hand a request's prediction (with the model's input) to the log, and the request's data as parsed to
        the shadow (which checks it against its own signature); both return at once."""
        if self.predictions is not None:
            self.predictions.add(scored)
        if self.shadow is not None:
            self.shadow.submit(scored.request_id, scored.timestamp, data)

    def describe(self) -> dict[str, Any]:
        """What /version and /health show, and what the reporter sends."""
        return {
            "model": self.model_name,
            "uri": self.options.uri,
            "version": _version(self.primary),
            "canary": None
            if self.canary is None
            else {"alias": _alias(self.canary), "share": self.canary_share, "version": _version(self.canary)},
            "shadow": None
            if self.shadow_slot is None
            else {"alias": _alias(self.shadow_slot), "version": _version(self.shadow_slot)},
        }

    def report(self) -> ServerReport:
        state = self.describe()
        return ServerReport(
            model_name=self.model_name,
            uri=self.options.uri,
            url=self.options.url,
            version=state["version"],
            started_at=self.options.started_at,
            canary=state["canary"],
            shadow=state["shadow"],
        )

    def _versions_changed(self) -> None:
        self.metrics.versions = {slot.role: _version(slot) for slot in self.slots}
        if self.reporter is not None:
            self.reporter.changed()

    def _dropped(self, count: int) -> None:
        self.metrics.dropped_predictions += count


def _version(slot: Slot) -> int | None:
    return None if slot.current is None else slot.current.version


def _alias(slot: Slot) -> str | None:
    return None if slot.registry is None else slot.registry.alias


def _sink(options: ServeOptions, settings: Settings, target: HttpTarget | LocalTarget | None) -> Sink:
    """The tracking server's log when it is remote and knows this server (a models:/ URI) and no folder is given;
    else Parquet files in the folder (default: predictions/ in the data folder)."""
    from ridgeline.store import prediction_log

    if isinstance(target, HttpTarget) and options.prediction_log is None:
        return functools.partial(target.write_predictions, options.server_id)

    folder = Path(options.prediction_log or settings.prediction_log)
    writer = f"{options.server_id[:8]}-{os.getpid()}"

    def write(rows: list[dict[str, Any]]) -> None:
        prediction_log.write(folder, rows, writer)

    return write
