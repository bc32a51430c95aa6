"""``ridgeline monitors`` as a user runs it: a scikit-learn model logged with run.log_model and registered as
"churn" (alias champion, training data logged from a Parquet file), then the real CLI over the data folder and over
a real server: create, log predictions with drift injected in one column across three hourly windows, log actuals,
read the report, list, show, evaluate, alerts, ingest, delete; and every kind of bad input, each one error line."""

from __future__ import annotations

import json
import shlex
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner, Result

import ridgeline
from ridgeline.cli.main import app
from ridgeline.store import prediction_log
from support.servers import running_server

WINDOW_MS = 3_600_000
T0 = pd.Timestamp("2024-05-01T00:00:00Z")
T0_MS = int(T0.timestamp() * 1000)
RULE = "drift on any feature for 2 consecutive windows"
SECRET = "hook-secret-1234"
DEAD = "http://127.0.0.1:9"  # nothing listens there


def _features(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"tenure": rng.normal(20, 5, rows), "charges": rng.normal(70, 10, rows) + shift})


def _labels(frame: pd.DataFrame, seed: int) -> np.ndarray[Any, Any]:
    noise = np.random.default_rng(seed).normal(0, 3, len(frame))
    return (frame["tenure"].to_numpy() + noise > 20).astype(int)


