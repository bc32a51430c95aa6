"""Batched logging and metric histories over HTTP on the real server (/api/v1/runs/{id}/batches, /metrics...)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from api_helpers import T0, error, get_run, history, log, make_run, new_batch_id, ok, send_batch, series

UNKNOWN_ID = "0123456789abcdef0123456789abcdef"


def _refuse_constant(token: str) -> float:
    raise AssertionError(f"the server sent the non-JSON token {token}")


def test_batch_logs_params_tags_and_metric_series(client: httpx.Client) -> None:
    run_id = make_run(client)["id"]
    outcome = log(
        client,
        run_id,
        params={"lr": 0.01, "optimizer": "adam", "layers": 4},
        tags={"team": "vision", "stage": "dev"},
        metrics=[
            series("loss", [0.9, 0.5, 0.25], steps=[0, 1, 2], timestamps=[T0, T0 + 10, T0 + 20]),
            series("val/acc", [0.7], steps=[2], timestamps=[T0 + 30]),
        ],
    )
    assert outcome == {"applied": True, "conflicts": []}
    run = get_run(client, run_id)
    assert run["params"] == {"lr": "0.01", "optimizer": "adam", "layers": "4"}
    assert run["tags"] == {"team": "vision", "stage": "dev"}
    assert run["metrics"] == {
        "loss": {"value": 0.25, "step": 2, "timestamp": T0 + 20},
        "val/acc": {"value": 0.7, "step": 2, "timestamp": T0 + 30},
    }
    loss = history(client, run_id, "loss")
    assert loss == {
        "run_id": run_id,
        "key": "loss",
        "steps": [0, 1, 2],
        "values": [0.9, 0.5, 0.25],
        "timestamps": [T0, T0 + 10, T0 + 20],
        "total": 3,
        "downsampled": False,
    }
    # A later batch adds to the series, and the latest value follows the highest step.
    log(client, run_id, metrics=[series("loss", [0.1], steps=[3])])
    assert history(client, run_id, "loss")["steps"] == [0, 1, 2, 3]
    assert get_run(client, run_id)["metrics"]["loss"]["value"] == 0.1
    # Points logged late for an earlier step do not replace the latest value.
    log(client, run_id, metrics=[series("loss", [5.0], steps=[1], timestamps=[T0 + 999])])
    assert get_run(client, run_id)["metrics"]["loss"] == {"value": 0.1, "step": 3, "timestamp": T0 + 3}
    # Tags can be overwritten; an empty batch is fine.
    log(client, run_id, tags={"stage": "prod"})
    assert get_run(client, run_id)["tags"] == {"team": "vision", "stage": "prod"}
    assert log(client, run_id) == {"applied": True, "conflicts": []}


def test_a_batch_sent_twice_is_applied_once(client: httpx.Client) -> None:
    run_id = make_run(client)["id"]
    bid = new_batch_id()
    body: dict[str, Any] = {
        "metrics": [series("loss", [1.0, 0.5, 0.25])],
        "params": {"lr": "0.1"},
        "tags": {"try": "1"},
        "batch_id": bid,
    }
    assert log(client, run_id, **body) == {"applied": True, "conflicts": []}
    first_history = history(client, run_id, "loss")
    first_run = get_run(client, run_id)

    again = log(client, run_id, **body)
    assert again["applied"] is False
    assert again["conflicts"] == []
    assert history(client, run_id, "loss") == first_history
    assert first_history["total"] == 3
    assert get_run(client, run_id) == first_run
    # The id decides, not the content: a changed batch under a used id is acknowledged and ignored.
    changed = {**body, "metrics": [series("loss", [9.0], steps=[9])], "tags": {"try": "2"}}
    assert log(client, run_id, **changed)["applied"] is False
    assert history(client, run_id, "loss")["total"] == 3
    assert get_run(client, run_id) == first_run
    # A fresh id is applied.
    assert log(client, run_id, metrics=[series("loss", [0.1], steps=[3])])["applied"] is True
    assert history(client, run_id, "loss")["total"] == 4


def test_non_finite_values_round_trip(client: httpx.Client) -> None:
    run_id = make_run(client)["id"]
    values: list[float | str] = [1.5, "NaN", "Infinity", "-Infinity", -0.0, 1e308, 5e-324]
    log(
        client,
        run_id,
        metrics=[
            series("mixed", values),
            series("ends_nan", [1.0, "NaN"]),
            series("ends_inf", [1.0, "Infinity"]),
            series("ends_neg_inf", [1.0, "-Infinity"]),
            series("finite", [0.5, 2]),
        ],
    )
    mixed = history(client, run_id, "mixed")
    assert mixed["values"] == values
    assert mixed["total"] == len(values)
    assert history(client, run_id, "ends_nan")["values"] == [1.0, "NaN"]
    assert history(client, run_id, "finite")["values"] == [0.5, 2.0]
    metrics = get_run(client, run_id)["metrics"]
    assert metrics["mixed"]["value"] == 5e-324
    assert metrics["ends_nan"] == {"value": "NaN", "step": 1, "timestamp": T0 + 1}
    assert metrics["ends_inf"] == {"value": "Infinity", "step": 1, "timestamp": T0 + 1}
    assert metrics["ends_neg_inf"] == {"value": "-Infinity", "step": 1, "timestamp": T0 + 1}
    # Downsampling keeps non-finite values readable too.
    long = [float(i) if i % 7 else "NaN" for i in range(100)]
    log(client, run_id, metrics=[series("gappy", long)])
    for method in ("minmax", "lttb"):
        view = history(client, run_id, "gappy", points=10, method=method)
        assert view["downsampled"] is True
        assert all(value == "NaN" or isinstance(value, float) for value in view["values"])
    # The raw JSON is strict JSON: the strings, never a bare NaN or Infinity token.
    for path in (f"/runs/{run_id}/metrics/history?key=mixed", f"/runs/{run_id}"):
        raw = client.get(path).text
        assert '"NaN"' in raw and '"Infinity"' in raw and '"-Infinity"' in raw
        json.loads(raw, parse_constant=_refuse_constant)


def test_param_conflict_is_reported_and_the_rest_still_lands(client: httpx.Client) -> None:
    run_id = make_run(client)["id"]
    log(client, run_id, params={"lr": "0.1", "seed": 1})
    outcome = log(
        client,
        run_id,
        params={"lr": "0.2", "seed": 1, "batch": 32},
        tags={"t": "v"},
        metrics={"loss": [1.0, 0.5], "acc": [0.5]},
    )
    assert outcome["applied"] is True
    assert len(outcome["conflicts"]) == 1
    conflict = outcome["conflicts"][0]
    assert conflict["field"] == "params.lr"
    assert "0.1" in conflict["message"] and "0.2" in conflict["message"]
    run = get_run(client, run_id)
    assert run["params"] == {"lr": "0.1", "seed": "1", "batch": "32"}
    assert run["tags"] == {"t": "v"}
    assert run["metrics"]["loss"]["value"] == 0.5
    assert run["metrics"]["acc"]["value"] == 0.5
    assert history(client, run_id, "loss")["values"] == [1.0, 0.5]


def _bad_items() -> list[tuple[str, dict[str, Any], str]]:
    """(what, batch body without batch_id, the error field the server must name) for batches whose shape is
    sound but which hold a bad item: the item is set aside and the rest is applied."""
    good = series("good", [1.0, 2.0])
    big = 2**63
    return [
        ("bad key characters", {"metrics": [good, series("bad key!", [1.0])]}, "metrics[1].key"),
        ("key with a leading space", {"metrics": [series(" loss", [1.0])]}, "metrics[0].key"),
        ("empty key", {"metrics": [series("", [1.0])]}, "metrics[0].key"),
        ("key over 250 characters", {"metrics": [series("k" * 251, [1.0])]}, "metrics[0].key"),
        ("value that is text", {"metrics": [series("loss", [1.0, "abc"])]}, "metrics[0].values[1]"),
        ("value 'nan' in lower case", {"metrics": [series("loss", ["nan"])]}, "metrics[0].values[0]"),
        ("boolean value", {"metrics": [series("loss", [1.0, 2.0, True])]}, "metrics[0].values[2]"),
        ("null value", {"metrics": [series("loss", [None])]}, "metrics[0].values[0]"),
        (
            "float step",
            {"metrics": [series("loss", [1.0, 2.0], steps=[0, 1.5], timestamps=[T0, T0])]},
            "metrics[0].steps[1]",
        ),
        (
            "step beyond int64",
            {"metrics": [series("loss", [1.0, 2.0], steps=[0, big], timestamps=[T0, T0])]},
            "metrics[0].steps[1]",
        ),
        (
            "step below int64",
            {"metrics": [series("loss", [1.0], steps=[-big - 1], timestamps=[T0])]},
            "metrics[0].steps[0]",
        ),
        (
            "negative timestamp",
            {"metrics": [series("loss", [1.0, 2.0], steps=[0, 1], timestamps=[T0, -1])]},
            "metrics[0].timestamps[1]",
        ),
        (
            "timestamp in nanoseconds (past year 9999)",
            {"metrics": [series("loss", [1.0], steps=[0], timestamps=[T0 * 1_000_000])]},
            "metrics[0].timestamps[0]",
        ),
        (
            "float timestamp",
            {"metrics": [series("loss", [1.0], steps=[0], timestamps=[T0 + 0.5])]},
            "metrics[0].timestamps[0]",
        ),
        (
            "length mismatch",
            {"metrics": [good, {"key": "loss", "steps": [0, 1], "values": [1.0], "timestamps": [T0, T0]}]},
            "metrics[1]",
        ),
        ("series that is not an object", {"metrics": [good, [1, 2]]}, "metrics[1]"),
        ("values that is not a list", {"metrics": [{**good, "values": 1.0}]}, "metrics[0].values"),
        ("param value over 6000 characters", {"params": {"ok": "1", "KEY": "x" * 6001}}, "params.KEY"),
        ("param value that is an object", {"params": {"nested": {"a": 1}}}, "params.nested"),
        ("param value that is null", {"params": {"none": None}}, "params.none"),
        ("tag value over 8000 characters", {"tags": {"long": "x" * 8001}}, "tags.long"),
        ("params that is a list", {"params": ["lr"]}, "params"),
    ]


def test_a_bad_item_is_named_and_the_rest_of_the_batch_lands(client: httpx.Client) -> None:
    for what, body, field in _bad_items():
        run_id = make_run(client)["id"]
        extras: dict[str, Any] = {"params": {"seed": "1"}, "tags": {"note": "x"}}
        metrics = [*body.get("metrics", []), series("kept", [5.0])]
        full = {**extras, **body, "batch_id": new_batch_id(), "metrics": metrics}
        full["params"] = (
            {**extras["params"], **body["params"]}
            if isinstance(body.get("params"), dict)
            else body.get("params", extras["params"])
        )
        failed = error(client.post(f"/runs/{run_id}/batches", json=full), 400, "INVALID_ARGUMENT", field)
        assert "the rest of the batch was applied" in failed["message"], what
        assert failed["details"]["applied"] is True, what
        assert failed["details"]["rejected"][0]["field"] == field, what
        run = get_run(client, run_id)
        assert run["metrics"]["kept"]["value"] == 5.0, what
        assert run["tags"].get("note") == "x" or field.startswith("tags"), what
        if isinstance(body.get("params"), dict) or "params" not in body:
            assert run["params"].get("seed") == "1", what


def test_a_bad_point_costs_only_that_point(client: httpx.Client) -> None:
    run_id = make_run(client)["id"]
    body = {
        "batch_id": new_batch_id(),
        "metrics": [series("loss", [1.0, "abc", 3.0], steps=[0, 1, 2], timestamps=[T0, T0, T0])],
    }
    failed = error(client.post(f"/runs/{run_id}/batches", json=body), 400, "INVALID_ARGUMENT", "metrics[0].values[1]")
    assert [item["field"] for item in failed["details"]["rejected"]] == ["metrics[0].values[1]"]
    assert history(client, run_id, "loss")["steps"] == [0, 2]
    # The batch id is used up: sending the same batch again applies nothing twice.
    again = error(client.post(f"/runs/{run_id}/batches", json=body), 400, "INVALID_ARGUMENT")
    assert again["details"]["applied"] is False
    assert history(client, run_id, "loss")["total"] == 2


def test_malformed_batches_are_refused_whole(client: httpx.Client) -> None:
    run_id = make_run(client)["id"]
    path = f"/runs/{run_id}/batches"
    good = series("good", [1.0, 2.0])
    for body, field in [
        ({"metrics": {"loss": [1.0]}, "params": {"seed": "1"}}, "metrics"),
        ({"metrics": [good], "metric": [], "params": {"seed": "1"}}, "metric"),
    ]:
        error(client.post(path, json={"batch_id": new_batch_id(), **body}), 400, "INVALID_ARGUMENT", field)
    good_metrics = [good]
    error(client.post(path, json={"metrics": good_metrics}), 400, "INVALID_ARGUMENT", "batch_id")
    error(client.post(path, json={"batch_id": "short", "metrics": good_metrics}), 400, "INVALID_ARGUMENT", "batch_id")
    error(client.post(path, json={"batch_id": "b" * 65, "metrics": good_metrics}), 400, "INVALID_ARGUMENT", "batch_id")
    error(client.post(path, json={"batch_id": "has space1", "metrics": good_metrics}), 400, "INVALID_ARGUMENT")
    error(client.post(path, json={"batch_id": 12345678, "metrics": good_metrics}), 400, "INVALID_ARGUMENT", "batch_id")
    headers = {"content-type": "application/json"}
    error(client.post(path, content=b"not json", headers=headers), 400, "INVALID_ARGUMENT", "body")
    error(client.post(path, content=b"", headers=headers), 400, "INVALID_ARGUMENT", "body")
    error(client.post(path, json=[{"batch_id": new_batch_id()}]), 400, "INVALID_ARGUMENT", "body")
    untouched = get_run(client, run_id)
    assert (untouched["params"], untouched["tags"], untouched["metrics"]) == ({}, {}, {})
    assert history(client, run_id, "good")["total"] == 0


def test_history_is_ordered_by_step_across_batches(client: httpx.Client) -> None:
    run_id = make_run(client)["id"]
    log(client, run_id, metrics=[series("m", [float(s) for s in range(5, 10)], steps=range(5, 10))])
    log(client, run_id, metrics=[series("m", [float(s) for s in range(0, 5)], steps=range(0, 5))])
    log(client, run_id, metrics=[series("m", [12.0, 10.0, 11.0], steps=[12, 10, 11])])
    full = history(client, run_id, "m")
    assert full["steps"] == list(range(13))
    assert full["values"] == [float(s) for s in range(13)]
    assert full["timestamps"] == [T0 + s for s in range(13)]
    assert (full["total"], full["downsampled"]) == (13, False)

    ranged = history(client, run_id, "m", min_step=3, max_step=7)
    assert ranged["steps"] == [3, 4, 5, 6, 7]
    assert ranged["values"] == [3.0, 4.0, 5.0, 6.0, 7.0]
    assert ranged["total"] == 5
    assert history(client, run_id, "m", min_step=11)["steps"] == [11, 12]
    assert history(client, run_id, "m", max_step=1)["steps"] == [0, 1]
    assert history(client, run_id, "m", min_step=4, max_step=4)["steps"] == [4]
    assert history(client, run_id, "m", min_step=100)["steps"] == []
    assert history(client, run_id, "m", min_step=-(2**63), max_step=2**63 - 1)["total"] == 13
    error(
        client.get(f"/runs/{run_id}/metrics/history", params={"key": "m", "min_step": 5, "max_step": 4}),
        400,
        "INVALID_ARGUMENT",
        "min_step",
    )
    # Equal steps keep the order they were logged in, within and across batches.
    log(client, run_id, metrics=[series("tie", [1.0, 2.0], steps=[5, 5]), series("tie", [3.0], steps=[5])])
    log(client, run_id, metrics=[series("tie", [4.0], steps=[5]), series("tie", [0.5], steps=[4])])
    tie = history(client, run_id, "tie")
    assert (tie["steps"], tie["values"]) == ([4, 5, 5, 5, 5], [0.5, 1.0, 2.0, 3.0, 4.0])
    assert get_run(client, run_id)["metrics"]["tie"]["value"] == 4.0
    # The whole int64 step range and the whole timestamp range are kept exactly.
    low, high, last_ms = -(2**63), 2**63 - 1, 253_402_300_799_999
    log(client, run_id, metrics=[series("wide", [1.0, 2.0, 3.0], steps=[high, low, 0], timestamps=[last_ms, 0, T0])])
    wide = history(client, run_id, "wide")
    assert (wide["steps"], wide["values"], wide["timestamps"]) == ([low, 0, high], [2.0, 3.0, 1.0], [0, T0, last_ms])
    assert history(client, run_id, "wide", min_step=low, max_step=low)["values"] == [2.0]
    assert get_run(client, run_id)["metrics"]["wide"] == {"value": 1.0, "step": high, "timestamp": last_ms}
    # Unknown keys have an empty history; unknown runs are not found.
    assert history(client, run_id, "never-logged") == {
        "run_id": run_id,
        "key": "never-logged",
        "steps": [],
        "values": [],
        "timestamps": [],
        "total": 0,
        "downsampled": False,
    }
    error(client.get(f"/runs/{UNKNOWN_ID}/metrics/history", params={"key": "m"}), 404, "NOT_FOUND", "run_id")
    error(client.get(f"/runs/{run_id}/metrics/history"), 400, "INVALID_ARGUMENT", "key")
    error(client.get(f"/runs/{run_id}/metrics/history", params={"key": "bad key!"}), 400, "INVALID_ARGUMENT", "key")


def test_history_step_range_beyond_int64_is_refused_cleanly(client: httpx.Client) -> None:
    run_id = make_run(client)["id"]
    log(client, run_id, metrics=[series("m", [1.0, 2.0])])
    for query in ({"min_step": 2**63}, {"max_step": -(2**63) - 1}, {"min_step": 10**20, "max_step": 10**21}):
        response = client.get(f"/runs/{run_id}/metrics/history", params={"key": "m", **query})
        error(response, 400, "INVALID_ARGUMENT", next(iter(query)))


def test_history_downsampling(client: httpx.Client) -> None:
    run_id = make_run(client)["id"]
    count = 1000
    values = [((i * 37) % 101) / 100 for i in range(count)]
    log(client, run_id, metrics=[series("wave", values)])
    for method in ("minmax", "lttb"):
        view = history(client, run_id, "wave", points=50, method=method)
        assert view["downsampled"] is True
        assert view["total"] == count
        assert 3 <= len(view["steps"]) <= 50
        assert len(view["values"]) == len(view["steps"]) == len(view["timestamps"])
        assert view["steps"][0] == 0 and view["steps"][-1] == count - 1
        assert view["steps"] == sorted(set(view["steps"]))
        # Every point shown is a real point of the series.
        for step, value, stamp in zip(view["steps"], view["values"], view["timestamps"], strict=True):
            assert value == values[step]
            assert stamp == T0 + step
    # min/max keeps the extremes of the series.
    minmax = history(client, run_id, "wave", points=50)
    assert min(minmax["values"]) == min(values) and max(minmax["values"]) == max(values)
    # Downsampling a step range counts that range only.
    ranged = history(client, run_id, "wave", points=10, min_step=100, max_step=299)
    assert (ranged["total"], ranged["downsampled"]) == (200, True)
    assert ranged["steps"][0] == 100 and ranged["steps"][-1] == 299
    # Asking for at least as many points as there are returns them all.
    for points in (count, count + 1):
        whole = history(client, run_id, "wave", points=points)
        assert (whole["total"], whole["downsampled"], len(whole["steps"])) == (count, False, count)
    for bad in (0, 2, 1_000_001):
        error(
            client.get(f"/runs/{run_id}/metrics/history", params={"key": "wave", "points": bad}),
            400,
            "INVALID_ARGUMENT",
            "points",
        )
    error(
        client.get(f"/runs/{run_id}/metrics/history", params={"key": "wave", "points": 10, "method": "median"}),
        400,
        "INVALID_ARGUMENT",
        "method",
    )


def test_metric_keys_and_tag_deletion(client: httpx.Client) -> None:
    run_id = make_run(client)["id"]
    assert ok(client.get(f"/runs/{run_id}/metrics")) == {"keys": []}
    log(client, run_id, metrics={"val/loss": [1.0], "acc": [0.5], "Zeta": [1.0]}, tags={"keep": "1", "drop": "2"})
    assert ok(client.get(f"/runs/{run_id}/metrics")) == {"keys": ["Zeta", "acc", "val/loss"]}
    error(client.get(f"/runs/{UNKNOWN_ID}/metrics"), 404, "NOT_FOUND", "run_id")

    assert ok(client.delete(f"/runs/{run_id}/tags", params={"key": "drop"})) == {"deleted": "drop"}
    assert get_run(client, run_id)["tags"] == {"keep": "1"}
    error(client.delete(f"/runs/{run_id}/tags", params={"key": "drop"}), 404, "NOT_FOUND", "key")
    error(client.delete(f"/runs/{run_id}/tags"), 400, "INVALID_ARGUMENT", "key")
    error(client.delete(f"/runs/{run_id}/tags", params={"key": "bad key!"}), 400, "INVALID_ARGUMENT", "key")
    error(client.delete(f"/runs/{UNKNOWN_ID}/tags", params={"key": "keep"}), 404, "NOT_FOUND", "run_id")
    # A deleted tag can be set again.
    log(client, run_id, tags={"drop": "3"})
    assert get_run(client, run_id)["tags"] == {"keep": "1", "drop": "3"}
    assert send_batch(client, run_id).status_code == 200
