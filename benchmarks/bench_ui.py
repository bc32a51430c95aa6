"""6. Web UI: how long a user waits for a page, measured in a real browser (Playwright + Chromium).

Both sides get the same data, written straight into each side's database (the SDKs would take minutes
for millions of points, and loading is not what is measured): Ridgeline through its embedded store
(`TrackingService` on a SQLite file), MLflow with plain SQL into the schema `MlflowClient` creates.
Both databases are cached under `benchmarks/.work/cache/` by size (and schema), and copied for each
server start. Then `ridgeline server` and `mlflow server` serve them on loopback, and one headless
Chromium opens each page:

- runs table: a project/experiment of 10,000 runs (5 params, 5 metrics each), until the first page of
  rows is in the table;
- run page: one run with 20 metrics of 100,000 steps, until all 20 charts are drawn;
- compare: 20 runs × 5 metrics, until the compare page is ready.

The clock is the page's own: `performance.now()` (ms since navigation start) in the first animation
frame in which the ready condition holds, checked every frame by a script Playwright adds to each new
document. Each page is opened once in a fresh browser context (cold: nothing cached), then several
times more in the same context (warm: static assets cached, as for a user clicking around), going
through `about:blank` in between so every open is a full navigation.
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
from typing import Any

from _harness import (
    CACHE_DIR,
    ROOT,
    Context,
    Figures,
    Params,
    load_json,
    save_json,
)

NAME = "ui"
TITLE = "web UI page loads (Playwright)"

SEED = 20240611
N_PARAMS = 5
N_METRICS = 5
TABLE_PROJECT = "ui-table"
RUN_PROJECT = "ui-run"
COMPARE_PROJECT = "ui-compare"
BASE_TIME_MS = 1_767_225_600_000  # 2026-01-01: fixed, so both sides and every cache build hold the same data


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
            run_id = add_run(experiments[COMPARE_PROJECT], f"cmp-{r:02d}", start, {"lr": f"{0.001 * (r + 1):g}"})
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
        [series(key, curve(k, p["history_steps"]), BASE_TIME_MS) for k, key in enumerate(history_keys(p["history_metrics"]))],
    )
    compare = service.create_project(COMPARE_PROJECT).id
    compare_runs = []
    for r in range(p["compare_runs"]):
        start = BASE_TIME_MS + r * 1000
        metrics = [series(key, compare_curve(r, k, p["compare_steps"]), start) for k, key in enumerate(compare_keys())]
        compare_runs.append(add_run(compare, f"cmp-{r:02d}", start, {"lr": f"{0.001 * (r + 1):g}"}, metrics))
    store.refresh_statistics()
    store.close()
    return {
        "projects": {TABLE_PROJECT: table, COMPARE_PROJECT: compare},
        "history_run": history_run,
        "compare_runs": compare_runs,
        "populate_s": time.perf_counter() - t0,
    }
