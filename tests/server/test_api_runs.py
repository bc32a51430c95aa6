"""/api/v1/runs over HTTP on the real server: create, read, update, finish, resume, delete, restore and move."""

from __future__ import annotations

import re
import time

import httpx
from api_helpers import T0, error, get_run, log, make_project, make_run, new_id, ok, search, send_batch

UNKNOWN_ID = "0123456789abcdef0123456789abcdef"


def _now_ms() -> int:
    return int(time.time() * 1000)


def _search_ids(client: httpx.Client, **body: object) -> set[str]:
    return {run["id"] for run in search(client, **body)["runs"]}


def test_create_by_project_name_creates_the_project(client: httpx.Client) -> None:
    before = _now_ms()
    run = make_run(client, "fresh")
    after = _now_ms()
    assert re.fullmatch(r"[0-9a-f]{32}", run["id"])
    assert run["status"] == "RUNNING"
    assert run["end_time"] is None
    assert before - 1000 <= run["start_time"] <= after + 1000
    assert run["name"], "a run without a name gets a generated one"
    assert (run["user"], run["notes"], run["parent_run_id"], run["deleted_at"]) == ("", "", None, None)
    assert (run["params"], run["tags"], run["metrics"]) == ({}, {}, {})

    project = ok(client.get("/projects/by-name", params={"name": "fresh"}))
    assert run["project_id"] == project["id"]
    # The same name reuses the project; the id works as well.
    assert make_run(client, "fresh")["project_id"] == project["id"]
    by_id = make_run(client, None, project_id=project["id"])
    assert by_id["project_id"] == project["id"]
    assert [p["name"] for p in ok(client.get("/projects"))["projects"]] == ["fresh"]
    assert len(_search_ids(client, projects=["fresh"])) == 3
    assert get_run(client, run["id"]) == run

    # Exactly one of project (a name) or project_id.
    error(client.post("/runs", json={}), 400, "INVALID_ARGUMENT", "project")
    both = {"project": "fresh", "project_id": project["id"]}
    error(client.post("/runs", json=both), 400, "INVALID_ARGUMENT", "project")
    error(client.post("/runs", json={"project_id": UNKNOWN_ID}), 404, "NOT_FOUND", "project_id")
    error(client.post("/runs", json={"project": ""}), 400, "INVALID_ARGUMENT", "project")
    error(client.post("/runs", json={"project": " p"}), 400, "INVALID_ARGUMENT", "project")
    error(client.post("/runs", json={"project": "fresh", "colour": "red"}), 400, "INVALID_ARGUMENT", "colour")
    assert len(_search_ids(client, projects=["fresh"])) == 3
    assert [p["name"] for p in ok(client.get("/projects"))["projects"]] == ["fresh"]


def test_client_made_run_id_is_idempotent(client: httpx.Client) -> None:
    run_id = new_id()
    body = {"project": "p", "run_id": run_id, "name": "first", "params": {"lr": 0.1}, "tags": {"team": "x"}}
    first = ok(client.post("/runs", json=body), 201)
    assert first["id"] == run_id
    assert first["name"] == "first"
    assert (first["params"], first["tags"]) == ({"lr": "0.1"}, {"team": "x"})
    # A retry (the client never saw the answer) returns the same run and creates nothing new.
    again = client.post("/runs", json=body)
    assert again.status_code in (200, 201)
    assert again.json()["id"] == run_id
    assert again.json()["params"] == {"lr": "0.1"}
    assert _search_ids(client, projects=["p"]) == {run_id}
    # The run's data survives the retry.
    log(client, run_id, metrics={"loss": [0.5, 0.4]})
    assert client.post("/runs", json=body).json()["metrics"]["loss"]["value"] == 0.4
    # The same id in another project is a conflict, not a silent move.
    error(client.post("/runs", json={"project": "other", "run_id": run_id}), 409, "CONFLICT", "run_id")
    assert get_run(client, run_id)["project_id"] == first["project_id"]

    # Client-made ids must be 32 lowercase hex characters.
    for bad in ["", "abc", "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcde", "g" * 32, "0" * 33]:
        error(client.post("/runs", json={"project": "p", "run_id": bad}), 400, "INVALID_ARGUMENT", "run_id")
    error(client.post("/runs", json={"project": "p", "run_id": 123}), 400, "INVALID_ARGUMENT", "run_id")
    assert _search_ids(client, projects=["p"]) == {run_id}
    # Reading a run by a malformed id is refused the same way; a well-formed unknown id is not found.
    error(client.get("/runs/NOT-AN-ID"), 400, "INVALID_ARGUMENT", "run_id")
    error(client.get(f"/runs/{UNKNOWN_ID}"), 404, "NOT_FOUND", "run_id")
    for method, path in [
        ("PATCH", f"/runs/{UNKNOWN_ID}"),
        ("POST", f"/runs/{UNKNOWN_ID}/finish"),
        ("POST", f"/runs/{UNKNOWN_ID}/resume"),
        ("DELETE", f"/runs/{UNKNOWN_ID}"),
        ("POST", f"/runs/{UNKNOWN_ID}/restore"),
    ]:
        payload = {} if method != "DELETE" else None
        error(client.request(method, path, json=payload), 404, "NOT_FOUND")


