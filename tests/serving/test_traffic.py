"""Alias following under load, the weighted canary, shadow traffic and the prediction log they write."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import httpx
import pyarrow.dataset as ds

from ridgeline.serving.options import ServeOptions
from serving.support import Broken, fitted, register_versions, scoring_server, wait_for

BODY = {"dataframe_records": [{"x1": 0.25, "x2": 0.5}]}


def _hammer(url: str, workers: int, stop: threading.Event, limit: int | None = None) -> list[tuple[int, int | None]]:
    """``workers`` threads sending one-row requests until ``stop`` (or ``limit`` requests in all)."""
    results: list[tuple[int, int | None]] = []
    lock = threading.Lock()

    sent = 0

    def ticket() -> bool:
        nonlocal sent
        with lock:
            if stop.is_set() or (limit is not None and sent >= limit):
                return False
            sent += 1
            return True

    def work() -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            while ticket():
                try:
                    response = http.post("/invocations", json=BODY)
                    outcome = (response.status_code, response.json().get("model_version"))
                except httpx.HTTPError:
                    outcome = (0, None)
                with lock:
                    results.append(outcome)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _log(folder: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = ds.dataset(folder, format="parquet", partitioning="hive").to_table().to_pylist()
    return rows


def test_moving_the_alias_twice_under_load_fails_no_request(tmp_path: Path) -> None:
    client = register_versions(tmp_path, "house", 2)
    client.set_model_alias("house", "champion", 1)
    options = ServeOptions(uri="models:/house@champion", poll_interval=0.1, log_predictions=False)
    stop = threading.Event()
    with scoring_server(tmp_path, options, {1: fitted(1), 2: fitted(2)}) as (url, runtime):
        results: list[tuple[int, int | None]] = []
        load = threading.Thread(target=lambda: results.extend(_hammer(url, 16, stop)))
        load.start()
        wait_for(lambda: runtime.metrics.requests[("1", "200")] > 50)
        client.set_model_alias("house", "champion", 2)
        wait_for(lambda: runtime.primary.current is not None and runtime.primary.current.version == 2)
        wait_for(lambda: runtime.metrics.requests[("2", "200")] > 50)
        client.set_model_alias("house", "champion", 1)  # the rollback
        wait_for(lambda: runtime.primary.current is not None and runtime.primary.current.version == 1)
        seen_after = runtime.metrics.requests[("1", "200")]
        wait_for(lambda: runtime.metrics.requests[("1", "200")] > seen_after + 50)
        stop.set()
        load.join()
    statuses = Counter(status for status, _ in results)
    assert set(statuses) == {200}, statuses
    versions = [version for _, version in results]
    first_two = versions.index(2)
    assert set(versions[:first_two]) == {1}
    assert 1 in versions[versions.index(2) :]  # back on version 1 after the rollback
    assert versions[-1] == 1


def test_canary_share_over_10000_requests(tmp_path: Path) -> None:
    client = register_versions(tmp_path, "house", 2)
    client.set_model_alias("house", "champion", 1)
    client.set_model_alias("house", "challenger", 2)
    folder = tmp_path / "log"
    options = ServeOptions(uri="models:/house@champion", canary="challenger=10", prediction_log=folder)
    with scoring_server(tmp_path, options, {1: fitted(1), 2: fitted(2)}) as (url, _):
        assert httpx.get(f"{url}/version").json()["canary"] == {"alias": "challenger", "share": 10.0, "version": 2}
        results = _hammer(url, 16, threading.Event(), limit=10_000)
    assert len(results) == 10_000
    counts = Counter(version for _, version in results)
    assert {status for status, _ in results} == {200}
    # Binomial(10000, 0.1): sd 30; five of them is a failure once in millions of runs.
    assert abs(counts[2] - 1000) < 150, counts
    rows = _log(folder)
    assert len(rows) == 10_000
    assert Counter(row["role"] for row in rows) == {"primary": counts[1], "canary": counts[2]}
    assert Counter(row["version"] for row in rows) == {1: counts[1], 2: counts[2]}


def test_shadow_is_logged_for_every_request_and_never_returned(tmp_path: Path) -> None:
    client = register_versions(tmp_path, "house", 2)
    client.set_model_alias("house", "champion", 1)
    client.set_model_alias("house", "challenger", 2)
    folder = tmp_path / "log"
    options = ServeOptions(uri="models:/house@champion", shadow="challenger", prediction_log=folder)
    answers = []
    with scoring_server(tmp_path, options, {1: fitted(1), 2: fitted(2)}) as (url, _):
        for index in range(200):
            response = httpx.post(f"{url}/invocations", json=BODY, headers={"X-Request-Id": f"r{index}"})
            assert response.status_code == 200
            answers.append(response.json())
        assert httpx.get(f"{url}/version").json()["shadow"] == {"alias": "challenger", "version": 2}
    # Version 1 predicts about 1000, version 2 about 2000: every answer came from version 1.
    assert all(answer["model_version"] == 1 and 900 < answer["predictions"][0] < 1100 for answer in answers)
    assert all(set(answer) == {"predictions", "model_version"} for answer in answers)
    rows = _log(folder)
    by_role: dict[str, dict[str, dict[str, object]]] = {"primary": {}, "shadow": {}}
    for row in rows:
        by_role[str(row["role"])][str(row["request_id"])] = row
    assert set(by_role["primary"]) == set(by_role["shadow"]) == {f"r{index}" for index in range(200)}
    shadow = by_role["shadow"]["r7"]
    assert shadow["version"] == 2 and shadow["error"] is None
    assert 1900 < float(str(shadow["output"])) < 2100
    assert isinstance(shadow["latency_ms"], float) and shadow["latency_ms"] > 0
    assert shadow["inputs"] == '{"x1":0.25,"x2":0.5}'


def test_a_failing_shadow_never_fails_a_request(tmp_path: Path) -> None:
    client = register_versions(tmp_path, "house", 2)
    client.set_model_alias("house", "champion", 1)
    client.set_model_alias("house", "challenger", 2)
    folder = tmp_path / "log"
    broken = fitted(2)
    options = ServeOptions(uri="models:/house@champion", shadow="challenger", prediction_log=folder)
    with scoring_server(tmp_path, options, {1: fitted(1), 2: Broken(broken.estimator, broken.signature)}) as (
        url,
        runtime,
    ):
        statuses = [httpx.post(f"{url}/invocations", json=BODY).status_code for _ in range(50)]
        wait_for(lambda: runtime.metrics.shadow[("2", "error")] == 50)
        assert 'outcome="error"} 50' in httpx.get(f"{url}/metrics").text
    assert statuses == [200] * 50
    shadows = [row for row in _log(folder) if row["role"] == "shadow"]
    assert len(shadows) == 50
    assert all(row["output"] is None and "this model always fails" in str(row["error"]) for row in shadows)


def test_prediction_log_rows(tmp_path: Path) -> None:
    register_versions(tmp_path, "house", 1).set_model_alias("house", "champion", 1)
    folder = tmp_path / "log"
    options = ServeOptions(uri="models:/house@champion", prediction_log=folder)
    with scoring_server(tmp_path, options, {1: fitted(1)}) as (url, _):
        body = {"dataframe_split": {"columns": ["x1", "x2"], "data": [[1.0, 2.0], [3.0, 4.0]]}}
        answer = httpx.post(f"{url}/invocations", json=body, headers={"X-Request-Id": "two-rows"}).json()
    partitions = [path.name for path in folder.iterdir()]
    assert len(partitions) == 1 and partitions[0].startswith("date=")
    rows = sorted(_log(folder), key=lambda row: int(str(row["row"])))
    assert [row["row"] for row in rows] == [0, 1]
    assert [row["inputs"] for row in rows] == ['{"x1":1.0,"x2":2.0}', '{"x1":3.0,"x2":4.0}']
    assert [float(str(row["output"])) for row in rows] == answer["predictions"]
    assert {row["request_id"] for row in rows} == {"two-rows"}
    assert {(row["model"], row["version"], row["role"]) for row in rows} == {("house", 1, "primary")}
    assert all(row["latency_ms"] >= 0 and row["error"] is None and row["timestamp"] is not None for row in rows)


def test_micro_batching_answers_each_request_with_its_own_rows(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    register_versions(tmp_path, "house", 1).set_model_alias("house", "champion", 1)
    model = fitted(1)
    options = ServeOptions(uri="models:/house@champion", batch_max=64, batch_wait_ms=2, log_predictions=False)
    answers: dict[int, list[float]] = {}
    refusals: list[str] = []
    with scoring_server(tmp_path, options, {1: model}) as (url, runtime):

        def work(worker: int) -> None:
            with httpx.Client(base_url=url, timeout=30) as http:
                for index in range(worker * 100, worker * 100 + 40):
                    if index % 10 == 7:  # a bad request among the others: refused alone, the rest answered
                        bad = http.post("/invocations", json={"dataframe_records": [{"x1": 1.0}]})
                        refusals.append(bad.json()["error"]["field"])
                        continue
                    rows = [{"x1": float(index), "x2": float(row)} for row in range(1 + index % 3)]
                    response = http.post("/invocations", json={"dataframe_records": rows})
                    assert response.status_code == 200, response.text
                    answers[index] = response.json()["predictions"]

        threads = [threading.Thread(target=work, args=(worker,)) for worker in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        metrics = httpx.get(f"{url}/metrics").text
    # 16 clients at once: batches formed (a refused batch is retried request by request, each counted again).
    assert runtime.metrics.batched_requests >= 16 * 40
    assert runtime.metrics.batches < runtime.metrics.batched_requests
    assert "ridgeline_serving_batches_total{worker=" in metrics
    assert refusals == ["x2"] * 16 * 4
    assert len(answers) == 16 * 36
    for index, predictions in answers.items():
        rows = pd.DataFrame({"x1": float(index), "x2": np.arange(1 + index % 3, dtype=float)})
        np.testing.assert_allclose(predictions, model.predict_prepared(rows))
