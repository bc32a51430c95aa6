"""``ridgeline quickstart --no-serve`` trains real models into a data folder that ``runs list`` then shows."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

import ridgeline
from ridgeline.cli.main import app
from support.servers import free_port

PROJECTS = ("quickstart-iris", "quickstart-wine", "quickstart-breast-cancer")
RUNS_PER_PROJECT = 13  # 6 gradient boosting + 4 random forest + 3 logistic regression settings
WIDE = {"COLUMNS": "250"}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=WIDE)


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("quickstart") / "home"
    result = invoke("quickstart", "--no-serve", "--home", str(home))
    assert result.exit_code == 0, result.output
    database = f"sqlite:///{home / 'ridgeline.db'}"
    assert f"Logged {len(PROJECTS) * RUNS_PER_PROJECT} runs to {database}" in result.stdout
    assert f"--tracking-uri {database}" in result.stdout
    yield home


def test_quickstart_logs_three_projects(demo_home: Path) -> None:
    with ridgeline.Client(str(demo_home)) as client:
        projects = {p.name: p for p in client.list_projects()}
        assert set(PROJECTS) <= set(projects)
        for name in PROJECTS:
            assert projects[name].run_count == RUNS_PER_PROJECT
            page = client.search_runs(name, filter="params.model = 'gradient_boosting'")
            assert len(page) == 6
            run = page[0]
            assert run.status is ridgeline.RunStatus.FINISHED
            assert run.tags["source"] == "quickstart"
            assert {"accuracy", "f1_macro", "roc_auc", "log_loss", "val/log_loss"} <= set(run.metrics)
            assert 0.0 <= run.metrics["accuracy"] <= 1.0
            # One point per boosting stage.
            assert len(client.get_metric_history(run.id, "val/log_loss")) == 60
        forests = client.search_runs("quickstart-wine", filter="params.model = 'random_forest'")
        assert {r.params["max_depth"] for r in forests} == {"4", "None"}


def test_runs_list_shows_the_quickstart_runs(demo_home: Path) -> None:
    for name in PROJECTS:
        result = invoke(
            "runs", "list", "-p", name, "--tracking-uri", str(demo_home),
            "-o", "metrics.accuracy desc", "-c", "metrics.accuracy", "-c", "params.model",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert f"runs in {name}" in result.stdout
        rows = [line for line in result.stdout.splitlines() if "FINISHED" in line]
        assert len(rows) == RUNS_PER_PROJECT
        for family in ("gradient_boosting", "random_forest", "logistic_regression"):
            assert any(family in row for row in rows)


def test_quickstart_again_keeps_the_existing_demo_data(demo_home: Path) -> None:
    result = invoke("quickstart", "--no-serve", "--home", str(demo_home))
    assert result.exit_code == 0, result.output
    assert f"already holds {len(PROJECTS) * RUNS_PER_PROJECT} demo runs" in result.stdout
    with ridgeline.Client(str(demo_home)) as client:
        counts = {p.name: p.run_count for p in client.list_projects()}
    assert all(counts[name] == RUNS_PER_PROJECT for name in PROJECTS)


def test_quickstart_fills_the_registry(demo_home: Path) -> None:
    """Each data set's three best runs become versions 1 to 3; the best passed the gate and holds the champion."""
    with ridgeline.Client(str(demo_home)) as client:
        for name in ("iris-classifier", "wine-classifier", "breast-cancer-classifier"):
            model = client.get_model(name)
            assert (model.latest_version, model.aliases["champion"]) == (3, 3)
            moves = [(event.alias, event.from_version, event.to_version) for event in client.alias_history(name)]
            assert ("champion", 2, 3) in moves
            champion = client.get_model_version(name, 3)
            assert champion.flavor == "sklearn" and champion.run_id is not None
    loaded = ridgeline.load_model("models:/iris-classifier@champion", tracking_uri=str(demo_home))
    row = {"sepal length (cm)": 5.1, "sepal width (cm)": 3.5, "petal length (cm)": 1.4, "petal width (cm)": 0.2}
    assert list(loaded.predict([row])) == [0]


def test_quickstart_fills_a_monitor_with_a_drift_story(demo_home: Path) -> None:
    """Two weeks of the wine model's traffic: the south drifts in the second week, the last day has no truth yet."""
    import ridgeline.monitoring as monitoring

    report = monitoring.report("wine-classifier-champion", segment="*", tracking_uri=str(demo_home))
    dataset = report[report["feature"] == "*"]
    whole = dataset[dataset["segment"] == ""]
    assert len(whole) == 14 and whole["rows"].sum() == 14 * 240
    alcohol = report[(report["feature"] == "alcohol") & (report["segment"] == "region=south")]
    assert not alcohol["drift"].iloc[:8].any() and alcohol["drift"].iloc[-3:].all()
    assert whole["labelled_rows"].iloc[-1] == 0 and whole["accuracy"].iloc[:-1].notna().all()
    raised = monitoring.alerts("wine-classifier-champion", status="raised", tracking_uri=str(demo_home))
    assert any(alert["segment"] == "region=south" for alert in raised)


def test_the_demo_server_serves_the_demo_artifacts(demo_home: Path) -> None:
    """The server quickstart starts reads the same artifact store the runs were logged to (it once read a folder
    named after typer's option object in the working directory)."""
    port = free_port()
    ridgeline_command = str(Path(sys.executable).parent / "ridgeline")
    command = [ridgeline_command, "quickstart", "--home", str(demo_home), "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--no-open"],
        env={**os.environ, "RIDGELINE_CAPTURE": "none"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with ridgeline.Client(str(demo_home)) as client:
            run = client.get_model_version("iris-classifier", 3).run_id
        assert run is not None
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(200):
                try:
                    answer = http.get(f"/api/v1/runs/{run}/artifacts/model/ridgeline-model.json")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert answer.status_code == 200 and answer.json()["flavor"] == "sklearn"
    finally:
        process.terminate()
        process.wait(timeout=30)
