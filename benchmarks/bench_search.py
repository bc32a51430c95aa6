"""3. Search: a filtered, ordered first page over many runs in one project, through the server.

Both sides get the same generated runs (20 params, 10 metrics each, fixed seed) and the same
query: `metrics.m0 > 0.5 and params.p1 = 'v3'`, ordered by `metrics.m1` descending, first 100.
Ours is populated with the SDK into a data folder, then `ridgeline server` serves that folder.
MLflow is populated through a local sqlite tracking URI (cached; it takes minutes), then
`mlflow server` serves that db. Each side's first page is checked against the expected runs.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _harness import Context, Figures, Outcome, Params, Report, Row, error_notes, repeat, scaled, scratch

NAME = "search"
TITLE = "search runs"

FILTER = "metrics.m0 > 0.5 and params.p1 = 'v3'"
ORDER_KEY = "m1"
PAGE = 100
N_PARAMS = 20
N_METRICS = 10
SEED = 20240501
TARGET_MS = 50.0
TARGET_RATIO = 10.0


def make_runs(n: int) -> Iterator[tuple[dict[str, str], dict[str, float]]]:
    """The same n runs on both sides: params p0..p19 in v0..v9, metrics m0..m9 in [0, 1)."""
    rng = random.Random(SEED)
    for _ in range(n):
        params = {f"p{j}": f"v{rng.randrange(10)}" for j in range(N_PARAMS)}
        metrics = {f"m{j}": rng.random() for j in range(N_METRICS)}
        yield params, metrics


def expected_page(n: int) -> list[float]:
    """The `m1` values of the first page the query must return, in order."""
    hits = [m["m1"] for p, m in make_runs(n) if m["m0"] > 0.5 and p["p1"] == "v3"]
    return sorted(hits, reverse=True)[:PAGE]


# --------------------------------------------------------------------------- sides (run in a worker)


def ours_populate(p: Params) -> Figures:
    import ridgeline

    t0 = time.perf_counter()
    for params, metrics in make_runs(p["n"]):
        run = ridgeline.start_run(project="bench", tracking_uri=p["home"])
        run.log_params(params)
        run.log_metrics(metrics, step=0)
        run.finish()
    return {"runs": p["n"], "populate_s": time.perf_counter() - t0}


def ours_query(p: Params) -> Figures:
    import ridgeline

    client = ridgeline.Client(tracking_uri=p["url"])

    def query() -> Any:
        return client.search_runs("bench", filter=FILTER, order_by=[f"metrics.{ORDER_KEY} desc"], limit=PAGE)

    page = [float(r.metrics[ORDER_KEY]) for r in query()]
    return {**repeat(query, p["repeats"], budget_s=60, warmup=2), "page": page}


def mlflow_populate(p: Params) -> Figures:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = MlflowClient(tracking_uri=f"sqlite:///{p['db']}")
    experiment_id = client.create_experiment("bench")
    ts = int(time.time() * 1000)
    t0 = time.perf_counter()
    for params, metrics in make_runs(p["n"]):
        run_id = client.create_run(experiment_id).info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, ts, 0) for k, v in metrics.items()],
            params=[Param(k, v) for k, v in params.items()],
        )
        client.set_terminated(run_id)
    return {"runs": p["n"], "populate_s": time.perf_counter() - t0}


def mlflow_query(p: Params) -> Figures:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=p["url"])
    experiment = client.get_experiment_by_name("bench")
    if experiment is None:
        raise RuntimeError("experiment 'bench' is missing from the populated db")

    def query() -> Any:
        return client.search_runs(
            [experiment.experiment_id],
            filter_string=FILTER,
            order_by=[f"metrics.{ORDER_KEY} DESC"],
            max_results=PAGE,
        )

    page = [float(r.data.metrics[ORDER_KEY]) for r in query()]
    return {**repeat(query, p["repeats"], budget_s=120, warmup=2), "page": page}


# --------------------------------------------------------------------------- orchestration


def _page_notes(who: str, outcome: Outcome, expected: list[float]) -> list[str]:
    page = outcome.figures.get("page")
    if outcome.error or page is None:
        return []
    if len(page) != len(expected) or any(abs(a - b) > 1e-9 for a, b in zip(page, expected, strict=False)):
        return [f"{who}: first page differs from the expected runs ({len(page)} rows, {len(expected)} expected)"]
    return []


def run(ctx: Context) -> Report:
    n = scaled(10_000, 1_000, ctx.quick)
    params: dict[str, Any] = {
        "runs": n,
        "filter": FILTER,
        "order_by": f"metrics.{ORDER_KEY} desc",
        "page": PAGE,
    }
    query_params = {"n": n, "repeats": 20}
    with scratch("search-home") as home:
        ours_pop = ctx.ours(__name__, "ours_populate", {"home": str(home), "n": n}, timeout=1800)
        ours = ours_pop.then(lambda: ctx.ours_served(home, __name__, "ours_query", query_params))
    theirs_pop = ctx.peer_fixture("mlflow-search", __name__, "mlflow_populate", {"n": n})
    theirs = theirs_pop.then(
        lambda: ctx.peer_served(Path(theirs_pop.figures["db"]), __name__, "mlflow_query", query_params)
    )
    expected = expected_page(n)
    row = Row(
        NAME,
        f"first page of {PAGE} of {n:,} runs, filter + order, via server",
        "ms",
        ours.ms(),
        theirs.ms(),
        target_value=TARGET_MS,
        target_ratio=TARGET_RATIO,
        notes=[
            *_page_notes("ours", ours, expected),
            *_page_notes("mlflow", theirs, expected),
            *error_notes(ours=ours, mlflow=theirs),
        ],
    )
    raw = {"ours_populate": ours_pop, "ours": ours, "mlflow_populate": theirs_pop, "mlflow": theirs}
    return Report([row], raw, params)
