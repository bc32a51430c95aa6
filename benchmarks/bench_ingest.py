"""2. Ingest throughput: points per second from one client until they are all queryable.

Ours: `run.log_metric` over N steps into the embedded store, `run.finish()`, then
`Client.get_metric_history` must return all N points; the clock covers all three.
MLflow: `MlflowClient.log_batch` with 1000 points per call to `mlflow server` (capped, it is slow).
`log_batch` is synchronous, so the points are queryable when the last call returns and the clock
stops there; the history check runs after the clock (this favours MLflow).
"""

from __future__ import annotations

import time
from typing import Any

from _harness import (
    SERIES_KEY,
    Context,
    Figures,
    Params,
    Report,
    Row,
    check_len,
    error_notes,
    log_series_mlflow,
    log_series_ours,
    scaled,
    scratch,
)

NAME = "ingest"
TITLE = "ingest throughput"

TARGET_POINTS_PER_S = 500_000.0
TARGET_RATIO = 100.0


def ours_ingest(p: Params) -> Figures:
    import ridgeline

    n: int = p["n"]
    run = ridgeline.start_run(project="bench", tracking_uri=p["home"])
    t0 = time.perf_counter()
    log_series_ours(run, n)
    t_logged = time.perf_counter()
    run.finish()
    t_finished = time.perf_counter()
    history = ridgeline.Client(tracking_uri=p["home"]).get_metric_history(run.id, SERIES_KEY)
    check_len(history, n, "ridgeline metric history")
    t_end = time.perf_counter()
    return {
        "points": n,
        "points_per_s": n / (t_end - t0),
        "log_s": t_logged - t0,
        "finish_s": t_finished - t_logged,
        "verify_s": t_end - t_finished,
    }


def mlflow_ingest(p: Params) -> Figures:
    from mlflow import MlflowClient

    n: int = p["n"]
    client = MlflowClient(tracking_uri=p["url"])
    run_id = client.create_run(client.create_experiment("bench")).info.run_id
    t0 = time.perf_counter()
    log_series_mlflow(client, run_id, n)
    t_logged = time.perf_counter()
    check_len(client.get_metric_history(run_id, SERIES_KEY), n, "mlflow metric history")
    client.set_terminated(run_id)
    return {
        "points": n,
        "points_per_s": n / (t_logged - t0),
        "log_s": t_logged - t0,
        "verify_s": time.perf_counter() - t_logged,
    }


def run(ctx: Context) -> Report:
    params: dict[str, Any] = {
        "ours_points": scaled(1_000_000, 100_000, ctx.quick),
        "mlflow_points": scaled(50_000, 10_000, ctx.quick),
    }
    with scratch("ingest-home") as home:
        ours = ctx.ours(__name__, "ours_ingest", {"home": str(home), "n": params["ours_points"]})
    theirs = ctx.peer_served(None, __name__, "mlflow_ingest", {"n": params["mlflow_points"]})
    row = Row(
        NAME,
        "points/s until queryable, one client (ours embedded, MLflow server)",
        "points/s",
        ours.get("points_per_s"),
        theirs.get("points_per_s"),
        better="higher",
        target_value=TARGET_POINTS_PER_S,
        target_ratio=TARGET_RATIO,
        notes=[
            f"ours {params['ours_points']:,} points, MLflow {params['mlflow_points']:,} points (log_batch x 1000)",
            *error_notes(ours=ours, mlflow=theirs),
        ],
    )
    return Report([row], {"ours": ours, "mlflow": theirs}, params)