@pytest.fixture(autouse=True)
def _loopback_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The webhook receiver listens on loopback, which outbound requests reach only when the allow-list names it
    (tests/security/test_outbound.py checks the refusal)."""
    monkeypatch.setenv("RIDGELINE_OUTBOUND_ALLOW", "127.0.0.1")


@pytest.fixture
def churn(home: Path, tmp_path: Path) -> Path:
    """A data folder where "churn" v1 (champion) was trained on churn-train, a dataset logged from a Parquet file."""
    train = _features(400, seed=1)
    labels = _labels(train, seed=2)
    train.assign(churned=labels).to_parquet(tmp_path / "train.parquet")
    with ridgeline.start_run(project="churn", tracking_uri=str(home)) as run:
        run.log_dataset(str(tmp_path / "train.parquet"), "churn-train")
        model = LogisticRegression().fit(train, labels)
        run.log_model(model, "model", input_example=train.head(5), register_as="churn")
    with ridgeline.Client(str(home)) as client:
        client.set_model_alias("churn", "champion", 1)
    return home


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Three hourly windows of 200 predictions; ``charges`` is shifted by 3 sd in the last two. Ids have leading
    zeros (the actuals CSV must keep them to match). Actuals for every prediction."""
    frames = [_features(200, seed=10 + window, shift=0.0 if window == 0 else 30.0) for window in range(3)]
    inputs = pd.concat(frames, ignore_index=True)
    rows = len(inputs)
    truth = _labels(inputs, seed=3)
    model = LogisticRegression().fit(_features(400, seed=1), _labels(_features(400, seed=1), seed=2))
    predictions = inputs.assign(
        request_id=[f"{index:06d}" for index in range(rows)],
        ts=[T0 + pd.Timedelta(seconds=18 * index) for index in range(rows)],  # 200 rows an hour
        country=["IT", "FR"] * (rows // 2),
        churned=model.predict(inputs),
        score=model.predict_proba(inputs)[:, 1],
    )
    paths = {"predictions": tmp_path / "predictions.parquet", "actuals": tmp_path / "actuals.csv"}
    predictions.to_parquet(paths["predictions"])
    pd.DataFrame({"request_id": predictions["request_id"], "label": truth}).to_csv(paths["actuals"], index=False)
    return paths


def invoke(where: Path | str, *args: str, input: str | None = None) -> Result:
    """The CLI on a data folder (by the environment, as a user's shell has it) or on a server's URL (by
    ``--tracking-uri``, with the environment pointing at a dead port, so that a command ignoring it fails)."""
    env = {"RIDGELINE_HOME": str(where), "RIDGELINE_TRACKING_URI": str(where), "COLUMNS": "250"}
    if isinstance(where, str) and where.startswith("http"):
        env = {"RIDGELINE_TRACKING_URI": DEAD, "COLUMNS": "250"}
        args = (*args, "--tracking-uri", where)
    return CliRunner().invoke(app, list(args), env=env, input=input)


def run(where: Path | str, command: str, *more: str) -> Result:
    """``ridgeline monitors COMMAND`` (split as a shell would) and ``more`` arguments, which must succeed."""
    return ok(invoke(where, "monitors", *shlex.split(command), *more))


def rows(where: Path | str, command: str, *more: str) -> list[dict[str, Any]]:
    """The JSON that ``ridgeline monitors COMMAND --json`` prints on stdout."""
    found: list[dict[str, Any]] = json.loads(run(where, command, *more, "--json").stdout)
    return found


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def assert_clean_error(result: Result, *fragments: str) -> None:
    """Exit 1 with one line on stderr that starts with 'error' and names what is wrong; never a traceback."""
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


class Receiver(BaseHTTPRequestHandler):
    """A webhook endpoint that keeps what it is sent."""

    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.received.append({"body": json.loads(body), "signature": self.headers.get("X-Ridgeline-Signature")})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Handler", (Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def _create(where: Path | str, *extra: str) -> Result:
    return ok(invoke(where, "monitors", "create", "churn@champion", "--window", "1h", "--rule", RULE, *extra))


def _log(where: Path | str, files: dict[str, Path]) -> None:
    predicted = run(
        where,
        "log-predictions churn-champion --prediction-column churned --id-column request_id --timestamp-column ts "
        "--score-column score --tag-column country --batch-size 250",
        "--input",
        str(files["predictions"]),
    )
    assert "600 predictions from predictions.parquet" in predicted.stdout
    assert "600 rows logged" in predicted.stdout
    actuals = run(
        where,
        "log-actuals churn-champion --id-column request_id --value-column label --batch-size 100",
        "-i",
        str(files["actuals"]),
    )
    assert "600 matched a logged prediction" in actuals.stdout
    assert actuals.stderr == ""  # no "matched no logged prediction" warning: the ids kept their zeros


def _check_report(where: Path | str) -> None:
    report = rows(where, "report churn-champion")
    dataset = [row for row in report if row["feature"] == "*"]
    assert [row["window_start"] - T0_MS for row in dataset] == [0, WINDOW_MS, 2 * WINDOW_MS]
    assert [row["drift"] for row in dataset] == [False, True, True]
    assert [(row["drifted_features"], row["evaluated_features"]) for row in dataset] == [(0, 2), (1, 2), (1, 2)]
    assert all(row["rows"] == 200 and row["labelled_rows"] == 200 for row in dataset)
    assert all(0.5 < row["accuracy"] <= 1 for row in dataset)
    # Input features only: the model's output ("prediction") may follow charges; it has a row of its own.
    inputs = [row for row in report if row["feature"] in ("tenure", "charges")]
    drifted = {(row["window_start"], row["feature"]) for row in inputs if row["drift"]}
    assert drifted == {(T0_MS + WINDOW_MS, "charges"), (T0_MS + 2 * WINDOW_MS, "charges")}
    assert all(row["test"] and row["threshold"] is not None for row in inputs)
    assert {row["feature"] for row in report} == {"tenure", "charges", "prediction", "*"}


def test_a_monitor_from_creation_to_deletion(churn: Path, files: dict[str, Path], webhook: Any) -> None:
    url, received = webhook
    channel = json.dumps({"type": "webhook", "url": url, "secret": SECRET})
    created = _create(churn, "--segment-by", "country", "--channel", channel, "--description", "churn in prod")
    assert "created monitor churn-champion watching churn@champion" in created.stdout
    for shown in ("tenure, charges", "1h", "country", "dataset churn-train@", RULE, "secret=***"):
        assert shown in created.stdout
    assert SECRET not in created.stdout

    _log(churn, files)
    _check_report(churn)
    table = run(churn, "report churn-champion").stdout
    assert "report of churn-champion: 3 windows" in table
    assert table.count("DRIFT 1/2 (50%)") == 2 and "ok 0/2 (0%)" in table
    assert "charges: ks" in table and "tenure: ks" not in table
    assert "accuracy" in table and "(200 labelled)" in table
    later = rows(churn, "report churn-champion --start 2024-05-01T01:00Z")
    assert {row["window_start"] for row in later} == {T0_MS + WINDOW_MS, T0_MS + 2 * WINDOW_MS}
    assert {row["window_start"] for row in rows(churn, f"report churn-champion --end {T0_MS + 1}")} == {T0_MS}
    by_country = rows(churn, "report churn-champion --segment country")
    assert {row["segment"] for row in by_country} == {"country=IT", "country=FR"}
    assert "country=IT" in run(churn, "report churn-champion --segment country").stdout
    assert rows(churn, "report churn-champion --period 2") == []

    listed = run(churn, "list").stdout
    assert "churn-champion" in listed and "churn@champion" in listed
    [body] = rows(churn, "list --model churn")
    assert (body["name"], body["window"], body["features"]) == ("churn-champion", "1h", ["tenure", "charges"])
    assert rows(churn, "list --model other") == []
    shown = run(churn, "show churn-champion").stdout
    for text in ("churn in prod", "periods", "v1", "churn-train@", "(training)", RULE, "secret=***"):
        assert text in shown
    assert SECRET not in shown
    detail: Any = rows(churn, "show churn-champion")
    assert detail["channels"][0]["secret"] == "***"
    assert [(period["number"], period["model_version"]) for period in detail["periods"]] == [(1, 1)]

    # The rule holds in the last two windows: evaluating raises its alert (whole population and each country).
    evaluated = run(churn, "evaluate churn-champion").stdout
    assert "raised now" in evaluated and RULE in evaluated
    again = run(churn, "evaluate churn-champion").stdout  # nothing new: the alerts hold, within their cool-down
    assert "no alert raised, sent again or resolved" in again
    alerts = rows(churn, "alerts churn-champion")
    assert {(alert["status"], alert["segment"]) for alert in alerts} >= {("raised", "")}
    assert {alert["window_start"] for alert in alerts} == {T0_MS + 2 * WINDOW_MS}
    assert received and all(item["signature"] for item in received)  # delivered to the webhook, signed
    assert "whole" in run(churn, "alerts churn-champion --status raised").stdout
    assert rows(churn, "alerts churn-champion --status resolved") == []
    assert len(rows(churn, "alerts churn-champion --limit 1")) == 1

    refused = invoke(churn, "monitors", "delete", "churn-champion", input="n\n")
    assert refused.exit_code == 1
    assert "churn-champion" in run(churn, "list").stdout
    assert "deleted monitor churn-champion" in run(churn, "delete churn-champion --yes").stdout
    assert_clean_error(invoke(churn, "monitors", "show", "churn-champion"), "churn-champion")
    assert rows(churn, "list") == []


def test_ingest_reads_the_prediction_log_once(churn: Path) -> None:
    _create(churn)
    logged = [
        {
            "request_id": f"req{index}",
            "row": 0,
            "timestamp": T0_MS + index,
            "model": "churn",
            "version": 1,
            "role": "primary",
            "latency_ms": 0.5,
            "inputs": json.dumps({"tenure": 20.0 + index, "charges": 70.0}),
            "output": "1",
            "error": None,
        }
        for index in range(5)
    ]
    prediction_log.write(churn / "predictions", logged, "writer")  # where `ridgeline serve` logs on this folder
    first = run(churn, "ingest").stdout
    assert "churn-champion" in first and "5" in first
    assert "nothing new" in run(churn, "ingest").stdout
    [dataset] = [row for row in rows(churn, "report churn-champion") if row["feature"] == "*"]
    assert dataset["rows"] == 5


def test_a_reference_file_and_a_json_rule(churn: Path, tmp_path: Path) -> None:
    _features(300, seed=5).to_csv(tmp_path / "reference.csv", index=False)
    rule = json.dumps({"statistic": "psi", "op": ">", "threshold": 0.3, "name": "psi-high", "severity": "critical"})
    reference = str(tmp_path / "reference.csv")
    options = "--name v1 --feature charges --task classification --cooldown 2h"
    created = run(churn, f"create churn/1 {options}", "--reference", reference, "--rule", rule).stdout
    assert "reference file:" in created and "(300 rows)" in created
    body: Any = rows(churn, "show v1")
    assert (body["target"], body["features"], body["task"], body["cooldown_s"]) == (
        "churn/1",
        ["charges"],
        "classification",
        7200,
    )
    assert (body["rules"][0]["name"], body["rules"][0]["severity"]) == ("psi-high", "critical")
    by_dataset = run(churn, "create churn@champion --reference churn-train").stdout
    assert "reference   dataset churn-train@" in by_dataset


def test_log_predictions_from_csv_with_default_features_and_a_bad_row_late(churn: Path, tmp_path: Path) -> None:
    _create(churn)
    frame = _features(6, seed=7).assign(pred=[0, 1, 0, 1, 0, 1], when=[f"2024-05-01T00:0{i}:00Z" for i in range(6)])
    frame.to_csv(tmp_path / "good.csv", index=False)
    options = "--prediction-column pred --timestamp-column when"
    done = run(churn, f"log-predictions churn@champion {options}", "-i", str(tmp_path / "good.csv"))
    assert "6 predictions from good.csv" in done.stdout
    assert {row["feature"] for row in rows(churn, "report churn-champion")} == {"tenure", "charges", "prediction", "*"}

    frame.loc[4, "when"] = "yesterday"
    frame.to_csv(tmp_path / "late.csv", index=False)
    late = ["-i", str(tmp_path / "late.csv"), "--batch-size", "2"]
    failed = invoke(churn, "monitors", "log-predictions", "churn-champion", *shlex.split(options), *late)
    # Rows 1-4 went in two whole chunks before row 5 was read; the error says so, and how to send the rest.
    assert_clean_error(failed, "late.csv, row 5", "'yesterday'", "rows 1 to 4 were logged", "--skip-rows 4 sends")
    [dataset] = [row for row in rows(churn, "report churn-champion") if row["feature"] == "*"]
    assert dataset["rows"] == 10
    frame.loc[4, "when"] = "2024-05-01T00:04:00Z"
    frame.to_csv(tmp_path / "late.csv", index=False)
    resumed = run(churn, f"log-predictions churn-champion {options} --skip-rows 4", *late)
    assert "2 predictions from late.csv" in resumed.stdout
    [dataset] = [row for row in rows(churn, "report churn-champion") if row["feature"] == "*"]
    assert dataset["rows"] == 12  # 6 + the 4 before the error + the 2 after it: none twice
    assert_clean_error(
        invoke(
            churn, "monitors", "log-predictions", "churn-champion", *shlex.split(options), *late, "--skip-rows", "6"
        ),
        "late.csv has no rows after the 6 skipped",
    )


@pytest.fixture
def monitored(churn: Path) -> Path:
    _create(churn)
    return churn


PREDICT = "--prediction-column churned -i {predictions}"
BAD_INPUT = [
    ("create churn@champion --rule 'psi >> 0.2'", ["error (rules)", "psi >> 0.2"]),
    ("create churn@champion --rule '{psi'", ["error (rule)", "not JSON"]),
    ("""create churn@champion --channel '{"type": webhook}'""", ["error (channel)", "not JSON"]),
    ("""create churn@champion --channel '["webhook"]'""", ["error (channel)", "JSON object"]),
    ("""create churn@champion --channel '{"type": "pigeon"}'""", ["pigeon"]),
    ("create churn --name x", ["NAME@ALIAS"]),
    ("create churn@nobody --name x", ["nobody"]),
    ("create churn@champion --name x --reference missing.parquet", ["missing.parquet: no such file"]),
    ("create churn@champion --name x --reference no-such-dataset", ["no-such-dataset"]),
    ("create churn@champion --name x --window 5y", ["error (window)", "5y"]),
    ("create churn@champion --name x --feature age", ["'age'"]),
    ("create churn@champion --name x --task ranking", ["ranking"]),
    ("create churn@champion", ["churn-champion", "already exists"]),
    ("show nope", ["error (monitor)", "'nope'"]),
    ("report nope", ["'nope'"]),
    ("report churn-champion --start yesterday", ["error (start)", "'yesterday'"]),
    ("report churn-champion --end 2024-13-45", ["error (end)", "'2024-13-45'"]),
    ("alerts nope", ["'nope'"]),
    ("alerts churn-champion --status open", ["error (status)", "'open'"]),
    ("evaluate nope", ["'nope'"]),
    ("delete nope --yes", ["'nope'"]),
    (f"log-predictions nope {PREDICT}", ["no monitor named 'nope'"]),
    (f"log-predictions churn/7 {PREDICT}", ["'churn/7'"]),
    ("log-predictions churn-champion --prediction-column pred -i {predictions}", ["(prediction-column)", "'pred'"]),
    (f"log-predictions churn-champion {PREDICT} --id-column rid", ["error (id-column)", "'rid'", "tenure, charges"]),
    (f"log-predictions churn-champion {PREDICT} --feature-column age", ["error (feature-column)", "'age'"]),
    (f"log-predictions churn-champion {PREDICT} --timestamp-column country", ["(timestamp-column)", "row 1", "'IT'"]),
    ("log-predictions churn-champion --prediction-column churned -i {tmp}/absent.parquet", ["no such file"]),
    ("log-predictions churn-champion --prediction-column churned -i {tmp}/notes.txt", [".csv or .parquet"]),
    ("log-predictions churn-champion --prediction-column churned -i {tmp}/broken.parquet", ["not a readable parquet"]),
    ("log-predictions churn-champion --prediction-column churned -i {tmp}/empty.csv", ["error (input)", "no rows"]),
    (
        "log-actuals churn-champion --id-column request_id --value-column truth -i {actuals}",
        ["(value-column)", "'truth'"],
    ),
    ("log-actuals churn-champion --id-column request_id --value-column label -i {tmp}/no-ids.csv", ["row 2", "empty"]),
]


@pytest.mark.parametrize(("command", "fragments"), BAD_INPUT, ids=[command for command, _ in BAD_INPUT])
def test_bad_input_is_one_error_line(
    monitored: Path, files: dict[str, Path], tmp_path: Path, command: str, fragments: list[str]
) -> None:
    (tmp_path / "notes.txt").write_text("churned\n1\n")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    (tmp_path / "empty.csv").write_text("tenure,charges,churned\n")
    (tmp_path / "no-ids.csv").write_text("request_id,label\n000001,1\n,0\n")
    paths = {"predictions": str(files["predictions"]), "actuals": str(files["actuals"]), "tmp": str(tmp_path)}
    for key, path in paths.items():
        command = command.replace(f"{{{key}}}", path)
    assert_clean_error(invoke(monitored, "monitors", *shlex.split(command)), *fragments)


def test_the_same_over_http(churn: Path, files: dict[str, Path], tmp_path: Path) -> None:
    with running_server(churn) as url:
        _features(300, seed=5).to_parquet(tmp_path / "reference.parquet")
        created = _create(url, "--reference", str(tmp_path / "reference.parquet"))
        assert "created monitor churn-champion" in created.stdout
        _log(url, files)
        _check_report(url)
        assert "DRIFT 1/2 (50%)" in run(url, "report churn-champion").stdout
        # Cells that are not JSON as they come (list cells, dates) and epoch-millisecond timestamps, sent as JSON.
        odd = _features(10, seed=9).assign(
            pred=1, probs=pd.Series([[0.2, 0.8]] * 10), ts=T0_MS + np.arange(10), seen=pd.Timestamp("2024-05-01")
        )
        odd.to_parquet(tmp_path / "odd.parquet")
        options = "--prediction-column pred --score-column probs --timestamp-column ts"
        assert (
            "10 predictions"
            in run(url, f"log-predictions churn-champion {options}", "-i", str(tmp_path / "odd.parquet")).stdout
        )
        assert [
            row["rows"] for row in rows(url, f"report churn-champion --end {T0_MS + 1}") if row["feature"] == "*"
        ] == [210]
        assert "raised now" in run(url, "evaluate churn-champion").stdout
        alerts = rows(url, "alerts churn-champion")
        assert alerts and {alert["status"] for alert in alerts} == {"raised"}
        assert "nothing new" in run(url, "ingest").stdout
        assert "reference file" in created.stdout and "a DataFrame" in run(url, "show churn-champion").stdout
        assert_clean_error(invoke(url, "monitors", "report", "nope"), "'nope'")
        assert_clean_error(invoke(url, "monitors", "create", "churn@champion", "--rule", "psi >> 1"), "psi >> 1")
        run(url, "delete churn-champion --yes")
        assert rows(url, "list") == []
