"""9. Model serving: `ridgeline serve` beside `mlflow models serve` on the same scikit-learn model, and
`ridgeline predict` over a large Parquet file.

The model: a LogisticRegression on 8 float columns (f0..f7), fitted on the same seeded data on both sides;
Ridgeline's is logged with run.log_model and registered (served as models:/bench@champion), MLflow's saved with
mlflow.sklearn.save_model (served with `--env-manager local`). Both servers run one worker process.

Measured per side, in one side process each (Ridgeline with its defaults: prediction log on): start until
`GET /ping` answers; single-row latency (p50, p99) of sequential `POST /invocations` on one keep-alive connection
(dataframe_split JSON), beside calling the fitted estimator's `predict` on a one-row DataFrame in process;
throughput at concurrency 16 (16 keep-alive connections driven by one asyncio loop, one request in flight on
each, one-row requests, for a fixed time; every answer checked), and for Ridgeline again with `--batch-max 64`.
Batch scoring (Ridgeline only: MLflow has no Parquet batch scorer): `ridgeline predict` over N rows of Parquet
into Parquet, rows per second and the process' peak RSS, beside the estimator's `predict` over the same rows in
memory.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _harness import (
    HOST,
    Context,
    Figures,
    Params,
    Report,
    Row,
    Server,
    error_notes,
    free_port,
    ours_cli,
    peer_cli,
    percentile,
    scaled,
    scratch,
)

NAME = "serving"
TITLE = "model serving: ridgeline serve and mlflow models serve, ridgeline predict"

COLUMNS = [f"f{i}" for i in range(8)]
SEED = 7
CONCURRENCY = 16
MODEL_NAME = "bench"
ROW = [0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8]
BODY = json.dumps({"dataframe_split": {"columns": COLUMNS, "data": [ROW]}}).encode()
HEADERS = {"Content-Type": "application/json"}
# Runs a command and prints its peak RSS in KiB (the wrapper's own is a few MB, the child's starts there).
_PEAK_RSS = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
)


def _fitted() -> Any:
    """The same estimator on both sides (same data, same seed)."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    generator = np.random.default_rng(SEED)
    data = pd.DataFrame(generator.normal(size=(2000, len(COLUMNS))), columns=COLUMNS)
    target = (data["f0"] + data["f1"] * 2 - data["f2"] > 0).astype(int)
    return LogisticRegression().fit(data, target), data


def _direct_latency(estimator: Any, n: int) -> Figures:
    import pandas as pd

    frame = pd.DataFrame([ROW], columns=COLUMNS)
    for _ in range(50):
        estimator.predict(frame)
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        estimator.predict(frame)
        samples.append(time.perf_counter() - started)
    return {"direct_p50_s": percentile(samples, 50), "direct_p99_s": percentile(samples, 99)}


def _post(connection: http.client.HTTPConnection) -> int:
    connection.request("POST", "/invocations", BODY, HEADERS)
    response = connection.getresponse()
    answer = json.loads(response.read())
    if response.status != 200 or len(answer["predictions"]) != 1:
        raise RuntimeError(f"bad answer {response.status}: {answer}")
    return response.status


def _sequential(port: int, n: int) -> Figures:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    for _ in range(100):
        _post(connection)
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        _post(connection)
        samples.append(time.perf_counter() - started)
    connection.close()
    return {"p50_s": percentile(samples, 50), "p99_s": percentile(samples, 99), "requests": n}


