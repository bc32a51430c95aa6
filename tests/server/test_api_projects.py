"""/api/v1/projects over HTTP on the real server: create, read, list, rename, soft delete and restore."""

from __future__ import annotations

import re
import time

import httpx
from api_helpers import error, make_project, make_run, ok

UNKNOWN_ID = "0123456789abcdef0123456789abcdef"


def _names(client: httpx.Client, **query: object) -> list[str]:
    return [project["name"] for project in ok(client.get("/projects", params=query))["projects"]]


def test_create_then_get_by_id_and_by_name(client: httpx.Client) -> None:
    # Unknown ids are not found by any endpoint, and nothing is created by asking.
    error(client.get(f"/projects/{UNKNOWN_ID}"), 404, "NOT_FOUND")
    error(client.get("/projects/not-an-id"), 404, "NOT_FOUND")
    error(client.patch(f"/projects/{UNKNOWN_ID}", json={"name": "x"}), 404, "NOT_FOUND")
    error(client.patch(f"/projects/{UNKNOWN_ID}", json={"description": "x"}), 404, "NOT_FOUND")
    error(client.delete(f"/projects/{UNKNOWN_ID}"), 404, "NOT_FOUND")
    error(client.post(f"/projects/{UNKNOWN_ID}/restore"), 404, "NOT_FOUND")
    # Nothing was created by any of these.
    assert _names(client) == []
    assert _names(client, deleted="true") == []
    before = int(time.time() * 1000)
    response = client.post("/projects", json={"name": "vision", "description": "image models"})
    assert response.status_code == 201
    created = response.json()
    after = int(time.time() * 1000)
    assert re.fullmatch(r"[0-9a-f]{32}", created["id"])
    assert created["name"] == "vision"
    assert created["description"] == "image models"
    assert before - 1000 <= created["created_at"] <= after + 1000
    assert created["updated_at"] >= created["created_at"]
    assert created["deleted_at"] is None
    assert created["run_count"] == 0

    assert ok(client.get(f"/projects/{created['id']}")) == created
    assert ok(client.get("/projects/by-name", params={"name": "vision"})) == created
    # The description is optional.
    assert make_project(client, "bare")["description"] == ""
    # Names are matched exactly.
    error(client.get("/projects/by-name", params={"name": "Vision"}), 404, "NOT_FOUND", "name")
    error(client.get("/projects/by-name", params={"name": "nope"}), 404, "NOT_FOUND", "name")
    error(client.get("/projects/by-name"), 400, "INVALID_ARGUMENT", "name")


def test_duplicate_name_is_already_exists(client: httpx.Client) -> None:
    first = make_project(client, "dup", "first")
    failed = error(client.post("/projects", json={"name": "dup", "description": "second"}), 409, "ALREADY_EXISTS")
    assert failed["field"] == "name"
    assert "dup" in failed["message"]
    # The first project is untouched and still the only one.
    assert ok(client.get("/projects/by-name", params={"name": "dup"}))["description"] == "first"
    assert _names(client) == ["dup"]
    # A deleted project still holds its name, and the error says how to get it back.
    ok(client.delete(f"/projects/{first['id']}"))
    failed = error(client.post("/projects", json={"name": "dup"}), 409, "ALREADY_EXISTS", "name")
    assert "deleted" in failed["message"]


def test_bad_names_are_invalid_and_create_nothing(client: httpx.Client) -> None:
    bad_names = [
        "",
        " ",
        "\t",
        " padded",
        "padded ",
        "new\nline",
        "bell\x07",
        "nul\x00",
        "tab\tinside",
        "x" * 201,
    ]
    for name in bad_names:
        failed = error(client.post("/projects", json={"name": name}), 400, "INVALID_ARGUMENT", "name")
        assert failed["message"]
    assert _names(client) == []
    assert _names(client, deleted="true") == []
    # The limits are inclusive: 200 characters and inner spaces and non-ASCII letters are fine.
    for name in ["x" * 200, "with inner spaces", "Ünïcødé 名前", "a"]:
        assert make_project(client, name)["name"] == name
    # Missing or mistyped names and unknown fields are refused too.
    error(client.post("/projects", json={}), 400, "INVALID_ARGUMENT", "name")
    error(client.post("/projects", json={"name": None}), 400, "INVALID_ARGUMENT", "name")
    error(client.post("/projects", json={"name": "ok", "colour": "red"}), 400, "INVALID_ARGUMENT", "colour")
    error(client.post("/projects", json={"name": "ok2", "description": "x" * 100_001}), 400, "INVALID_ARGUMENT")
    assert "ok" not in _names(client) and "ok2" not in _names(client)
    # A rename is held to the same rules.
    project = make_project(client, "keep")
    for name in ["", " keep", "a\x1bb", "y" * 201]:
        error(client.patch(f"/projects/{project['id']}", json={"name": name}), 400, "INVALID_ARGUMENT", "name")
    assert ok(client.get(f"/projects/{project['id']}"))["name"] == "keep"