def test_rejected_create_leaves_nothing_behind(client: httpx.Client) -> None:
    """A run refused for a bad field creates neither the run nor the project it named."""
    error(client.post("/runs", json={"project": "ghost1", "run_id": "bad"}), 400, "INVALID_ARGUMENT", "run_id")
    error(
        client.post("/runs", json={"project": "ghost2", "params": {"lr": "x" * 6001}}),
        400,
        "INVALID_ARGUMENT",
        "params.lr",
    )
    error(client.post("/runs", json={"project": "ghost3", "name": " padded"}), 400, "INVALID_ARGUMENT", "name")
    assert ok(client.get("/projects"))["projects"] == []
    for name in ["ghost1", "ghost2", "ghost3"]:
        error(client.get("/projects/by-name", params={"name": name}), 404, "NOT_FOUND")


def test_create_with_all_fields(client: httpx.Client) -> None:
    run = make_run(
        client,
        "p",
        name="baseline",
        user="ada",
        notes="first try",
        start_time=T0,
        params={"lr": 0.001, "layers": 3, "optimizer": "adam", "nesterov": True},
        tags={"team": "vision", "priority": 1},
    )
    assert run["name"] == "baseline"
    assert run["user"] == "ada"
    assert run["notes"] == "first try"
    assert run["start_time"] == T0
    assert run["params"] == {"lr": "0.001", "layers": "3", "optimizer": "adam", "nesterov": "True"}
    assert run["tags"] == {"team": "vision", "priority": "1"}
    assert get_run(client, run["id"]) == run
    # Each field is checked and named.
    error(client.post("/runs", json={"project": "p", "start_time": -1}), 400, "INVALID_ARGUMENT", "start_time")
    error(client.post("/runs", json={"project": "p", "start_time": 10**19}), 400, "INVALID_ARGUMENT", "start_time")
    error(client.post("/runs", json={"project": "p", "name": "x" * 251}), 400, "INVALID_ARGUMENT", "name")
    error(client.post("/runs", json={"project": "p", "user": "u" * 201}), 400, "INVALID_ARGUMENT", "user")
    error(client.post("/runs", json={"project": "p", "params": {"bad key!": 1}}), 400, "INVALID_ARGUMENT")
    error(client.post("/runs", json={"project": "p", "tags": {"t": "x" * 8001}}), 400, "INVALID_ARGUMENT", "tags.t")
    assert _search_ids(client, projects=["p"]) == {run["id"]}
    # The earliest valid time is kept as given, not replaced by "now".
    assert make_run(client, "p", start_time=0)["start_time"] == 0


