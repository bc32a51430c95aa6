"""8. MLflow's own client against `mlflow server` and against `ridgeline server`'s MLflow-compatible API.

One workload function (`workload`) runs in the MLflow venv with the official client, once per server, on a
fresh server each (same sizes, same seed): only the server differs. Each operation is timed separately over
several repetitions (median; p95 for the small calls): create_run, log_param, log_metric (synchronous),
log_batch (1000 metrics + 100 params), set_tag, search_runs (filter + order_by over 1,000 runs, first 100),
get_metric_history (10,000 points), log_artifact / download_artifacts / list_artifacts (10 MB file),
mlflow.sklearn.log_model with registered_model_name, set_registered_model_alias, and
mlflow.pyfunc.load_model("models:/NAME@champion") + predict. Answers are checked (search page, history
length, downloaded bytes, predictions) so a fast wrong answer cannot win.

The client never retries (MLFLOW_HTTP_REQUEST_MAX_RETRIES=0): a server error fails the operation at once and
the row says FAILED with the error, instead of the client hiding it behind minutes of back-off.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _harness import (
    PEER_VENV,
    Context,
    Figures,
    Outcome,
    Params,
    Report,
    Row,
    error_notes,
    fmt_number,
    free_port,
    load_average,
    ours_server,
    peer_server,
    percentile,
    repeat,
    run_side,
    scaled,
    scratch,
    venv_python,
)
from bench_search import FILTER, ORDER_KEY, PAGE, SEED, expected_page, make_runs

NAME = "mlflow_api"
TITLE = "the same MLflow client workload against mlflow server and ridgeline server"

MB = 1024 * 1024
MODEL_NAME = "bench-model"
ALIAS = "champion"
HISTORY_KEY = "loss"
BATCH_METRICS = 1000  # MLflow's limits per log_batch call
BATCH_PARAMS = 100
# Every server error must surface, not be retried for minutes; no progress bars in the logs.
CLIENT_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}
# Spelled out so log_model does not start a subprocess to infer them: seconds of client-side work, the same
# on both sides, that would hide the server's share.
PIP_REQUIREMENTS = ["scikit-learn", "skops"]

# (operation, table label, whether a p95 over its samples means something)
OPERATIONS = [
    ("create_run", "create_run", True),
    ("log_param", "log_param (one)", True),
    ("log_metric", "log_metric (one, synchronous)", True),
    ("log_batch", f"log_batch ({BATCH_METRICS:,} metrics + {BATCH_PARAMS} params)", True),
    ("set_tag", "set_tag", True),
    ("search_runs", "search_runs, filter + order_by, first {page} of {runs:,} runs", True),
    ("get_metric_history", "get_metric_history, {points:,} points", False),
    ("log_artifact", "log_artifact, {mb:g} MB file", False),
    ("download_artifacts", "download_artifacts, {mb:g} MB file", False),
    ("list_artifacts", "list_artifacts (run root)", True),
    ("log_model", "sklearn.log_model + register a version", False),
    ("set_alias", "set_registered_model_alias", True),
    ("load_model", f"pyfunc.load_model(models:/…@{ALIAS}) + predict", False),
]


# --------------------------------------------------------------------------- the workload (MLflow venv)


class Workload:
    """Times each operation; an operation that raises is recorded with its error and the next one goes on."""

    def __init__(self) -> None:
        self.ops: dict[str, Figures] = {}

    def time(self, op: str, call: Callable[[int], object], repeats: int, warmup: int = 1) -> bool:
        """Call `call(i)` with a fresh i each time (warm-ups included, so keys never collide); True if it worked."""
        counter = itertools.count()
        try:
            figures = repeat(lambda: call(next(counter)), repeats, budget_s=120, warmup=warmup)
        except Exception as exc:
            self.fail(op, exc)
            return False
        figures["p95_s"] = percentile(figures["samples_s"], 95)
        self.ops[op] = figures
        return True

    def fail(self, op: str, exc: BaseException) -> None:
        message = f"{type(exc).__name__}: {exc}".strip()
        print(f"[{op}] FAILED: {message}\n{traceback.format_exc()}", file=sys.stderr, flush=True)
        self.ops[op] = {"error": " ".join(message.split())[:600]}

    def skip(self, op: str, because: str) -> None:
        self.ops[op] = {"error": f"not run: {because} failed"}

    def check(self, op: str, condition: bool, what: str) -> None:
        """A wrong answer voids the timing: the row must not show a figure for it."""
        if not condition and "error" not in self.ops.get(op, {}):
            self.ops[op] = {"error": f"wrong answer: {what}"}


def _write_file(path: Path, size: int) -> str:
    data = os.urandom(size)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def workload(p: Params) -> Figures:
    os.environ.update(CLIENT_ENV)  # before MLflow is imported, the same on both sides

    import mlflow
    import mlflow.pyfunc
    import mlflow.sklearn
    import numpy as np
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    url, reps = p["url"], p["repeats"]
    work = Path(p["workdir"])
    work.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(url)  # the fluent calls (log_model, load_model) go through these
    mlflow.set_registry_uri(url)
    client = MlflowClient(tracking_uri=url, registry_uri=url)
    w = Workload()
    ts = int(time.time() * 1000)
    t_start = time.perf_counter()

    try:
        exp = client.create_experiment("mlflow-api-bench")
        run_id = client.create_run(exp, run_name="work").info.run_id
    except Exception as exc:  # nothing else can run: every op reports this error
        for op, _, _ in OPERATIONS:
            w.fail(op, exc)
        return {"ops": w.ops}

    w.time("create_run", lambda i: client.create_run(exp, run_name=f"r{i}"), reps["small"])
    w.time("log_param", lambda i: client.log_param(run_id, f"p{i}", f"v{i}"), reps["small"])
    w.time("log_metric", lambda i: client.log_metric(run_id, "m", float(i), timestamp=ts, step=i), reps["small"])
    w.time("set_tag", lambda i: client.set_tag(run_id, f"t{i}", "x"), reps["small"])

    def log_batch(i: int) -> None:
        client.log_batch(
            run_id,
            metrics=[Metric("batch", float(j), ts, i * BATCH_METRICS + j) for j in range(BATCH_METRICS)],
            params=[Param(f"b{i}_{j}", str(j)) for j in range(BATCH_PARAMS)],
        )

    if w.time("log_batch", log_batch, reps["batch"]):
        logged = client.get_run(run_id).data.params
        w.check("log_batch", sum(k.startswith("b") for k in logged) >= BATCH_PARAMS, "batch params missing")

    # search_runs: the same generated runs as the `search` benchmark, through this server's API
    figures: Figures = {}
    try:
        search_exp = client.create_experiment("mlflow-api-search")
        t0 = time.perf_counter()
        for params, metrics in make_runs(p["runs"]):
            rid = client.create_run(search_exp).info.run_id
            client.log_batch(
                rid,
                metrics=[Metric(k, v, ts, 0) for k, v in metrics.items()],
                params=[Param(k, v) for k, v in params.items()],
            )
        figures["populate_s"] = time.perf_counter() - t0

        def search(_: int) -> Any:
            return client.search_runs(
                [search_exp], filter_string=FILTER, order_by=[f"metrics.{ORDER_KEY} DESC"], max_results=PAGE
            )

        page = [float(r.data.metrics[ORDER_KEY]) for r in search(0)]
        if w.time("search_runs", search, reps["search"], warmup=2):
            expected = expected_page(p["runs"])
            same = len(page) == len(expected) and all(abs(a - b) < 1e-9 for a, b in zip(page, expected, strict=True))
            w.check("search_runs", same, f"{len(page)} runs on the first page, {len(expected)} expected in order")
    except Exception as exc:
        w.fail("search_runs", exc)

    try:
        hist_run = client.create_run(exp, run_name="history").info.run_id
        for start in range(0, p["points"], BATCH_METRICS):
            steps = range(start, min(p["points"], start + BATCH_METRICS))
            client.log_batch(hist_run, metrics=[Metric(HISTORY_KEY, float(s), ts, s) for s in steps])
        got: list[int] = []
        if w.time(
            "get_metric_history",
            lambda _: got.append(len(client.get_metric_history(hist_run, HISTORY_KEY))),
            reps["heavy"],
        ):
            w.check("get_metric_history", set(got) == {p["points"]}, f"{got[0]:,} points, {p['points']:,} logged")
    except Exception as exc:
        w.fail("get_metric_history", exc)

    blob = work / "blob.bin"
    digest = _write_file(blob, p["artifact_bytes"])
    art_run = client.create_run(exp, run_name="artifacts").info.run_id  # create_run worked above
    if w.time("log_artifact", lambda i: client.log_artifact(art_run, str(blob), artifact_path=f"r{i}"), reps["heavy"]):
        downloads: list[str] = []

        def download(i: int) -> None:
            local = client.download_artifacts(art_run, "r0/blob.bin", str(work / f"down-{i}"))
            downloads.append(hashlib.sha256(Path(local).read_bytes()).hexdigest())
            Path(local).unlink()  # keep the disk use flat over the repetitions

        if w.time("download_artifacts", download, reps["heavy"]):
            w.check("download_artifacts", set(downloads) == {digest}, "downloaded bytes differ from the upload")
        listed: list[int] = []
        if w.time("list_artifacts", lambda _: listed.append(len(client.list_artifacts(art_run))), reps["small"]):
            # warm-up + repeats uploads, one folder each
            w.check("list_artifacts", min(listed) == w.ops["log_artifact"]["repeats"] + 1, f"{listed[0]} entries")
    else:
        w.skip("download_artifacts", "log_artifact")
        w.skip("list_artifacts", "log_artifact")

    x, y = make_classification(n_samples=500, n_features=20, random_state=SEED)
    model = LogisticRegression(max_iter=500).fit(x, y)
    versions: list[str] = []

    def log_model(_: int) -> None:
        info = mlflow.sklearn.log_model(
            model, name="model", registered_model_name=MODEL_NAME, pip_requirements=PIP_REQUIREMENTS
        )
        versions.append(str(info.registered_model_version))

    logged_ok = False
    try:
        with mlflow.start_run(experiment_id=exp, run_name="model"):
            logged_ok = w.time("log_model", log_model, reps["model"])
    except Exception as exc:  # the fluent run itself failed (start or end): nothing registered to go on with
        w.fail("log_model", exc)
        logged_ok = False
    if logged_ok:
        w.time("set_alias", lambda i: client.set_registered_model_alias(MODEL_NAME, ALIAS, versions[i % len(versions)]),
               reps["small"])  # fmt: skip
        try:
            client.set_registered_model_alias(MODEL_NAME, ALIAS, versions[-1])
            served = client.get_model_version_by_alias(MODEL_NAME, ALIAS).version
            w.check("set_alias", str(served) == versions[-1], f"alias points at {served}, set to {versions[-1]}")
        except Exception as exc:
            w.fail("set_alias", exc)
        expected_pred = model.predict(x)
        preds: list[bool] = []

        def load(_: int) -> None:
            loaded = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@{ALIAS}")
            preds.append(bool(np.array_equal(np.asarray(loaded.predict(x)), expected_pred)))

        if w.time("load_model", load, reps["model"]):
            w.check("load_model", all(preds), "predictions differ from the model's own")
    else:
        w.skip("set_alias", "log_model")
        w.skip("load_model", "log_model")
    return {**figures, "ops": w.ops, "workload_s": time.perf_counter() - t_start}


# --------------------------------------------------------------------------- orchestration


@dataclass
class OpRow(Row):
    """A row whose target is "faster than MLflow"; an operation that failed on Ridgeline misses it."""

    failed_ours: bool = False

    @property
    def target(self) -> str:
        return "faster"

    @property
    def met(self) -> bool | None:
        if self.failed_ours:
            return False
        return None if self.ratio is None else self.ratio > 1.0


def _serve_ours(ctx: Context, params: Params) -> Outcome:
    """`ridgeline server` on a fresh data folder, driven by MLflow's client from the MLflow venv."""
    if ctx.skip_ours:
        return Outcome(error="skipped (--skip-ours)")
    from bench_ui import _settle  # orchestrator only: the worker's venv lacks what bench_ui imports

    with scratch("mlflow-api-ours") as cwd:
        try:
            with ours_server(cwd / "home", free_port(), cwd) as server:
                _settle(server, ctx.log)
                ctx.log(f"  ours   {__name__}.workload (MLflow client from {PEER_VENV.name})")
                side = {**params, "url": server.base_url, "workdir": str(cwd / "client")}
                outcome = run_side(venv_python(PEER_VENV), __name__, "workload", side, timeout=1800)
        except (RuntimeError, OSError) as exc:
            ctx.log(f"    failed: {str(exc).splitlines()[0]}")
            return Outcome(error=f"ridgeline server: {exc}")
    if outcome.error:
        ctx.log(f"    failed: {outcome.error.strip().splitlines()[-1]}")
    return outcome


