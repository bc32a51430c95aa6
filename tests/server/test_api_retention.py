"""/api/v1/projects/{id}/retention against the real server on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import pytest
from api_helpers import api, error, make_project, make_run, ok

DAY_MS = 86_400_000


def started_days_ago(days: int) -> int:
    return int(time.time() * 1000) - days * DAY_MS


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"max_age_days": 0}, "max_age_days"),
        ({"keep_last": -2}, "keep_last"),
        ({"keep_last": True}, "keep_last"),
        ({"max_age_days": 1.5}, "max_age_days"),
        ({"max_age_days": "30"}, "max_age_days"),
        ({}, "max_age_days"),
        ({"max_age_days": 3, "keep": 1}, "keep"),
    ],
)
def test_bad_policies_are_refused_naming_the_value(server: str, body: dict[str, Any], field: str) -> None:
    with api(server) as client:
        project = make_project(client)
        error(client.put(f"/projects/{project['id']}/retention", json=body), 400, "INVALID_ARGUMENT", field)
        error(client.get(f"/projects/{project['id']}/retention"), 404, "NOT_FOUND", "retention")


def test_policy_round_trip_and_apply_with_dry_run(server: str) -> None:
    with api(server) as client:
        project = make_project(client)
        path = f"/projects/{project['id']}/retention"
        error(client.put("/projects/" + "f" * 32 + "/retention", json={"keep_last": 1}), 404, "NOT_FOUND")
        policy = ok(client.put(path, json={"max_age_days": 30, "keep_last": 1}))
        assert (policy["max_age_days"], policy["keep_last"]) == (30, 1)
        assert ok(client.get(path)) == policy

        make_run(client, project_id=project["id"], name="fresh", start_time=started_days_ago(1))
        old = make_run(client, project_id=project["id"], name="old", start_time=started_days_ago(60))
        ok(client.post(f"/runs/{old['id']}/finish", json={}))
        ok(client.put(f"/runs/{old['id']}/artifacts/model.bin", content=b"m" * 300), 201)

        preview = ok(client.post(f"{path}/apply", json={"dry_run": True}))
        assert [(r["run_id"], r["name"], r["bytes"], r["files"]) for r in preview["runs"]] == [
            (old["id"], "old", 300, 1)
        ]
        assert preview["runs"][0]["start_time"] == old["start_time"]
        assert (preview["run_count"], preview["bytes"], preview["deleted"], preview["dry_run"]) == (1, 300, 0, True)
        # No body means a dry run: a bare POST never deletes.
        assert ok(client.post(f"{path}/apply"))["deleted"] == 0
        assert ok(client.get(f"/runs/{old['id']}"))["deleted_at"] is None

        done = ok(client.post(f"{path}/apply", json={"dry_run": False}))
        assert (done["deleted"], done["bytes"], done["dry_run"]) == (1, 300, False)
        assert ok(client.get(f"/runs/{old['id']}"))["deleted_at"] is not None

        assert ok(client.delete(path)) == {"cleared": True}
        assert ok(client.delete(path)) == {"cleared": False}
        error(client.post(f"{path}/apply", json={"dry_run": True}), 404, "NOT_FOUND", "retention")
