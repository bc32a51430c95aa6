"""The SDK against a tracking server with accounts: RIDGELINE_TRACKING_TOKEN authenticates it, and
RIDGELINE_WORKSPACE chooses the workspace its runs go to (else the account's default)."""

from __future__ import annotations

from pathlib import Path

import pytest

import ridgeline
from support.accounts import OTHER_WORKSPACE, team_server


def test_runs_go_to_the_chosen_workspace(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIDGELINE_HOME", str(tmp_path / "sdk-home"))
    with team_server(home, f"sqlite:///{tmp_path / 'meta.db'}") as team:
        monkeypatch.setenv("RIDGELINE_TRACKING_TOKEN", team.tokens["admin"])
        with ridgeline.start_run(project="shared-name", tracking_uri=team.url) as run:
            run.log_metric("loss", 1.0)
        monkeypatch.setenv("RIDGELINE_WORKSPACE", OTHER_WORKSPACE)
        with ridgeline.start_run(project="shared-name", tracking_uri=team.url) as other_run:
            other_run.log_metric("loss", 2.0)
        places = team.store.members.project_places(
            [team.store.runs.get(run.id).project_id, team.store.runs.get(other_run.id).project_id], None
        )
        other = team.store.members.workspace_by_name(OTHER_WORKSPACE)
        assert sorted(workspace for workspace, _ in places.values()) == sorted(["0" * 32, other.id])
        with ridgeline.Client(team.url) as client:
            assert [r.id for r in client.search_runs("shared-name")] == [other_run.id]
        monkeypatch.delenv("RIDGELINE_WORKSPACE")
        with ridgeline.Client(team.url) as client:
            assert [r.id for r in client.search_runs("shared-name")] == [run.id]