def test_update_name_status_and_notes(client: httpx.Client) -> None:
    run = make_run(client, "p", name="before")
    run_id = run["id"]
    updated = ok(client.patch(f"/runs/{run_id}", json={"name": "after", "notes": "tuned lr"}))
    assert (updated["name"], updated["notes"], updated["status"]) == ("after", "tuned lr", "RUNNING")
    assert updated["end_time"] is None

    before = _now_ms()
    finished = ok(client.patch(f"/runs/{run_id}", json={"status": "FINISHED"}))
    assert finished["status"] == "FINISHED"
    assert finished["end_time"] is not None and finished["end_time"] >= before - 1000
    assert ok(client.patch(f"/runs/{run_id}", json={"status": "failed"}))["status"] == "FAILED"
    running = ok(client.patch(f"/runs/{run_id}", json={"status": "RUNNING"}))
    assert running["status"] == "RUNNING"
    assert running["end_time"] is None
    killed = ok(client.patch(f"/runs/{run_id}", json={"status": "KILLED"}))
    assert killed["end_time"] is not None

    for bad in ["DONE", "", "running please"]:
        failed = error(client.patch(f"/runs/{run_id}", json={"status": bad}), 400, "INVALID_ARGUMENT", "status")
        assert "RUNNING" in failed["message"]
    error(client.patch(f"/runs/{run_id}", json={"status": 3}), 400, "INVALID_ARGUMENT", "status")
    error(client.patch(f"/runs/{run_id}", json={"name": ""}), 400, "INVALID_ARGUMENT", "name")
    error(client.patch(f"/runs/{run_id}", json={"name": "trailing "}), 400, "INVALID_ARGUMENT", "name")
    error(client.patch(f"/runs/{run_id}", json={"project_id": UNKNOWN_ID}), 400, "INVALID_ARGUMENT", "project_id")
    # A refused update changes nothing.
    current = get_run(client, run_id)
    assert (current["name"], current["status"], current["notes"]) == ("after", "KILLED", "tuned lr")
    # An empty update is harmless.
    assert ok(client.patch(f"/runs/{run_id}", json={}))["name"] == "after"


def test_finish_and_resume(client: httpx.Client) -> None:
    run = make_run(client, "p", start_time=T0)
    run_id = run["id"]
    finished = ok(client.post(f"/runs/{run_id}/finish", json={}))
    assert finished["status"] == "FINISHED"
    assert finished["end_time"] is not None

    resumed = ok(client.post(f"/runs/{run_id}/resume"))
    assert resumed["status"] == "RUNNING"
    assert resumed["end_time"] is None
    log(client, run_id, metrics={"loss": [1.0]})

    failed = ok(client.post(f"/runs/{run_id}/finish", json={"status": "FAILED", "end_time": T0 + 5_000}))
    assert (failed["status"], failed["end_time"]) == ("FAILED", T0 + 5_000)
    error(client.post(f"/runs/{run_id}/finish", json={"status": "RUNNING"}), 400, "INVALID_ARGUMENT", "status")
    error(client.post(f"/runs/{run_id}/finish", json={"status": "DONE"}), 400, "INVALID_ARGUMENT", "status")
    error(client.post(f"/runs/{run_id}/finish", json={"end_time": -5}), 400, "INVALID_ARGUMENT", "end_time")
    assert get_run(client, run_id)["status"] == "FAILED"

    # A deleted run must be restored before it is resumed.
    ok(client.delete(f"/runs/{run_id}"))
    error(client.post(f"/runs/{run_id}/resume"), 409, "CONFLICT", "run_id")
    ok(client.post(f"/runs/{run_id}/restore"))
    assert ok(client.post(f"/runs/{run_id}/resume"))["status"] == "RUNNING"


def test_delete_and_restore_single_and_bulk(client: httpx.Client) -> None:
    runs = [make_run(client, "p")["id"] for _ in range(4)]
    project_id = get_run(client, runs[0])["project_id"]

    deleted = ok(client.delete(f"/runs/{runs[0]}"))
    assert deleted["id"] == runs[0]
    assert deleted["deleted_at"] is not None
    assert _search_ids(client, projects=["p"]) == set(runs[1:])
    assert _search_ids(client, projects=["p"], deleted=True) == {runs[0]}
    # A deleted run can still be read directly.
    assert get_run(client, runs[0])["deleted_at"] is not None
    restored = ok(client.post(f"/runs/{runs[0]}/restore"))
    assert restored["deleted_at"] is None
    assert _search_ids(client, projects=["p"]) == set(runs)

    assert ok(client.post("/runs/delete", json={"run_ids": runs[1:3]})) == {"changed": 2}
    assert _search_ids(client, projects=["p"]) == {runs[0], runs[3]}
    assert _search_ids(client, project_ids=[project_id], deleted=True) == set(runs[1:3])
    assert ok(client.post("/runs/restore", json={"run_ids": runs[1:3]})) == {"changed": 2}
    assert _search_ids(client, projects=["p"]) == set(runs)

    # One unknown id refuses the whole bulk call: nothing is deleted.
    error(client.post("/runs/delete", json={"run_ids": [runs[0], UNKNOWN_ID]}), 404, "NOT_FOUND")
    error(client.post("/runs/delete", json={"run_ids": [runs[0], "bad"]}), 400, "INVALID_ARGUMENT")
    assert _search_ids(client, projects=["p"]) == set(runs)
    error(client.post("/runs/delete", json={"run_ids": []}), 400, "INVALID_ARGUMENT", "run_ids")
    error(client.post("/runs/restore", json={}), 400, "INVALID_ARGUMENT", "run_ids")
    error(client.post("/runs/delete", json={"run_ids": runs[0]}), 400, "INVALID_ARGUMENT", "run_ids")