def test_list_and_search_by_name(client: httpx.Client) -> None:
    for name in ["alpha", "beta", "Alphabet soup", "a_b", "axb", "100%"]:
        make_project(client, name)
    # Listing is ordered by name (code point order).
    assert _names(client) == ["100%", "Alphabet soup", "a_b", "alpha", "axb", "beta"]
    # q searches names case-insensitively, and its LIKE wildcards are taken literally.
    assert _names(client, q="ALPHA") == ["Alphabet soup", "alpha"]
    assert _names(client, q="pha") == ["Alphabet soup", "alpha"]
    assert _names(client, q="_") == ["a_b"]
    assert _names(client, q="%") == ["100%"]
    assert _names(client, q="zzz") == []
    assert _names(client, q="") == _names(client)
    error(client.get("/projects", params={"q": "q" * 201}), 400, "INVALID_ARGUMENT", "q")
    # A name outside ASCII is found by itself, written exactly as it is.
    make_project(client, "Übung")
    make_project(client, "日本語 model")
    assert _names(client, q="日本") == ["日本語 model"]
    assert _names(client, q="bung") == ["Übung"]
    assert _names(client, q="Übung") == ["Übung"]


def test_run_counts(client: httpx.Client) -> None:
    alpha = make_project(client, "alpha")
    make_project(client, "beta")
    make_project(client, "empty")
    # run_count counts the live runs of each project.
    runs = [make_run(client, project_id=alpha["id"]) for _ in range(3)]
    make_run(client, "beta")
    ok(client.delete(f"/runs/{runs[0]['id']}"))
    listed = {p["name"]: p for p in ok(client.get("/projects"))["projects"]}
    assert listed["alpha"]["run_count"] == 2
    assert listed["beta"]["run_count"] == 1
    assert listed["empty"]["run_count"] == 0
    assert listed["alpha"]["last_activity"] >= listed["alpha"]["created_at"]
    # Reading one project tells the same as the list does.
    single = ok(client.get(f"/projects/{alpha['id']}"))
    assert single["run_count"] == 2, single
    by_name = ok(client.get("/projects/by-name", params={"name": "alpha"}))
    assert by_name["run_count"] == 2, by_name
    assert by_name["last_activity"] == listed["alpha"]["last_activity"], by_name


def test_rename_and_describe(client: httpx.Client) -> None:
    project = make_project(client, "old", "first words")
    other = make_project(client, "taken")
    renamed = ok(client.patch(f"/projects/{project['id']}", json={"name": "new"}))
    assert renamed["id"] == project["id"]
    assert renamed["name"] == "new"
    assert renamed["description"] == "first words"
    assert renamed["updated_at"] >= project["updated_at"]
    assert ok(client.get("/projects/by-name", params={"name": "new"}))["id"] == project["id"]
    error(client.get("/projects/by-name", params={"name": "old"}), 404, "NOT_FOUND")
    # The old name is free again.
    make_project(client, "old")

    described = ok(client.patch(f"/projects/{project['id']}", json={"description": "second words"}))
    assert (described["name"], described["description"]) == ("new", "second words")
    # Renaming to its own name, or sending no change, is harmless.
    assert ok(client.patch(f"/projects/{project['id']}", json={"name": "new"}))["name"] == "new"
    assert ok(client.patch(f"/projects/{project['id']}", json={}))["name"] == "new"

    # Renaming onto another project's name is refused and changes nothing.
    failed = error(client.patch(f"/projects/{project['id']}", json={"name": "taken"}), 409, "ALREADY_EXISTS", "name")
    assert "taken" in failed["message"]
    assert ok(client.get(f"/projects/{project['id']}"))["name"] == "new"
    assert ok(client.get(f"/projects/{other['id']}"))["name"] == "taken"
    error(client.patch(f"/projects/{project['id']}", json={"id": UNKNOWN_ID}), 400, "INVALID_ARGUMENT", "id")

    # Runs follow their project through a rename.
    run = make_run(client, "new")
    ok(client.patch(f"/projects/{project['id']}", json={"name": "newer"}))
    assert ok(client.get(f"/runs/{run['id']}"))["project_id"] == project["id"]
    assert [r["id"] for r in ok(client.post("/runs/search", json={"projects": ["newer"]}))["runs"]] == [run["id"]]


def test_soft_delete_and_restore(client: httpx.Client) -> None:
    project = make_project(client, "gone")
    make_project(client, "stays")
    run = make_run(client, "gone")

    deleted = ok(client.delete(f"/projects/{project['id']}"))
    assert deleted["id"] == project["id"]
    assert deleted["deleted_at"] is not None
    assert _names(client) == ["stays"]
    assert _names(client, deleted="true") == ["gone"]
    # Still readable by id and by name, marked deleted.
    assert ok(client.get(f"/projects/{project['id']}"))["deleted_at"] is not None
    # Logging into a deleted project by name, or creating a run in it by id, is a conflict.
    error(client.post("/runs", json={"project": "gone"}), 409, "CONFLICT", "project")
    error(client.post("/runs", json={"project_id": project["id"]}), 409, "CONFLICT", "project_id")
    # Its runs survive the delete.
    assert ok(client.get(f"/runs/{run['id']}"))["project_id"] == project["id"]

    restored = ok(client.post(f"/projects/{project['id']}/restore"))
    assert restored["deleted_at"] is None
    assert _names(client) == ["gone", "stays"]
    assert _names(client, deleted="true") == []
    assert make_run(client, "gone")["project_id"] == project["id"]
    listed = {p["name"]: p for p in ok(client.get("/projects"))["projects"]}
    assert listed["gone"]["run_count"] == 2
    # Restoring a live project is harmless.
    assert ok(client.post(f"/projects/{project['id']}/restore"))["deleted_at"] is None