def _serve_peer(ctx: Context, params: Params) -> Outcome:
    """`mlflow server` on a fresh SQLite db and artifact folder, once its job runner has settled."""
    if not ctx.wants_peer(__name__, "workload", params):
        return ctx.peer(__name__, "workload", params)  # skipped, or reused from the cache
    from bench_ui import _settle

    with scratch("mlflow-api-mlflow") as cwd:
        try:
            with peer_server(cwd / "mlflow.db", free_port(), cwd) as server:
                _settle(server, ctx.log)
                side = {**params, "url": server.base_url, "workdir": str(cwd / "client")}
                return ctx.peer(__name__, "workload", side, timeout=1800)
        except (RuntimeError, OSError) as exc:
            ctx.log(f"    failed: {str(exc).splitlines()[0]}")
            return Outcome(error=f"mlflow server: {exc}")


def _op(outcome: Outcome, op: str) -> Figures:
    ops = outcome.figures.get("ops")
    return ops.get(op, {}) if isinstance(ops, dict) else {}


def _ms(outcome: Outcome, op: str, key: str = "median_s") -> float | None:
    value = _op(outcome, op).get(key)
    return None if not isinstance(value, int | float) else value * 1000


def _error(outcome: Outcome, op: str) -> str | None:
    if outcome.error is not None:
        return None if outcome.error.startswith("skipped") else outcome.error.strip().splitlines()[-1][:300]
    error = _op(outcome, op).get("error")
    return str(error) if error else None