def test_move_runs_to_another_project(client: httpx.Client) -> None:
    source = make_project(client, "source")
    target = make_project(client, "target")
    moving = [make_run(client, "source", name=f"m{i}")["id"] for i in range(2)]
    staying = make_run(client, "source", name="stay")["id"]
    log(client, moving[0], metrics={"acc": [0.5, 0.9]}, params={"lr": "0.1"})

    assert ok(client.post("/runs/move", json={"run_ids": moving, "project_id": target["id"]})) == {"changed": 2}
    assert _search_ids(client, projects=["target"]) == set(moving)
    assert _search_ids(client, projects=["source"]) == {staying}
    assert get_run(client, moving[0])["project_id"] == target["id"]
    # Their data came along and is searchable in the new project.
    found = search(client, projects=["target"], filter="metrics.acc > 0.8 and params.lr = '0.1'")["runs"]
    assert [run["id"] for run in found] == [moving[0]]
    listed = {p["name"]: p["run_count"] for p in ok(client.get("/projects"))["projects"]}
    assert listed == {"source": 1, "target": 2}

    # Moving to an unknown or deleted project, or moving unknown runs, changes nothing.
    error(client.post("/runs/move", json={"run_ids": [staying], "project_id": UNKNOWN_ID}), 404, "NOT_FOUND")
    error(
        client.post("/runs/move", json={"run_ids": [staying, UNKNOWN_ID], "project_id": target["id"]}),
        404,
        "NOT_FOUND",
    )
    error(client.post("/runs/move", json={"run_ids": [staying]}), 400, "INVALID_ARGUMENT", "project_id")
    ok(client.delete(f"/projects/{target['id']}"))
    error(client.post("/runs/move", json={"run_ids": [staying], "project_id": target["id"]}), 409, "CONFLICT")
    assert get_run(client, staying)["project_id"] == source["id"]


def test_parent_run_must_exist(client: httpx.Client) -> None:
    parent = make_run(client, "p", name="parent")
    child = make_run(client, "p", name="child", parent_run_id=parent["id"])
    assert child["parent_run_id"] == parent["id"]
    assert get_run(client, child["id"])["parent_run_id"] == parent["id"]
    found = search(client, projects=["p"], filter=f"attributes.parent_run_id = '{parent['id']}'")["runs"]
    assert [run["id"] for run in found] == [child["id"]]

    error(
        client.post("/runs", json={"project": "p", "parent_run_id": "nope"}), 400, "INVALID_ARGUMENT", "parent_run_id"
    )
    missing = client.post("/runs", json={"project": "p", "parent_run_id": UNKNOWN_ID})
    assert missing.status_code in (400, 404), missing.text
    # The error names the field the caller has to fix, not the run being created.
    assert missing.json()["error"]["field"] == "parent_run_id", missing.json()
    assert _search_ids(client, projects=["p"]) == {parent["id"], child["id"]}


def test_logging_to_a_deleted_run_is_a_conflict(client: httpx.Client) -> None:
    run_id = make_run(client, "p")["id"]
    log(client, run_id, metrics={"loss": [1.0]})
    ok(client.delete(f"/runs/{run_id}"))
    failed = error(send_batch(client, run_id, metrics={"loss": [0.5]}, params={"lr": "1"}), 409, "CONFLICT")
    assert "deleted" in failed["message"]
    ok(client.post(f"/runs/{run_id}/restore"))
    run = get_run(client, run_id)
    assert run["params"] == {}
    assert run["metrics"]["loss"]["value"] == 1.0
    # Once restored, logging works again.
    assert log(client, run_id, metrics={"loss": [1.0, 0.5]})["applied"] is True
    assert get_run(client, run_id)["metrics"]["loss"]["value"] == 0.5
    error(send_batch(client, UNKNOWN_ID, metrics={"loss": [0.5]}), 404, "NOT_FOUND", "run_id")
