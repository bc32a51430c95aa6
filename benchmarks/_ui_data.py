"""The data of the UI benchmark (bench_ui.py): the same runs on both sides, written straight into each side's
database, and built once per size under `benchmarks/.work/cache/`.

The populate functions run in a worker (`_worker.py`): `mlflow_populate` with MLflow's venv, `ours_populate`
with the project venv, so this module imports neither package at module level.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from _harness import (
    CACHE_DIR,
    ROOT,
    Context,
    Figures,
    Outcome,
    Params,
    installed_version,
    load_json,
    ours_python,
    save_json,
    scaled,
)

SEED = 20240611
N_PARAMS = 5
N_METRICS = 5
TABLE_PROJECT = "ui-table"
RUN_PROJECT = "ui-run"
COMPARE_PROJECT = "ui-compare"
BASE_TIME_MS = 1_767_225_600_000  # 2026-01-01: fixed, so both sides and every cache build hold the same data


def data_sizes(quick: bool) -> dict[str, int]:
    return {
        "table_runs": scaled(10_000, 1_000, quick),
        "history_metrics": 20,
        "history_steps": scaled(100_000, 10_000, quick),
        "compare_runs": 20,
        "compare_steps": scaled(1_000, 200, quick),
    }


# --------------------------------------------------------------------------- the data (same on both sides)


def table_runs(n: int) -> Iterator[tuple[str, dict[str, str], dict[str, float]]]:
    """n runs: a name, params p0..p4 in v0..v9, metrics m0..m4 in [0, 1) (one point each, step 0)."""
    rng = random.Random(SEED)
    for i in range(n):
        params = {f"p{j}": f"v{rng.randrange(10)}" for j in range(N_PARAMS)}
        metrics = {f"m{j}": rng.random() for j in range(N_METRICS)}
        yield f"run-{i:05d}", params, metrics


def curve(index: int, steps: int) -> list[float]:
    """A training-loss-like curve (decay plus a wiggle), different for each metric index."""
    scale = 1.0 + index / 10
    tau = steps / (3 + index % 5)
    return [scale * math.exp(-s / tau) + 0.05 * math.sin(s / 37 + index) for s in range(steps)]


def history_keys(n: int) -> list[str]:
    return [f"metric_{k:02d}" for k in range(n)]


def compare_keys() -> list[str]:
    return ["loss", "val_loss", "accuracy", "val_accuracy", "lr"]


def compare_curve(run: int, key: int, steps: int) -> list[float]:
    return curve(run * len(compare_keys()) + key, steps)


def compare_name(run: int) -> str:
    return f"cmp-{run:02d}"


# --------------------------------------------------------------------------- populate (run in a worker)


def mlflow_populate(p: Params) -> Figures:
    """MLflow venv: let MlflowClient create the schema and the experiments, then insert rows with SQL."""
    import sqlite3
    import uuid

    from mlflow import MlflowClient

    t0 = time.perf_counter()
    db = Path(p["db"])
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    experiments = {name: client.create_experiment(name) for name in (TABLE_PROJECT, RUN_PROJECT, COMPARE_PROJECT)}
    for experiment_id in experiments.values():
        # Marks a model-training experiment, so MLflow 3's UI shows runs rather than its GenAI overview.
        client.set_experiment_tag(experiment_id, "mlflow.experimentKind", "custom_model_development")
    conn = sqlite3.connect(db)
    locations = dict(conn.execute("SELECT experiment_id, artifact_location FROM experiments").fetchall())

    def add_run(experiment: str, name: str, start: int, params: dict[str, str]) -> str:
        run_id = uuid.uuid4().hex
        conn.execute(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status,"
            " start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id)"
            " VALUES (?, ?, 'LOCAL', '', '', 'bench', 'FINISHED', ?, ?, '', 'active', ?, ?)",
            (run_id, name, start, start + 60_000, f"{locations[int(experiment)]}/{run_id}/artifacts", int(experiment)),
        )
        conn.executemany(
            "INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
            [("mlflow.runName", name, run_id), ("mlflow.user", "bench", run_id)],
        )
        conn.executemany(
            "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", [(k, v, run_id) for k, v in params.items()]
        )
        return run_id

    def add_metric(run_id: str, key: str, values: list[float], start: int) -> None:
        conn.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, 0)",
            ((key, v, start + s, run_id, s) for s, v in enumerate(values)),
        )
        last = len(values) - 1
        conn.execute(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, 0, ?)",
            (key, values[last], start + last, last, run_id),
        )

    with conn:
        for i, (name, params, metrics) in enumerate(table_runs(p["table_runs"])):
            start = BASE_TIME_MS + i * 1000
            run_id = add_run(experiments[TABLE_PROJECT], name, start, params)
            for key, value in metrics.items():
                add_metric(run_id, key, [value], start)
        history_run = add_run(experiments[RUN_PROJECT], "curves", BASE_TIME_MS, {"steps": str(p["history_steps"])})
        for k, key in enumerate(history_keys(p["history_metrics"])):
            add_metric(history_run, key, curve(k, p["history_steps"]), BASE_TIME_MS)
        compare_runs = []
        for r in range(p["compare_runs"]):
            start = BASE_TIME_MS + r * 1000
            run_id = add_run(experiments[COMPARE_PROJECT], compare_name(r), start, {"lr": f"{0.001 * (r + 1):g}"})
            for k, key in enumerate(compare_keys()):
                add_metric(run_id, key, compare_curve(r, k, p["compare_steps"]), start)
            compare_runs.append(run_id)
    conn.execute("ANALYZE")
    conn.close()
    return {
        "experiments": experiments,
        "history_run": history_run,
        "compare_runs": compare_runs,
        "populate_s": time.perf_counter() - t0,
    }


def ours_populate(p: Params) -> Figures:
    """Project venv: fill a data folder through the embedded tracking service (no server, no SDK batching)."""
    from ridgeline.domain.entities import LogBatch, MetricSeries
    from ridgeline.domain.ids import new_id
    from ridgeline.services.tracking import RunSpec, TrackingService
    from ridgeline.store.metadata import MetadataStore

    t0 = time.perf_counter()
    home = Path(p["home"])
    home.mkdir(parents=True, exist_ok=True)
    store = MetadataStore(f"sqlite:///{home / 'ridgeline.db'}")
    service = TrackingService(store)

    def add_run(project_id: str, name: str, start: int, params: dict[str, str], series: list[MetricSeries]) -> str:
        run = service.create_run(RunSpec(project_id=project_id, name=name, start_time=start), params=params)
        service.log_batch(run.id, LogBatch(batch_id=new_id(), metrics=series))
        service.finish_run(run.id, end_time=start + 60_000)
        return run.id

    def series(key: str, values: list[float], start: int) -> MetricSeries:
        steps = range(len(values))
        return MetricSeries(key, steps, values, [start + s for s in steps])

    table = service.create_project(TABLE_PROJECT).id
    for i, (name, params, metrics) in enumerate(table_runs(p["table_runs"])):
        start = BASE_TIME_MS + i * 1000
        add_run(table, name, start, params, [series(k, [v], start) for k, v in metrics.items()])
    history_run = add_run(
        service.create_project(RUN_PROJECT).id,
        "curves",
        BASE_TIME_MS,
        {"steps": str(p["history_steps"])},
        [
            series(key, curve(k, p["history_steps"]), BASE_TIME_MS)
            for k, key in enumerate(history_keys(p["history_metrics"]))
        ],
    )
    compare = service.create_project(COMPARE_PROJECT).id
    compare_runs = []
    for r in range(p["compare_runs"]):
        start = BASE_TIME_MS + r * 1000
        curves = [series(key, compare_curve(r, k, p["compare_steps"]), start) for k, key in enumerate(compare_keys())]
        compare_runs.append(add_run(compare, compare_name(r), start, {"lr": f"{0.001 * (r + 1):g}"}, curves))
    store.refresh_statistics()
    store.close()
    return {
        "projects": {TABLE_PROJECT: table, COMPARE_PROJECT: compare},
        "history_run": history_run,
        "compare_runs": compare_runs,
        "populate_s": time.perf_counter() - t0,
    }


# --------------------------------------------------------------------------- the cached copies


def _ours_cache_key(sizes: Params) -> str:
    """Sizes plus everything that shapes the stored data: the store's code (schema, migrations, block format)."""
    digest = hashlib.sha256(json.dumps([installed_version(ours_python(), "ridgeline"), dict(sizes)]).encode())
    store = ROOT / "src" / "ridgeline" / "store"
    for path in sorted(store.rglob("*.py")):
        digest.update(path.relative_to(store).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def prepare_ours(ctx: Context, sizes: Params) -> Outcome:
    """A Ridgeline data folder holding the three data sets, built once per size and store version."""
    if ctx.skip_ours:
        return Outcome(error="skipped (--skip-ours)")
    home = CACHE_DIR / f"ui-ridgeline-{_ours_cache_key(sizes)}"
    meta = home.with_suffix(".json")
    if home.is_dir() and meta.exists():
        ctx.log(f"  ours   {__name__}.ours_populate (cached {home.relative_to(ROOT)})")
        return Outcome(figures={**load_json(meta), "home": str(home)}, cached=True)
    building = home.with_suffix(".building")
    shutil.rmtree(building, ignore_errors=True)
    ctx.log(f"  ours   building {home.relative_to(ROOT)} (cached for later runs)")
    outcome = ctx.ours(__name__, "ours_populate", {**sizes, "home": str(building)}, timeout=1800)
    if outcome.error is not None:
        shutil.rmtree(building, ignore_errors=True)
        return outcome
    # The store's code changes often during development: drop folders built earlier at these sizes.
    for old in CACHE_DIR.glob("ui-ridgeline-*.json"):
        if load_json(old).get("sizes") == dict(sizes):
            shutil.rmtree(old.with_suffix(""), ignore_errors=True)
            old.unlink(missing_ok=True)
    building.replace(home)
    save_json(meta, {**outcome.figures, "sizes": dict(sizes)})
    outcome.figures["home"] = str(home)
    return outcome


def prepare_mlflow(ctx: Context, sizes: Params) -> Outcome:
    """An MLflow SQLite db holding the same three data sets, built once per size and MLflow version."""
    return ctx.peer_fixture("mlflow-ui", __name__, "mlflow_populate", sizes)
