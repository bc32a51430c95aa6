"""Monitors: create, read, change and delete them, follow their model's alias into new periods, and answer
reports. Ingestion lives in ingest.py and report rows in reports.py; this is the one entry point for callers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ridgeline.domain.errors import InvalidArgument, NotFound
from ridgeline.domain.ids import new_id, now_ms
from ridgeline.domain.monitors import PREDICTION, Alert, Monitor, Period, Target
from ridgeline.monitoring.reference import Reference
from ridgeline.services.monitoring import ingest, reports
from ridgeline.services.monitoring.spec import MonitorSpec, PredictionBatch
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.monitoring_events import MonitoringEvents
from ridgeline.store.scope import in_workspace

_TRAINING_CONTEXTS = ("training", "train", "")


class MonitoringService:
    def __init__(self, store: MetadataStore, events: MonitoringEvents) -> None:
        self.store = store
        self.events = events
        self.report_cache = reports.WindowCache()

    # monitors ------------------------------------------------------------------------------------------------

    def create(self, spec: MonitorSpec, *, user: str = "") -> Monitor:
        checked = spec.checked()
        rules, channels = self._rules(checked.rules), self._channels(checked.channels)
        version = self.current_version(checked.target)
        reference, source = checked.reference, checked.reference_source
        if reference is None:
            reference, source = self._training_reference(checked.target.model_name, version, checked.features)
        features = checked.features
        if features is not None:
            missing = [name for name in features if name not in reference.features]
            if missing:
                raise InvalidArgument(f"the reference has no column {missing[0]!r}", field="features")
            reference = _only(reference, features)
        stamp = now_ms()
        monitor = self.store.monitors.create(
            Monitor(
                id=new_id(),
                name=checked.name,
                model_name=checked.target.model_name,
                alias=checked.target.alias,
                version=checked.target.version,
                features=features,
                window_s=checked.window_s,
                segment_by=checked.segment_by,
                task=checked.task,
                policy=checked.policy,
                quality=checked.quality,
                rules=rules,
                channels=channels,
                cooldown_s=checked.cooldown_s,
                description=checked.description,
                created_by=user,
                created_at=stamp,
                updated_at=stamp,
            )
        )
        self.store.monitors.add_period(monitor.id, version, reference.to_json(), source or "given", stamp)
        return monitor

    def get(self, name: str) -> Monitor:
        return self.store.monitors.get(name)

    def find(self, model_name: str | None = None) -> list[Monitor]:
        return self.store.monitors.find(model_name)

    def update(
        self,
        name: str,
        *,
        rules: Sequence[Any] | None = None,
        channels: Sequence[dict[str, Any]] | None = None,
        description: str | None = None,
    ) -> Monitor:
        monitor = self.get(name)
        changed = replace(
            monitor,
            rules=monitor.rules if rules is None else self._rules(list(rules)),
            channels=monitor.channels if channels is None else self._channels(list(channels)),
            description=monitor.description if description is None else description,
            updated_at=now_ms(),
        )
        return self.store.monitors.update(changed)

    def delete(self, name: str) -> None:
        monitor = self.get(name)
        self.store.monitors.delete(monitor.id)
        self.events.delete(monitor.id)

    def periods(self, name: str) -> list[Period]:
        return self.store.monitors.periods(self.get(name).id)

    def set_reference(self, name: str, reference: dict[str, Any], source: str, version: int | None = None) -> Period:
        """Give the period of ``version`` (default: the version served now) this reference; a period that has
        events keeps its reference (its windows were profiled against it), so this starts that version's
        period only."""
        monitor = self.get(name)
        version = self.current_version(monitor.target) if version is None else version
        if any(period.model_version == version for period in self.store.monitors.periods(monitor.id)):
            raise InvalidArgument(
                f"version {version} already has a period and its windows were profiled against its reference",
                field="version",
            )
        checked = Reference.from_json(reference)
        if monitor.features is not None:
            checked = _only(checked, monitor.features)
        return self.store.monitors.add_period(monitor.id, version, checked.to_json(), source or "given", now_ms())

    def current_version(self, target: Target) -> int:
        try:
            model = self.store.registry.get_model(target.model_name)
            if target.alias is None:
                assert target.version is not None
                self.store.registry.get_version(model, target.version)
                return target.version
        except NotFound as missing:
            raise NotFound(missing.message, field="model") from None
        version = model.aliases.get(target.alias)
        if version is None:
            raise NotFound(f"Registered model {target.model_name!r} has no alias {target.alias!r}", field="model")
        return version

    def period_for(self, monitor: Monitor, version: int | None, known: dict[int | None, Period]) -> Period:
        """The period of ``version``, started now (with a reference) when this is the first event it serves."""
        found = known.get(version)
        if found is not None:
            return found
        periods = self.store.monitors.periods(monitor.id)
        found = next((period for period in periods if period.model_version == version), None)
        if found is None:
            reference, source = self._next_reference(monitor, version, periods)
            found = self.store.monitors.add_period(monitor.id, version, reference.to_json(), source, now_ms())
        known[version] = found
        return found

    def _next_reference(self, monitor: Monitor, version: int | None, periods: list[Period]) -> tuple[Reference, str]:
        """The new version's training data where it can be read; else the last period's reference, kept."""
        last = periods[-1]
        previous = Reference.from_json(last.reference)
        if version is not None:
            try:
                training, source = self._training_reference(monitor.model_name, version, monitor.features)
            except (InvalidArgument, NotFound) as why:
                return previous, f"kept from period {last.number} (version {last.model_version}): {why.message}"
            # The model's own output on its training data is not known here: the prediction's reference stays.
            if PREDICTION in previous.features:
                training = Reference({**training.features, PREDICTION: previous.features[PREDICTION]})
            if monitor.features is not None:
                training = _only(training, monitor.features)
            return training, source
        return previous, f"kept from period {last.number}"

    def _training_reference(self, model_name: str, version: int, features: list[str] | None) -> tuple[Reference, str]:
        from ridgeline.services.dataset_files import read_version

        model = self.store.registry.get_model(model_name)
        found = self.store.registry.get_version(model, version)
        if found.run_id is None:
            raise InvalidArgument(
                f"{model_name} version {version} has no run, so no training data: pass a reference", field="reference"
            )
        inputs = self.store.datasets.inputs_of_runs([found.run_id]).get(found.run_id, [])
        candidates = sorted(inputs, key=lambda item: item.context not in _TRAINING_CONTEXTS)
        reasons = []
        for candidate in candidates:
            label = f"{candidate.version.dataset_name}@{candidate.version.digest[:12]}"
            try:
                frame = read_version(candidate.version, label)
            except InvalidArgument as why:
                reasons.append(why.message)
                continue
            columns = {str(name): frame[name].to_numpy() for name in frame.columns}
            chosen = columns if features is None else {name: columns[name] for name in features if name in columns}
            source = f"dataset {label} ({candidate.context or 'input'} of run {found.run_id})"
            return Reference.build(chosen), source
        detail = "; ".join(reasons) if reasons else "its run logged no dataset"
        raise InvalidArgument(
            f"no readable training data for {model_name} version {version} ({detail}): pass a reference",
            field="reference",
        )

    def _rules(self, rules: list[Any]) -> list[dict[str, Any]]:
        from ridgeline.services.monitoring.alerts import check_rules

        return check_rules(rules)

    def _channels(self, channels: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from ridgeline.services.monitoring.alerts import check_channels

        return check_channels(channels)

    # ingestion -----------------------------------------------------------------------------------------------

    def log_predictions(self, name: str, batch: PredictionBatch) -> ingest.Ingested:
        return ingest.predictions(self, self.get(name), batch)

    def log_actuals(
        self, name: str, ids: Sequence[Any], values: Sequence[Any], timestamps: Sequence[Any] | None = None
    ) -> ingest.Labelled:
        return ingest.actuals(self, self.get(name), ids, values, timestamps)

    def ingest_prediction_log(self, folder: str) -> dict[str, int]:
        """Read ``ridgeline serve``'s Parquet files not read before into every monitor of their model."""
        return ingest.prediction_log(self, folder)

    def run_pass(self, folder: str) -> dict[str, int]:
        """One monitoring pass over every workspace: the prediction log into the monitors, then every monitor's
        alert rules."""
        counts = self.ingest_prediction_log(folder)
        for workspace_id, monitor in self.store.monitors.everywhere():
            with in_workspace(workspace_id):
                self.evaluate_alerts(monitor.name)
        return counts

    def evaluate_alerts(self, name: str) -> list[Alert]:
        """Run the monitor's rules over its recent windows; returns the alerts raised, renotified or resolved."""
        from ridgeline.services.monitoring.alerts import evaluate

        return evaluate(self, self.get(name))

    # reading -------------------------------------------------------------------------------------------------

    def report(
        self,
        name: str,
        *,
        start: int | None = None,
        end: int | None = None,
        segment: str | None = None,
        period: int | None = None,
    ) -> list[dict[str, Any]]:
        monitor = self.get(name)
        return reports.rows(
            self.store, monitor, start=start, end=end, segment=segment, period=period, cache=self.report_cache
        )

    def distribution(
        self, name: str, feature: str, window_start: int, *, segment: str = "", period: int | None = None
    ) -> dict[str, Any]:
        return reports.distribution(self.store, self.get(name), feature, window_start, segment, period)

    def latest_window(self, name: str) -> int | None:
        """The start of the monitor's newest window (epoch ms), None before its first event."""
        return self.store.monitors.latest_window(self.get(name).id)

    def segments(self, name: str) -> list[str]:
        return self.store.monitors.segments(self.get(name).id)

    def alerts(self, name: str | None = None, *, status: str | None = None, limit: int = 200) -> list[Alert]:
        monitor_id = None if name is None else self.get(name).id
        return self.store.monitors.alerts(monitor_id, status=status, limit=limit)


def _only(reference: Reference, features: list[str]) -> Reference:
    """The reference's named features, plus the prediction's when it has one."""
    keep = [*features, PREDICTION]
    return Reference({name: reference.features[name] for name in keep if name in reference.features})