async def _client(port: int, stop: asyncio.Event, done: list[int], slot: int) -> None:
    """One keep-alive connection sending one request at a time and checking every answer."""
    request = (
        f"POST /invocations HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while not stop.is_set():
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            length = next(int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length:"))
            answer = json.loads(await reader.readexactly(length))
            if head[9:12] != b"200" or len(answer["predictions"]) != 1:
                raise RuntimeError(f"bad answer {head[:12]!r}: {answer}")
            done[slot] += 1
    finally:
        writer.close()


def _concurrent(port: int, seconds: float) -> Figures:
    """CONCURRENCY connections from one asyncio loop: a thread per connection spends more CPU on the GIL than the
    servers spend on the requests (against a server that answers without doing anything, 16 http.client threads
    top out near 7,000 requests/s on this machine, the loop at 36,000), which would cap the fast side."""

    async def run() -> tuple[list[int], list[BaseException], float]:
        stop = asyncio.Event()
        done = [0] * CONCURRENCY
        tasks = [asyncio.create_task(_client(port, stop, done, slot)) for slot in range(CONCURRENCY)]
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        stop.set()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        elapsed = time.perf_counter() - started
        return done, [outcome for outcome in outcomes if isinstance(outcome, BaseException)], elapsed

    done, errors, elapsed = asyncio.run(run())
    return {
        "rps": sum(done) / elapsed,
        "requests": sum(done),
        "errors": len(errors),
        "first_error": [repr(error) for error in errors[:1]],
    }


def _measure(server: Server, port: int, estimator: Any, p: Params) -> Figures:
    figures: Figures = {"start_s": server.start(timeout=300)}
    figures.update(_direct_latency(estimator, p["sequential"]))
    figures.update(_sequential(port, p["sequential"]))
    figures.update({f"c16_{key}": value for key, value in _concurrent(port, p["seconds"]).items()})
    return figures


def ours_serve(p: Params) -> Figures:
    import ridgeline

    estimator, data = _fitted()
    with scratch("serving-ours") as root:
        home = root / "home"
        with ridgeline.start_run(project="bench", tracking_uri=str(home)) as run:
            run.log_model(estimator, "model", input_example=data.head(5), register_as=MODEL_NAME)
        with ridgeline.Client(str(home)) as client:
            client.set_model_alias(MODEL_NAME, "champion", 1)
        port = free_port()
        # As users run it: the prediction log on (Parquet in the data folder), following the alias.
        argv = [ours_cli(), "serve", f"models:/{MODEL_NAME}@champion", "--port", str(port)]
        env = {"RIDGELINE_HOME": str(home), "RIDGELINE_TRACKING_URI": str(home)}
        server = Server("ridgeline-serve", argv, f"http://{HOST}:{port}/ping", root / "cwd", env)
        try:
            figures = _measure(server, port, estimator, p)
        finally:
            server.stop()
        port = free_port()
        argv = [*argv[:-1], str(port), "--batch-max", "64"]
        batched = Server("ridgeline-serve-batched", argv, f"http://{HOST}:{port}/ping", root / "cwd", env)
        try:
            batched.start(timeout=300)
            figures.update({f"batched_c16_{key}": value for key, value in _concurrent(port, p["seconds"]).items()})
        finally:
            batched.stop()
        return figures


def mlflow_serve(p: Params) -> Figures:
    import mlflow.sklearn

    estimator, data = _fitted()
    with scratch("serving-mlflow") as root:
        folder = root / "model"
        mlflow.sklearn.save_model(estimator, str(folder), input_example=data.head(5))
        port = free_port()
        argv = [peer_cli(), "models", "serve", "-m", folder, "--env-manager", "local", "--port", str(port)]
        argv += ["--host", HOST, "--workers", "1"]
        # `--env-manager local` execs `uvicorn` from PATH: the MLflow venv's own.
        path = {"PATH": f"{peer_cli().parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        server = Server("mlflow-models-serve", argv, f"http://{HOST}:{port}/ping", root / "cwd", path)
        try:
            return _measure(server, port, estimator, p)
        finally:
            server.stop()


def _write_parquet(path: Path, rows: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    generator = np.random.default_rng(SEED)
    schema = pa.schema([(name, pa.float64()) for name in COLUMNS])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, 1_000_000):
            count = min(1_000_000, rows - start)
            block = generator.normal(size=(count, len(COLUMNS)))
            writer.write_table(
                pa.Table.from_arrays([pa.array(block[:, i]) for i in range(len(COLUMNS))], schema=schema)
            )


def _predict_cli(source: Path, output: Path, env: dict[str, str]) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of `ridgeline predict` on ``source``. Run through a small wrapper: a child
    forked from this (large) process would start with this process' peak RSS."""
    argv = [str(ours_cli()), "predict", f"models:/{MODEL_NAME}/1", "--input", str(source), "--output", str(output)]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _PEAK_RSS, *argv], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"ridgeline predict failed: {done.stderr[-1500:]}")
    return elapsed, int(done.stdout.split()[-1])


def ours_batch(p: Params) -> Figures:
    import pandas as pd
    import pyarrow.parquet as pq

    import ridgeline

    estimator, data = _fitted()
    with scratch("serving-batch") as root:
        home = root / "home"
        with ridgeline.start_run(project="bench", tracking_uri=str(home)) as run:
            run.log_model(estimator, "model", input_example=data.head(5), register_as=MODEL_NAME)
        source, output = root / "input.parquet", root / "scored.parquet"
        _write_parquet(source, p["rows"])
        sample = pq.ParquetFile(source).read_row_group(0).to_pandas()
        started = time.perf_counter()
        estimator.predict(sample)
        direct_rps = len(sample) / (time.perf_counter() - started)
        env = {**os.environ, "RIDGELINE_HOME": str(home), "RIDGELINE_TRACKING_URI": str(home)}
        tiny = root / "tiny.parquet"
        _write_parquet(tiny, 1000)
        # The same command on 1,000 rows: what starting, loading the model and its framework cost, in time and
        # memory, apart from scoring.
        base_s, base_kib = _predict_cli(tiny, root / "tiny-scored.parquet", env)
        elapsed, peak_kib = _predict_cli(source, output, env)
        scored = pq.ParquetFile(output)
        if scored.metadata.num_rows != p["rows"]:
            raise RuntimeError(f"{scored.metadata.num_rows} rows scored of {p['rows']}")
        first = scored.read_row_group(0).to_pandas()
        expected = estimator.predict(pd.DataFrame(first[COLUMNS]))
        if not (first["prediction"].to_numpy() == expected).all():
            raise RuntimeError("ridgeline predict's output differs from the estimator's")
        return {
            "rows": p["rows"],
            "seconds": elapsed,
            "rps": p["rows"] / elapsed,
            "scoring_rps": p["rows"] / max(elapsed - base_s, 1e-9),
            "peak_rss_mb": peak_kib / 1024,
            "base_rss_mb": base_kib / 1024,
            "input_mb": source.stat().st_size / 2**20,
            "direct_rps": direct_rps,
        }


def run(ctx: Context) -> Report:
    params = {"sequential": scaled(3000, 500, ctx.quick), "seconds": scaled(15, 4, ctx.quick)}
    rows_n = scaled(10_000_000, 1_000_000, ctx.quick)
    ours = ctx.ours(__name__, "ours_serve", params, timeout=900)
    theirs = ctx.peer(__name__, "mlflow_serve", params, timeout=900)
    batch = ctx.ours(__name__, "ours_batch", {"rows": rows_n}, timeout=1800)
    notes = error_notes(ours=ours, mlflow=theirs)
    direct_ms = ours.ms("direct_p50_s")
    rows = [
        Row(
            NAME,
            "start until /ping answers",
            "ms",
            ours.ms("start_s"),
            theirs.ms("start_s"),
            target_value=2000,
            notes=notes,
        ),
        Row(NAME, "predict() on a one-row DataFrame in process, p50", "ms", direct_ms, theirs.ms("direct_p50_s")),
        Row(
            NAME,
            "one-row request, sequential, p50",
            "ms",
            ours.ms("p50_s"),
            theirs.ms("p50_s"),
            target_value=None if direct_ms is None else direct_ms + 1.0,
        ),
        Row(
            NAME,
            "one-row request, sequential, p99",
            "ms",
            ours.ms("p99_s"),
            theirs.ms("p99_s"),
            target_value=None if ours.ms("p50_s") is None else 3 * (ours.ms("p50_s") or 0),
        ),
        Row(
            NAME,
            f"one-row requests/s at concurrency {CONCURRENCY}",
            "req/s",
            ours.get("c16_rps"),
            theirs.get("c16_rps"),
            better="higher",
            target_ratio=20,
            notes=[f"errors: ours {ours.get('c16_errors')}, mlflow {theirs.get('c16_errors')}"],
        ),
        Row(
            NAME,
            "  the same with --batch-max 64 (micro-batching)",
            "req/s",
            ours.get("batched_c16_rps"),
            theirs.get("c16_rps"),
            better="higher",
            target_ratio=20,
            notes=[f"errors: ours {ours.get('batched_c16_errors')}"],
        ),
        Row(
            NAME,
            f"ridgeline predict, {rows_n:,} rows Parquet → Parquet",
            "rows/s",
            batch.get("rps"),
            None,
            better="higher",
            theirs_label="—",
            notes=error_notes(ours=batch),
        ),
        Row(
            NAME,
            "  the same past start-up (minus a 1,000-row run's time)",
            "rows/s",
            batch.get("scoring_rps"),
            None,
            better="higher",
        ),
        Row(
            NAME,
            "  the estimator's predict() on the same rows in memory",
            "rows/s",
            batch.get("direct_rps"),
            None,
            better="higher",
        ),
        Row(
            NAME,
            "  ridgeline predict peak RSS",
            "MB",
            batch.get("peak_rss_mb"),
            None,
            notes=[f"input file {batch.get('input_mb') or 0:.0f} MB"],
        ),
        Row(NAME, "  the same on a 1,000-row file (start-up and model stack)", "MB", batch.get("base_rss_mb"), None),
    ]
    return Report(rows, {"ours": ours, "mlflow": theirs, "ours_batch": batch}, {**params, "rows": rows_n})
