"""``ridgeline retention set/show/clear/apply`` end to end on a data folder with artifacts."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from ridgeline.cli.artifact_services import artifact_service
from ridgeline.cli.main import app
from ridgeline.domain.ids import now_ms
from ridgeline.services.retention import DAY_MS
from ridgeline.services.tracking import RunSpec, TrackingService


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})


def seed(home: Path) -> dict[str, str]:
    """Project "cli" with a fresh run, an old one holding 4 KiB and an old protected one; project "quiet" too."""
    ids: dict[str, str] = {}
    with artifact_service(home, None, None) as artifacts:
        tracking = TrackingService(artifacts.store)
        for project_name, name, days, size, tags in (
            ("cli", "fresh", 1, 10, {}),
            ("cli", "stale", 40, 4096, {}),
            ("cli", "kept-forever", 50, 100, {"ridgeline.protected": "true"}),
            ("quiet", "only", 400, 0, {}),
        ):
            spec = RunSpec(name=name, start_time=now_ms() - days * DAY_MS)
            run = tracking.create_run(spec, project_name=project_name, tags=tags)
            tracking.finish_run(run.id)
            if size:
                artifacts.upload(run.id, "data.bin", [b"x" * size])
            ids[name] = run.id
    return ids


def test_set_show_apply_and_clear(home: Path) -> None:
    ids = seed(home)
    where = ("--home", str(home))

    refused = invoke("retention", "set", "cli", *where)
    assert refused.exit_code == 1 and "max_age_days" in refused.output
    assert invoke("retention", "set", "cli", "--keep-last", "0", *where).exit_code == 1
    assert invoke("retention", "set", "nope", "--keep-last", "1", *where).exit_code == 1

    done = invoke("retention", "set", "cli", "--max-age-days", "30", *where)
    assert done.exit_code == 0, done.output
    assert "older than 30 day(s) go" in done.output
    assert invoke("retention", "set", "quiet", "--max-age-days", "30", "--keep-last", "1", *where).exit_code == 0

    shown = invoke("retention", "show", *where)
    assert shown.exit_code == 0, shown.output
    assert "cli" in shown.output and "quiet" in shown.output and "30" in shown.output

    preview = invoke("retention", "apply", "cli", "--dry-run", *where)
    assert preview.exit_code == 0, preview.output
    assert ids["stale"] in preview.output and ids["kept-forever"] not in preview.output
    assert "1 protected" in preview.output
    assert "would delete 1 run(s), freeing 4.0 KiB" in preview.output
    assert (home / "artifacts" / ids["stale"] / "data.bin").exists()

    # Every project with a policy: "quiet" keeps its only run (keep-last 1), "cli" loses the stale one.
    applied = invoke("retention", "apply", *where)
    assert applied.exit_code == 0, applied.output
    assert "deleted 1 run(s) holding 4.0 KiB" in applied.output
    assert "ridgeline gc" in applied.output
    assert (home / "artifacts" / ids["stale"] / "data.bin").exists()

    freed = invoke("gc", *where)
    assert "4.0 KiB freed" in freed.output
    assert not (home / "artifacts" / ids["stale"]).exists()
    assert (home / "artifacts" / ids["kept-forever"] / "data.bin").exists()

    cleared = invoke("retention", "clear", "cli", *where)
    assert cleared.exit_code == 0 and "policy removed" in cleared.output
    assert "had no policy" in invoke("retention", "clear", "cli", *where).output
    missing = invoke("retention", "show", "cli", *where)
    assert missing.exit_code == 1 and "no retention policy" in missing.output


def test_apply_with_gc_frees_the_space_at_once(home: Path) -> None:
    ids = seed(home)
    where = ("--home", str(home))
    assert invoke("retention", "set", "cli", "--keep-last", "1", *where).exit_code == 0
    done = invoke("retention", "apply", "cli", "--gc", *where)
    assert done.exit_code == 0, done.output
    assert "deleted 1 run(s) holding 4.0 KiB" in done.output
    assert "gc removed 1 run(s), 1 file(s): 4.0 KiB freed" in done.output
    assert not (home / "artifacts" / ids["stale"]).exists()
    assert (home / "artifacts" / ids["fresh"] / "data.bin").exists()
