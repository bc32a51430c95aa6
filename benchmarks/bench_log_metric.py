"""1. The log_metric hot path: what a training loop pays per `log_metric` call.

Ours: `run.log_metric` against the embedded store (a data folder) and against `ridgeline server`,
timed in batches of 100 calls; `run.finish()` (the drain) is timed separately.
MLflow: `mlflow.log_metric` to `mlflow server`, synchronous (each call is an HTTP round trip, so
fewer calls) and asynchronous (`synchronous=False`), then `flush_async_logging()` + `end_run()`.
"""

from __future__ import annotations

import time
from typing import Any

from _harness import Context, Figures, Outcome, Params, Report, Row, error_notes, scaled, scratch, time_loop

NAME = "log_metric"
TITLE = "log_metric hot path"

TARGET_US = 5.0
TARGET_VS_SYNC = 1000.0
TARGET_VS_ASYNC = 100.0


# --------------------------------------------------------------------------- sides (run in a worker)


def _finish_figures(figures: Figures, t_loop_start: float, drain_s: float) -> Figures:
    figures["drain_s"] = drain_s
    figures["end_to_end_us_per_point"] = (time.perf_counter() - t_loop_start) / figures["calls"] * 1e6
    return figures


def ours_loop(p: Params) -> Figures:
    import ridgeline

    run = ridgeline.start_run(project="bench", tracking_uri=p["uri"])
    log = run.log_metric
    t_start = time.perf_counter()
    figures = time_loop(lambda i: log("loss", float(i), step=i), p["n"], p["batch"])
    t0 = time.perf_counter()
    run.finish()
    return _finish_figures(figures, t_start, time.perf_counter() - t0)


def ours_loop_http(p: Params) -> Figures:
    """`ours_loop` against the server the orchestrator started (its URL arrives as `url`)."""
    return ours_loop({**p, "uri": p["url"]})


def mlflow_loop(p: Params) -> Figures:
    import mlflow

    mlflow.set_tracking_uri(p["url"])
    mlflow.set_experiment("bench")
    sync: bool = p["synchronous"]
    mlflow.start_run()
    try:
        log = mlflow.log_metric
        t_start = time.perf_counter()
        figures = time_loop(lambda i: log("loss", float(i), step=i, synchronous=sync), p["n"], p["batch"])
        t0 = time.perf_counter()
        if not sync:
            mlflow.flush_async_logging()
    finally:
        mlflow.end_run()
    return _finish_figures(figures, t_start, time.perf_counter() - t0)


# --------------------------------------------------------------------------- orchestration


def run(ctx: Context) -> Report:
    params: dict[str, Any] = {
        "ours_n": scaled(100_000, 10_000, ctx.quick),
        "mlflow_sync_n": scaled(300, 100, ctx.quick),
        "mlflow_async_n": scaled(5_000, 2_000, ctx.quick),
    }
    mod = __name__
    with scratch("log-metric-embedded") as home:
        embedded = ctx.ours(mod, "ours_loop", {"uri": str(home), "n": params["ours_n"], "batch": 100})
    with scratch("log-metric-home") as home:
        served = ctx.ours_served(home, mod, "ours_loop_http", {"n": params["ours_n"], "batch": 100})
    sync = ctx.peer_served(None, mod, "mlflow_loop", {"n": params["mlflow_sync_n"], "batch": 1, "synchronous": True})
    async_ = ctx.peer_served(
        None, mod, "mlflow_loop", {"n": params["mlflow_async_n"], "batch": 10, "synchronous": False}
    )

    rows: list[Row] = []
    for ours_label, ours in (("embedded", embedded), ("HTTP", served)):
        for theirs_label, theirs, min_ratio in (
            ("sync", sync, TARGET_VS_SYNC),
            ("async", async_, TARGET_VS_ASYNC),
        ):
            rows.append(
                Row(
                    NAME,
                    f"median per call, ours {ours_label} vs MLflow {theirs_label}",
                    "µs",
                    ours.get("median_us"),
                    theirs.get("median_us"),
                    target_value=TARGET_US,
                    target_ratio=min_ratio,
                    ours_label=ours_label,
                    theirs_label=theirs_label,
                    notes=error_notes(ours=ours, mlflow=theirs),
                )
            )
        rows.append(
            Row(
                NAME,
                f"loop + drain per point, ours {ours_label} vs MLflow async",
                "µs",
                ours.get("end_to_end_us_per_point"),
                async_.get("end_to_end_us_per_point"),
                ours_label=ours_label,
                theirs_label="async",
                notes=[
                    f"drain (finish / flush+end_run): ours {ours_label} {_secs(ours)} for {params['ours_n']:,} points, "
                    f"MLflow {_secs(async_)} for {params['mlflow_async_n']:,} points"
                ],
            )
        )
    raw = {"ours_embedded": embedded, "ours_http": served, "mlflow_sync": sync, "mlflow_async": async_}
    return Report(rows, raw, params)


def _secs(outcome: Outcome) -> str:
    value = outcome.get("drain_s")
    return "—" if value is None else f"{value:.2f} s"