def run(ctx: Context) -> Report:
    params: dict[str, Any] = {
        "runs": scaled(1_000, 200, ctx.quick),
        "points": scaled(10_000, 2_000, ctx.quick),
        "artifact_bytes": scaled(10 * MB, 2 * MB, ctx.quick),
        "repeats": {
            "small": scaled(50, 15, ctx.quick),
            "batch": scaled(20, 5, ctx.quick),
            "search": scaled(20, 5, ctx.quick),
            "heavy": scaled(10, 3, ctx.quick),
            "model": scaled(5, 2, ctx.quick),
        },
    }
    load = {"before_ours": load_average()}
    ours = _serve_ours(ctx, params)
    load["before_mlflow"] = load_average()
    theirs = _serve_peer(ctx, params)
    load["after"] = load_average()

    sizes = {"page": PAGE, "runs": params["runs"], "points": params["points"], "mb": params["artifact_bytes"] / MB}
    rows: list[Row] = []
    p95s: list[str] = []
    for op, label, tail in OPERATIONS:
        ours_error, theirs_error = _error(ours, op), _error(theirs, op)
        reps = _op(ours, op).get("repeats") or _op(theirs, op).get("repeats")
        text = label.format(**sizes) + (f" (median of {reps})" if reps else "")
        notes = []
        if ours_error:
            text += " — FAILED on Ridgeline"
            notes.append(f"{op} on Ridgeline: {ours_error}")
            ctx.log(f"    {op} FAILED on Ridgeline: {ours_error}")
        if theirs_error:
            text += " — FAILED on MLflow"
            notes.append(f"{op} on MLflow: {theirs_error}")
            ctx.log(f"    {op} FAILED on MLflow: {theirs_error}")
        if tail and not (ours_error or theirs_error):
            p95s.append(f"{op} {fmt_number(_ms(ours, op, 'p95_s'))} / {fmt_number(_ms(theirs, op, 'p95_s'))}")
        rows.append(OpRow(NAME, text, "ms", _ms(ours, op), _ms(theirs, op), notes=notes,
                          failed_ours=bool(ours_error)))  # fmt: skip
    rows[0].notes[:0] = [
        "one MLflow client workload (MLflow venv) against each server in turn, fresh server and data each",
        *error_notes(ours=ours, mlflow=theirs),
    ]
    if p95s:
        rows[-1].notes.append("p95 ms (Ridgeline / MLflow): " + "; ".join(p95s))
    populate = [outcome.get("populate_s") for outcome in (ours, theirs)]
    if all(populate):
        rows[-1].notes.append(
            f"populating {params['runs']:,} search runs (create_run + log_batch each): "
            f"{populate[0]:.1f} s on Ridgeline, {populate[1]:.1f} s on MLflow"
        )
    params["loadavg_1m"] = load
    return Report(rows, {"ours": ours, "mlflow": theirs}, params)
