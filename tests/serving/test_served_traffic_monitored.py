"""A served model's traffic appears in its monitor by itself: ``ridgeline serve`` sends its predictions to the
tracking server, the server's periodic monitoring pass feeds them into the monitor of the served alias, and the
actuals logged later by request id give the window its performance."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import ridgeline
import ridgeline.monitoring as monitoring
from serving.support import wait_for
from support.servers import free_port, running_server

EXECUTABLE = Path(sys.executable).with_name("ridgeline")


def _frame(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    generator = np.random.default_rng(seed)
    return pd.DataFrame({"x1": generator.normal(shift, 1, rows), "x2": generator.normal(0, 1, rows)})


def test_served_predictions_reach_the_monitor_and_join_actuals(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    training = _frame(1000, seed=0)
    labels = (training["x1"] + training["x2"] > 0).astype(int)
    with ridgeline.start_run(project="serving", tracking_uri=str(home)) as run:
        run.log_model(
            LogisticRegression().fit(training, labels), "model", input_example=training.head(), register_as="m"
        )
    with ridgeline.Client(str(home)) as client:
        client.set_model_alias("m", "champion", 1)
    monkeypatch.setenv("RIDGELINE_MONITORING_INTERVAL", "0.3")
    with running_server(home) as url:
        monitoring.create_monitor("m@champion", training, window="1h", tracking_uri=url)
        port = free_port()
        env = {**os.environ, "RIDGELINE_HOME": str(tmp_path / "serve-home"), "RIDGELINE_TRACKING_URI": url}
        server = subprocess.Popen(
            [str(EXECUTABLE), "serve", "models:/m@champion", "--port", str(port), "--batch-max", "8"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        served = f"http://127.0.0.1:{port}"
        try:

            def ready() -> bool:
                assert server.poll() is None, server.communicate()[0]
                try:
                    return httpx.get(f"{served}/ping").status_code == 200
                except httpx.TransportError:
                    return False

            wait_for(ready, timeout=60)
            traffic = _frame(60, seed=1, shift=3.0)  # drifted: x1 moved by three standard deviations
            for index, row in enumerate(traffic.to_dict(orient="records")):
                answer = httpx.post(
                    f"{served}/invocations",
                    json={"dataframe_records": [row]},
                    headers={"X-Request-Id": f"req-{index}"},
                )
                assert answer.status_code == 200, answer.text

            def counted() -> int:
                report = monitoring.report("m-champion", tracking_uri=url)
                return 0 if report.empty else int(report[report["feature"] == "*"]["rows"].sum())

            wait_for(lambda: counted() == 60, timeout=30)
        finally:
            server.send_signal(signal.SIGINT)
            server.communicate(timeout=60)
        truth = (traffic["x1"] + traffic["x2"] > 0).astype(int).tolist()
        monitoring.log_actuals("m-champion", [f"req-{index}" for index in range(60)], truth, tracking_uri=url)
        report = monitoring.report("m-champion", tracking_uri=url)
        features = report[report["feature"] != "*"].set_index("feature")
        assert bool(features.loc["x1", "drift"]) and not bool(features.loc["x2", "drift"])
        [dataset] = report[report["feature"] == "*"].to_dict(orient="records")
        assert dataset["labelled_rows"] == 60 and dataset["accuracy"] > 0.8
