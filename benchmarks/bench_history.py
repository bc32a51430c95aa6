"""4. Metric history: one metric with many steps, fetched whole and as a 1,000-point view.

Ours: populated with the SDK into a data folder, served by `ridgeline server`; the client fetches
`get_metric_history(run_id, "loss")` and `get_metric_history(run_id, "loss", points=1000)`.
MLflow at the same length: populated through a local sqlite URI (cached), served by
`mlflow server`; `MlflowClient.get_metric_history` for the whole series, and for the view the
sampled endpoint its own UI charts use (`/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval`
with `max_results=1000`).
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from pathlib import Path
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
    repeat,
    scaled,
    scratch,
)

NAME = "history"
TITLE = "metric history"

VIEW_POINTS = 1000
TARGET_FULL_MS = 300.0
TARGET_VIEW_MS = 30.0
TARGET_RATIO = 100.0


def _check_view(value: Any) -> int:
    got = len(value)
    if not 0 < got <= VIEW_POINTS:
        raise AssertionError(f"downsampled view: expected 1..{VIEW_POINTS} points, got {got}")
    return got


def _measure(full: Any, view: Any, p: Params) -> Figures:
    """Time the whole-series fetch and the view fetch (callables returning sequences)."""
    n: int = p["n"]
    view_len = _check_view(view())
    figures = {
        "full": repeat(lambda: check_len(full(), n, "full history"), p["full_repeats"], budget_s=p["budget_s"]),
        "view": repeat(lambda: _check_view(view()), p["view_repeats"], budget_s=p["budget_s"], warmup=1),
    }
    return {
        "steps": n,
        "view_points": view_len,
        "full_median_s": figures["full"]["median_s"],
        "view_median_s": figures["view"]["median_s"],
        **figures,
    }


# --------------------------------------------------------------------------- sides (run in a worker)


def ours_populate(p: Params) -> Figures:
    import ridgeline

    t0 = time.perf_counter()
    run = ridgeline.start_run(project="bench", tracking_uri=p["home"])
    log_series_ours(run, p["n"])
    run.finish()
    return {"run_id": run.id, "populate_s": time.perf_counter() - t0}


def ours_query(p: Params) -> Figures:
    import ridgeline

    client = ridgeline.Client(tracking_uri=p["url"])
    run_id = p["run_id"]
    return _measure(
        lambda: client.get_metric_history(run_id, SERIES_KEY),
        lambda: client.get_metric_history(run_id, SERIES_KEY, points=VIEW_POINTS),
        p,
    )


def mlflow_populate(p: Params) -> Figures:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{p['db']}")
    t0 = time.perf_counter()
    run_id = client.create_run(client.create_experiment("bench")).info.run_id
    log_series_mlflow(client, run_id, p["n"])
    client.set_terminated(run_id)
    return {"run_id": run_id, "populate_s": time.perf_counter() - t0}


def mlflow_query(p: Params) -> Figures:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=p["url"])
    run_id = p["run_id"]
    query = urllib.parse.urlencode({"run_ids": run_id, "metric_key": SERIES_KEY, "max_results": VIEW_POINTS})
    view_url = f"{p['url']}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?{query}"

    def view() -> list[Any]:
        with urllib.request.urlopen(view_url, timeout=300) as resp:
            return list(json.loads(resp.read()).get("metrics", []))

    return _measure(lambda: client.get_metric_history(run_id, SERIES_KEY), view, p)


# --------------------------------------------------------------------------- orchestration


def run(ctx: Context) -> Report:
    n = scaled(1_000_000, 100_000, ctx.quick)
    params: dict[str, Any] = {"steps": n, "view_points": VIEW_POINTS}
    query = {"n": n, "view_repeats": 20, "budget_s": 60}
    with scratch("history-home") as home:
        ours_pop = ctx.ours(__name__, "ours_populate", {"home": str(home), "n": n}, timeout=1800)
        ours = ours_pop.then(
            lambda: ctx.ours_served(
                home,
                __name__,
                "ours_query",
                {**query, "full_repeats": 5, "run_id": ours_pop.figures["run_id"]},
            )
        )
    theirs_pop = ctx.peer_fixture("mlflow-history", __name__, "mlflow_populate", {"n": n})
    theirs = theirs_pop.then(
        lambda: ctx.peer_served(
            Path(theirs_pop.figures["db"]),
            __name__,
            "mlflow_query",
            {**query, "full_repeats": 3, "run_id": theirs_pop.figures["run_id"]},
            timeout=1800,
        )
    )
    notes = error_notes(ours=ours, mlflow=theirs)
    rows = [
        Row(
            NAME,
            f"full history, {n:,} steps, via server",
            "ms",
            ours.ms("full_median_s"),
            theirs.ms("full_median_s"),
            target_value=TARGET_FULL_MS,
            target_ratio=TARGET_RATIO,
            notes=notes,
        ),
        Row(
            NAME,
            f"{VIEW_POINTS:,}-point view of {n:,} steps, via server",
            "ms",
            ours.ms("view_median_s"),
            theirs.ms("view_median_s"),
            target_value=TARGET_VIEW_MS,
            target_ratio=TARGET_RATIO,
            notes=["MLflow: its UI's sampled endpoint get-history-bulk-interval, max_results=1000"],
        ),
    ]
    raw = {"ours_populate": ours_pop, "ours": ours, "mlflow_populate": theirs_pop, "mlflow": theirs}
    return Report(rows, raw, params)
