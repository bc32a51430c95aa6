"""``ridgeline serve`` and ``ridgeline predict`` as a user runs them: real subprocesses, models logged with
run.log_model and registered, loaded by ridgeline.load_model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest
from sklearn.linear_model import LinearRegression

import ridgeline
from ridgeline.config import sqlite_uri
from ridgeline.services.model_servers import ModelServerService
from ridgeline.store.metadata import MetadataStore
from serving.support import frame, wait_for
from support.servers import free_port

EXECUTABLE = Path(sys.executable).with_name("ridgeline")
BODY = {"dataframe_records": [{"x1": 0.0, "x2": 0.0}]}


def _estimator(version: int) -> LinearRegression:
    data = frame(50, seed=version)
    return LinearRegression().fit(data, 1000 * version + data["x1"] * 2 + data["x2"])


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """Two registered versions of "house" (version v predicts about v*1000), champion on version 1."""
    folder = tmp_path / "home"
    for version in (1, 2):
        with ridgeline.start_run(project="serving", tracking_uri=str(folder)) as run:
            run.log_model(_estimator(version), "model", input_example=frame(5), register_as="house")
    with ridgeline.Client(str(folder)) as client:
        client.set_model_alias("house", "champion", 1)
    return folder


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "RIDGELINE_HOME": str(home), "RIDGELINE_TRACKING_URI": str(home)}


@contextmanager
def serving(home: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [str(EXECUTABLE), "serve", *args, "--port", str(port), "--poll-interval", "0.2"],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert process.poll() is None, process.communicate()[0]
        try:
            return httpx.get(f"{url}/ping").status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(ready, timeout=60)
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)


def _servers(home: Path) -> list[tuple[str, int | None]]:
    store = MetadataStore(sqlite_uri(home))
    try:
        return [(server.url, server.version) for server in ModelServerService(store).list("house")]
    finally:
        store.close()


def test_serve_follows_the_alias_reports_itself_and_logs(home: Path) -> None:
    log = home / "predlog"
    with serving(home, "models:/house@champion", "--prediction-log", str(log)) as (url, process):
        first = httpx.post(f"{url}/invocations", json=BODY).json()
        assert first["model_version"] == 1 and 900 < first["predictions"][0] < 1100
        csv = httpx.post(f"{url}/invocations", content="x2,x1\n0.25,0.5\n", headers={"content-type": "text/csv"})
        assert csv.status_code == 200, csv.text
        wait_for(lambda: _servers(home) == [(url, 1)])
        with ridgeline.Client(str(home)) as client:
            client.set_model_alias("house", "champion", 2)
        wait_for(lambda: httpx.post(f"{url}/invocations", json=BODY).json()["model_version"] == 2)
        wait_for(lambda: _servers(home) == [(url, 2)])
        assert httpx.get(f"{url}/version").json()["version"] == 2
    assert process.returncode == 0
    assert _servers(home) == []  # a clean shutdown removes the entry
    rows = ds.dataset(log, format="parquet", partitioning="hive").to_table().to_pylist()
    assert {row["version"] for row in rows} == {1, 2}
    assert all(row["model"] == "house" and row["role"] == "primary" for row in rows)
    # Logged with their column names, whatever form the model was scored in (here a plain array).
    assert {"x1": 0.5, "x2": 0.25} in [json.loads(row["inputs"]) for row in rows]


def test_serve_with_two_workers(home: Path) -> None:
    with serving(home, "models:/house/2", "--workers", "2", "--no-prediction-log") as (url, _):
        answers = {httpx.post(f"{url}/invocations", json=BODY).json()["model_version"] for _ in range(20)}
        pids = {
            line.split('worker="')[1].split('"')[0]
            for line in httpx.get(f"{url}/metrics").text.splitlines()
            if line.startswith("ridgeline_serving_predictions_dropped_total")
        }
    assert answers == {2}
    assert len(pids) == 1  # each worker counts its own requests


def test_serve_refuses_what_it_cannot_serve(home: Path) -> None:
    def refused(*args: str) -> str:
        done = subprocess.run(
            [str(EXECUTABLE), "serve", *args, "--port", str(free_port())],
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0
        return done.stdout + done.stderr

    assert "ALIAS=PERCENT" in refused("models:/house@champion", "--canary", "challenger")
    assert "--no-prediction-log" in refused("models:/house@champion", "--shadow", "b", "--no-prediction-log")
    assert "refusing to listen on 0.0.0.0" in refused("models:/house@champion", "--host", "0.0.0.0")
    assert "not found" in refused("models:/nosuch@champion").lower()


def _scored(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_predict_scores_a_file_in_chunks(home: Path, tmp_path: Path, suffix: str) -> None:
    data = frame(2_500, seed=9)
    source = tmp_path / f"input.{suffix}"
    if suffix == "csv":
        data.to_csv(source, index=False)
    else:
        data.to_parquet(source, row_group_size=700)
    output = tmp_path / "out.parquet"
    done = subprocess.run(
        [
            str(EXECUTABLE),
            "predict",
            "models:/house@champion",
            "--input",
            str(source),
            "--output",
            str(output),
            "--batch-size",
            "1000",
        ],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "2500 rows scored" in done.stderr
    scored = _scored(output)
    assert list(scored.columns) == ["x1", "x2", "prediction"]
    np.testing.assert_allclose(scored["prediction"], _estimator(1).predict(data))
    np.testing.assert_allclose(scored[["x1", "x2"]], data)


def test_predict_refuses_bad_input(home: Path, tmp_path: Path) -> None:
    def refused(source: Path) -> str:
        done = subprocess.run(
            [
                str(EXECUTABLE),
                "predict",
                "models:/house@champion",
                "--input",
                str(source),
                "--output",
                str(tmp_path / "out.parquet"),
            ],
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1, done.stderr
        assert not (tmp_path / "out.parquet").exists()
        return done.stderr

    text = tmp_path / "input.txt"
    text.write_text("x1,x2\n1,2\n")
    assert ".csv or .parquet" in refused(text)
    missing = tmp_path / "missing.csv"
    pd.DataFrame({"x1": [1.0]}).to_csv(missing, index=False)
    assert "x2" in refused(missing)
    assert "no such file" in refused(tmp_path / "nowhere.csv")
    garbled = tmp_path / "garbled.csv"
    garbled.write_text("x1,x2\n1.0,2.0\n1.0,2.0,3.0\n")
    assert "garbled.csv" in refused(garbled)
