"""The audit log on the real server (SQLite and PostgreSQL): every request that changes something, or tries to, is
recorded with who, what, which object, in which workspace, from where and with what result (refusals and failed
logins included); reads are not; GET /api/v1/audit filters and pages, shows a workspace's maintainers their
workspace's entries only and administrators everything; and the database itself refuses to change or remove an
entry, whoever asks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy.exc
from sqlalchemy import func, select, text
from team_fixtures import (
    API,
    _clean_failure_counts,  # noqa: F401 (an autouse fixture)
    error_of,
    module_team,
    unique,
)

from ridgeline.domain.ids import now_ms
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.schema import audit_log
from ridgeline.store.scope import DEFAULT_WORKSPACE_ID
from support.accounts import PASSWORD, Team

T0 = 1_700_000_000_000


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def team(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    with module_team(request, tmp_path_factory, request.param) as team:
        yield team


def _entries(team: Team, **filters: Any) -> list[dict[str, Any]]:
    answer = team.client("admin").get(f"{API}/audit", params=filters)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["entries"])


def _only(entries: list[dict[str, Any]], **expected: Any) -> dict[str, Any]:
    matching = [entry for entry in entries if all(entry[key] == value for key, value in expected.items())]
    assert len(matching) == 1, f"{expected} in {entries}"
    return matching[0]


def test_changes_and_attempts_are_recorded_and_reads_are_not(team: Team) -> None:
    since = now_ms()
    editor = team.client("editor")
    name = unique("audited")
    project = editor.post(f"{API}/projects", json={"name": name})
    assert project.status_code == 201
    project_id = project.json()["id"]
    run = editor.post(f"{API}/runs", json={"project": name})
    assert run.status_code == 201
    run_id = run.json()["id"]
    batch = {"batch_id": unique("batch"), "metrics": [{"key": "l", "steps": [0], "values": [1.0], "timestamps": [T0]}]}
    assert editor.post(f"{API}/runs/{run_id}/batches", json=batch).status_code == 200
    # Reads, and POSTs that only read (searches), leave no entry.
    assert editor.get(f"{API}/projects").status_code == 200
    assert editor.get(f"{API}/runs/{run_id}").status_code == 200
    assert editor.post(f"{API}/runs/search", json={"project_ids": [project_id]}).status_code == 200
    assert editor.post(f"{API}/runs/count", json={"project_ids": [project_id]}).status_code == 200
    refused = team.client("viewer").post(f"{API}/projects", json={"name": unique("not-allowed")})
    assert refused.status_code == 403
    login = team.client(None).post(f"{API}/session", json={"name": "maintainer", "password": "a wrong guess 123"})
    assert login.status_code == 401
    deleted = team.client("maintainer").delete(f"{API}/projects/{project_id}")
    assert deleted.status_code == 200, deleted.text

    entries = _entries(team, since=since)
    common = {"remote_addr": "127.0.0.1"}
    created = _only(entries, action="projects.create_project", actor="editor", status=201, **common)
    assert created == {
        **created,
        "method": "POST",
        "path": f"{API}/projects",
        "object": f"workspace:{DEFAULT_WORKSPACE_ID}",
        "workspace": "default",
    }
    assert created["at"] >= since
    logged = _only(entries, action="logging.log_batch", **common)
    assert logged == {
        **logged,
        "actor": "editor",
        "path": f"{API}/runs/{{run_id}}/batches",
        "object": f"run:{run_id}",
        "workspace": "default",
        "status": 200,
    }
    removed = _only(entries, action="projects.delete_project", **common)
    assert removed == {**removed, "actor": "maintainer", "method": "DELETE", "object": f"project:{project_id}"}
    assert removed["workspace"] == "default" and removed["status"] == 200
    denied = _only(entries, actor="viewer", **common)
    assert denied == {**denied, "action": "projects.create_project", "status": 403, "path": f"{API}/projects"}
    failed = _only(entries, action="accounts.log_in", status=401, **common)
    assert failed["actor"] == "maintainer" and failed["workspace"] is None
    _only(entries, action="runs.create_run", actor="editor", status=201)
    # Nothing else: no read, no search.
    assert sorted(entry["action"] for entry in entries) == sorted(
        ["projects.create_project"] * 2
        + ["runs.create_run", "logging.log_batch", "accounts.log_in", "projects.delete_project"]
    )


def test_the_audit_log_filters_and_pages(team: Team) -> None:
    since = now_ms()
    maintainer = team.client("maintainer")
    names = [unique("paged") for _ in range(5)]
    ids = [maintainer.post(f"{API}/projects", json={"name": name}).json()["id"] for name in names]
    until = now_ms() + 1
    team.client("editor").post(f"{API}/projects", json={"name": unique("other-actor")})

    mine = _entries(team, actor="maintainer", since=since)
    assert [entry["action"] for entry in mine] == ["projects.create_project"] * 5
    assert [entry["id"] for entry in mine] == sorted((entry["id"] for entry in mine), reverse=True)  # newest first
    assert _entries(team, actor="maintainer", action="projects.delete_project", since=since) == []
    assert len(_entries(team, action="projects.create_project", since=since)) == 6
    assert _entries(team, since=since, until=until, actor="editor") == []
    assert _entries(team, until=since) == [e for e in _entries(team, until=since, limit=1000) if e["at"] < since]
    assert not [entry for entry in _entries(team, until=since, limit=1000) if entry["at"] >= since]
    # Pages: before_id is the last id of the previous page.
    first = _entries(team, actor="maintainer", since=since, limit=2)
    second = _entries(team, actor="maintainer", since=since, limit=2, before_id=first[-1]["id"])
    third = _entries(team, actor="maintainer", since=since, limit=2, before_id=second[-1]["id"])
    assert [len(first), len(second), len(third)] == [2, 2, 1]
    assert [entry["id"] for entry in first + second + third] == [entry["id"] for entry in mine]
    # The object filter finds what names an object: here a project by its id.
    maintainer.patch(f"{API}/projects/{ids[2]}", json={"description": "changed"})
    (patched,) = _entries(team, object=ids[2])
    assert patched["action"] == "projects.update_project" and patched["object"] == f"project:{ids[2]}"
    # Text in a filter is text: no pattern characters.
    assert _entries(team, object="%", since=since) == []
    bad = team.client("admin").get(f"{API}/audit", params={"limit": 0})
    assert bad.status_code == 400 and error_of(bad)["field"] == "limit"


def test_who_sees_which_entries(team: Team) -> None:
    since = now_ms()
    assert team.client("editor").post(f"{API}/projects", json={"name": unique("default-ws")}).status_code == 201
    outsider = team.client("outsider", **{"X-Ridgeline-Workspace": "other"})
    assert outsider.post(f"{API}/projects", json={"name": unique("other-ws")}).status_code == 201
    created_user = team.client("admin").post(f"{API}/users", json={"name": unique("hire"), "password": PASSWORD})
    assert created_user.status_code == 201

    everything = _entries(team, since=since)
    assert {entry["workspace"] for entry in everything} == {"default", "other", None}
    assert _only(everything, action="admin.create_user")["workspace"] is None
    for who, workspace in (("maintainer", "default"), ("owner", "default"), ("outsider", "other")):
        client = outsider if who == "outsider" else team.client(who)
        answer = client.get(f"{API}/audit", params={"since": since})
        assert answer.status_code == 200, answer.text
        seen = answer.json()["entries"]
        assert seen and {entry["workspace"] for entry in seen} == {workspace}, (who, seen)
    for who in ("editor", "viewer"):
        refused = team.client(who).get(f"{API}/audit")
        assert refused.status_code == 403, refused.text
    assert team.client(None).get(f"{API}/audit").status_code == 401
    # Asking for another workspace's entries by name: not theirs to see, not even to know it exists.
    foreign = team.client("maintainer", **{"X-Ridgeline-Workspace": "other"}).get(f"{API}/audit")
    assert foreign.status_code == 404


def _audit_rows(store: MetadataStore) -> int:
    with store.database.read() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


def test_the_database_refuses_to_change_or_remove_entries(backend_uri: str) -> None:
    store = MetadataStore(backend_uri)
    try:
        entry = {
            "at": now_ms(),
            "actor": "someone",
            "action": "projects.create_project",
            "method": "POST",
            "path": "/api/v1/projects",
            "object": "workspace:x",
            "workspace_id": None,
            "remote_addr": "127.0.0.1",
            "status": 201,
        }
        store.audit.append([entry, {**entry, "actor": "another"}])
        statements = [
            "UPDATE audit_log SET actor = 'x'",
            "UPDATE audit_log SET status = 200 WHERE actor = 'someone'",
            "DELETE FROM audit_log",
            "DELETE FROM audit_log WHERE actor = 'another'",
        ]
        if store.database.engine.dialect.name == "postgresql":
            statements.append("TRUNCATE audit_log")
        for statement in statements:
            with pytest.raises(sqlalchemy.exc.DatabaseError) as refused, store.database.write() as conn:
                conn.execute(text(statement))
            assert "append-only" in str(refused.value), statement
        assert _audit_rows(store) == 2
        assert [row.actor for row in store.audit.query()] == ["another", "someone"]
        # Appending goes on.
        store.audit.append([{**entry, "actor": "third"}])
        assert _audit_rows(store) == 3
    finally:
        store.close()
