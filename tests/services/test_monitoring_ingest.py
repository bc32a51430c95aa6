"""The monitoring service over real stores (SQLite and PostgreSQL, local folder and S3 through moto): predictions
become window profiles that merge exactly whatever the batching and concurrency, late events land in their own
window, actuals join by id (late and missing ones too) and give scikit-learn's metrics, a moved alias starts a
new period, and ridgeline serve's prediction log is ingested once."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from artifacts.conftest import moto_endpoint, s3_uri  # noqa: F401 - fixtures used by the storage parameter
from ridgeline.domain.errors import InvalidArgument, NotFound
from ridgeline.monitoring.reference import Reference
from ridgeline.monitoring.window import WindowProfile
from ridgeline.services.monitoring.service import MonitoringService
from ridgeline.services.monitoring.spec import MonitorSpec, PredictionBatch
from ridgeline.services.registry import RegistryService, VersionSpec
from ridgeline.store import prediction_log
from ridgeline.store.artifacts.storage import open_storage
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.monitoring_events import MonitoringEvents

HOUR = 3_600_000
T0 = 1_790_000_000_000 - 1_790_000_000_000 % HOUR  # a window boundary


@pytest.fixture(params=["local", "s3"])
def events_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return str(tmp_path / "artifacts") if request.param == "local" else str(request.getfixturevalue("s3_uri"))


@pytest.fixture
def monitoring(store: MetadataStore, events_uri: str) -> MonitoringService:
    registry = RegistryService(store)
    registry.create_model("churn")
    for _ in range(2):
        registry.create_version("churn", VersionSpec(source="s3://bucket/model"))
    registry.set_alias("churn", "champion", 1)
    return MonitoringService(store, MonitoringEvents(open_storage(events_uri)))


def _reference(rows: int = 3000, seed: int = 0) -> dict[str, Any]:
    generator = np.random.default_rng(seed)
    return Reference.build(
        {
            "age": generator.normal(40, 10, rows),
            "plan": generator.choice(["basic", "pro"], rows),
            "prediction": generator.integers(0, 2, rows),
        }
    ).to_json()


def _create(monitoring: MonitoringService, **extra: Any) -> str:
    spec = MonitorSpec(model="churn@champion", reference=_reference(), window="1h", **extra)
    return monitoring.create(spec).name


def _batch(rows: int, start: int, *, seed: int = 1, prefix: str = "p", shift: float = 0.0) -> PredictionBatch:
    generator = np.random.default_rng(seed)
    return PredictionBatch(
        inputs={
            "age": (generator.normal(40 + shift, 10, rows)).tolist(),
            "plan": generator.choice(["basic", "pro"], rows).tolist(),
        },
        predictions=generator.integers(0, 2, rows).tolist(),
        ids=[f"{prefix}{index}" for index in range(rows)],
        timestamps=[start + index * 1000 for index in range(rows)],
        scores=generator.random(rows).tolist(),
        tags={"country": generator.choice(["IT", "FR"], rows).tolist()},
    )


def _same(got: Any, want: Any) -> bool:
    """Equal JSON, floats to rounding (sums accumulate in another order across batches)."""
    if isinstance(want, dict):
        return isinstance(got, dict) and got.keys() == want.keys() and all(_same(got[k], want[k]) for k in want)
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(_same, got, want))
    if isinstance(want, float):
        return bool(got == pytest.approx(want, rel=1e-9, abs=1e-9))
    return bool(got == want)


def _dataset_rows(monitoring: MonitoringService, name: str, **filters: Any) -> list[dict[str, Any]]:
    return [row for row in monitoring.report(name, **filters) if row["feature"] == "*"]


def test_profiles_merge_exactly_across_batches_and_writers(monitoring: MonitoringService) -> None:
    name = _create(monitoring, segment_by=["country"])
    whole = _batch(1200, T0)
    parts = [
        PredictionBatch(
            inputs={key: values[start : start + 300] for key, values in whole.inputs.items()},
            predictions=list(whole.predictions[start : start + 300]),
            ids=list(whole.ids[start : start + 300]) if whole.ids else None,
            timestamps=list(whole.timestamps[start : start + 300]) if whole.timestamps else None,
            tags={key: values[start : start + 300] for key, values in (whole.tags or {}).items()},
        )
        for start in range(0, 1200, 300)
    ]
    failures: list[BaseException] = []

    def send(part: PredictionBatch) -> None:
        try:
            monitoring.log_predictions(name, part)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=send, args=(part,)) for part in parts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    monitor = monitoring.get(name)
    stored = {(row.window_start, row.segment): row for row in monitoring.store.monitors.windows(monitor.id)}
    reference = Reference.from_json(monitoring.periods(name)[0].reference)
    columns = {"age": np.asarray(whole.inputs["age"]), "plan": np.asarray(whole.inputs["plan"])}
    columns["prediction"] = np.asarray(whole.predictions)
    single = WindowProfile.of(reference, columns)
    assert stored[(T0, "")].rows == 1200
    assert _same(WindowProfile.from_json(stored[(T0, "")].profile).to_json(), single.to_json())
    countries = np.asarray((whole.tags or {})["country"])
    for country in ("IT", "FR"):
        mask = countries == country
        expected = WindowProfile.of(reference, {key: values[mask] for key, values in columns.items()})
        got = WindowProfile.from_json(stored[(T0, f"country={country}")].profile)
        assert _same(got.to_json(), expected.to_json())


def test_late_events_land_in_their_own_window(monitoring: MonitoringService) -> None:
    name = _create(monitoring)
    monitoring.log_predictions(name, _batch(100, T0 + 2 * HOUR, prefix="now"))
    monitoring.log_predictions(name, _batch(50, T0, prefix="late", seed=2))
    windows = {row["window_start"]: row["rows"] for row in _dataset_rows(monitoring, name)}
    assert windows == {T0: 50, T0 + 2 * HOUR: 100}


def test_actuals_join_by_id_late_and_missing_and_match_scikit_learn(monitoring: MonitoringService) -> None:
    name = _create(monitoring, task="classification")
    batch = _batch(600, T0, seed=3)
    monitoring.log_predictions(name, batch)
    assert batch.ids is not None and batch.scores is not None
    truth = np.random.default_rng(4).integers(0, 2, 600)
    labelled = list(range(0, 600, 3))  # two thirds never get an actual
    first, late = labelled[:100], labelled[100:]
    done = monitoring.log_actuals(name, [batch.ids[i] for i in first], truth[first].tolist())
    assert (done.rows, done.matched, done.windows) == (100, 100, 1)
    monitoring.log_actuals(name, [batch.ids[i] for i in late], truth[late].tolist(), [T0 + 9 * HOUR] * len(late))
    unknown = monitoring.log_actuals(name, ["never-predicted"], [1])
    assert (unknown.matched, unknown.windows) == (0, 0)
    [row] = _dataset_rows(monitoring, name)
    predicted = np.asarray(batch.predictions)[labelled]
    scores = np.asarray(batch.scores)[labelled]
    assert row["labelled_rows"] == len(labelled)
    assert row["accuracy"] == pytest.approx(skm.accuracy_score(truth[labelled], predicted))
    assert row["precision"] == pytest.approx(skm.precision_score(truth[labelled], predicted))
    assert row["recall"] == pytest.approx(skm.recall_score(truth[labelled], predicted))
    assert row["f1"] == pytest.approx(skm.f1_score(truth[labelled], predicted))
    assert row["roc_auc"] == pytest.approx(skm.roc_auc_score(truth[labelled], scores))
    assert row["log_loss"] == pytest.approx(skm.log_loss(truth[labelled], scores))


def test_regression_performance_matches_scikit_learn(store: MetadataStore, tmp_path: Path) -> None:
    registry = RegistryService(store)
    registry.create_model("price")
    registry.create_version("price", VersionSpec(source="s3://bucket/model"))
    monitoring = MonitoringService(store, MonitoringEvents(open_storage(str(tmp_path / "art"))))
    generator = np.random.default_rng(5)
    reference = Reference.build({"size": generator.normal(size=500), "prediction": generator.normal(size=500)})
    name = monitoring.create(MonitorSpec(model="price/1", reference=reference.to_json(), window="1d")).name
    predicted = generator.normal(100, 10, 300)
    truth = predicted + generator.normal(0, 5, 300)
    ids = [f"r{index}" for index in range(300)]
    batch = PredictionBatch(
        inputs={"size": generator.normal(size=300).tolist()},
        predictions=predicted.tolist(),
        ids=ids,
        timestamps=[T0] * 300,
    )
    monitoring.log_predictions(name, batch)
    monitoring.log_actuals(name, ids, truth.tolist())
    [row] = _dataset_rows(monitoring, name)
    assert row["task"] == "regression"
    assert row["mae"] == pytest.approx(skm.mean_absolute_error(truth, predicted))
    assert row["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(truth, predicted)))
    assert row["mape"] == pytest.approx(skm.mean_absolute_percentage_error(truth, predicted))
    assert row["r2"] == pytest.approx(skm.r2_score(truth, predicted))


def test_a_moved_alias_starts_a_new_period(monitoring: MonitoringService) -> None:
    name = _create(monitoring)
    monitoring.log_predictions(name, _batch(100, T0))
    RegistryService(monitoring.store).set_alias("churn", "champion", 2)
    monitoring.log_predictions(name, _batch(100, T0 + HOUR, prefix="v2"))
    periods = monitoring.periods(name)
    assert [(period.number, period.model_version) for period in periods] == [(1, 1), (2, 2)]
    # Version 2 has no run and so no training data: its period keeps the reference, and says so.
    assert "kept from period 1" in periods[1].reference_source
    by_period = {(row["period"], row["model_version"]) for row in _dataset_rows(monitoring, name)}
    assert by_period == {(1, 1), (2, 2)}
    assert [row["rows"] for row in _dataset_rows(monitoring, name, period=2)] == [100]


def test_the_prediction_log_is_ingested_once(monitoring: MonitoringService, tmp_path: Path) -> None:
    name = _create(monitoring)
    folder = tmp_path / "predictions"
    rows = [
        {
            "request_id": f"req{index}",
            "row": 0,
            "timestamp": T0 + index,
            "model": "churn",
            "version": 1,
            "role": role,
            "latency_ms": 0.5,
            "inputs": f'{{"age": {30 + index}, "plan": "pro"}}',
            "output": "1",
            "error": None,
        }
        for index, role in enumerate(["primary"] * 5 + ["canary", "shadow"])
    ]
    prediction_log.write(folder, rows, "writer")
    assert monitoring.ingest_prediction_log(str(folder)) == {name: 5}  # the canary's and shadow's are not the alias'
    assert monitoring.ingest_prediction_log(str(folder)) == {}
    monitoring.log_actuals(name, ["req0", "req1"], [1, 0])
    [row] = _dataset_rows(monitoring, name)
    assert (row["rows"], row["labelled_rows"], row["accuracy"]) == (5, 2, 0.5)


def test_bad_input_is_refused_and_nothing_is_counted(monitoring: MonitoringService) -> None:
    name = _create(monitoring)
    cases = [
        PredictionBatch(inputs={"age": [1.0, 2.0]}, predictions=[1]),
        PredictionBatch(inputs={"age": [1.0]}, predictions=[1], ids=["a", "b"]),
        PredictionBatch(inputs={"age": [1.0]}, predictions=[1], timestamps=[-5]),
        PredictionBatch(inputs={"age": [1.0]}, predictions=[1], ids=[""]),
        PredictionBatch(inputs={"age": []}, predictions=[]),
    ]
    for batch in cases:
        with pytest.raises(InvalidArgument):
            monitoring.log_predictions(name, batch)
    assert monitoring.report(name) == []
    with pytest.raises(InvalidArgument):
        monitoring.log_actuals(name, ["a", "b"], [1])
    with pytest.raises(NotFound):
        monitoring.log_predictions("nope", _batch(1, T0))
    for spec in (
        MonitorSpec(model="churn@champion", reference=_reference(), window="1 fortnight"),
        MonitorSpec(model="churn@nobody", reference=_reference()),
        MonitorSpec(model="ghost@champion", reference=_reference()),
        MonitorSpec(model="churn", reference=_reference()),
        MonitorSpec(model="churn@champion", reference={"format": 1, "features": {"x": {"kind": "??"}}}),
        MonitorSpec(model="churn@champion", reference=_reference(), features=["height"]),
        MonitorSpec(model="churn@champion", reference=_reference(), task="ranking"),
        MonitorSpec(model="churn@champion", reference=None),  # version 1 has no run: no training data
    ):
        with pytest.raises((InvalidArgument, NotFound)):
            monitoring.create(spec)
