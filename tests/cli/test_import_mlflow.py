"""``ridgeline import mlflow`` against real MLflow: a tracking server started here (SQLite backend, proxied
artifacts), that server's database, and an mlruns folder, all filled by MLflow's own client in its own process
(tests/support/mlflow_workload.py, run by tests/support/mlflow_source.py). What was imported is compared field by
field with what MLflow's client reads back, through ``ridgeline.Client`` and the store, artifacts byte by byte;
reruns bring only what is new; bad sources are refused with one line and leave nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import ridgeline
from ridgeline.cli.main import app
from ridgeline.config import sqlite_uri
from ridgeline.store.artifacts.storage import open_storage
from ridgeline.store.metadata import MetadataStore
from support.mlflow_source import MlflowServer, running_mlflow_server, workload
from support.postgres import PostgresCluster
from support.servers import free_port

pytest.importorskip("mlflow")
pytest.importorskip("sklearn")

EXPERIMENT_TAG = "ridgeline.import.mlflow_experiment_id"
MISSING_TAG = "ridgeline.import.missing_artifacts"
ORIGINAL = "mlflow_dataset"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})


@pytest.fixture(autouse=True)
def _loopback_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The MLflow server listens on loopback, which outbound requests reach only when the allow-list names it
    (tests/security/test_outbound.py checks the refusal)."""
    monkeypatch.setenv("RIDGELINE_OUTBOUND_ALLOW", "127.0.0.1")


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    with running_mlflow_server(tmp_path_factory.mktemp("mlflow-server")) as server:
        workload(server.url, "base", server.folder / "base")
        yield server


@pytest.fixture(scope="module")
def mlruns(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mlruns-source")
    workload(f"file://{folder / 'mlruns'}", "base", folder / "work")
    return folder / "mlruns"


def _point(step: int, stamp: int, value: float) -> tuple[int, int, str]:
    # repr spells NaN and ±inf, which never compare equal as floats.
    return (int(step), int(stamp), repr(float(value)))


def in_home(home: Path) -> tuple[str, Path]:
    """The metadata database and artifact folder of a data folder."""
    return sqlite_uri(home), home / "artifacts"


def assert_matches_mlflow(
    dump: dict[str, Any], metadata: str, artifacts: Path, *, missing_artifacts: bool = False
) -> None:
    """Every experiment, run, point, input, artifact, logged and registered model MLflow's client read (``dump``)
    is in Ridgeline (``metadata``, ``artifacts``) as it is in MLflow. With ``missing_artifacts``, every run is
    marked as missing its artifacts instead of holding them."""
    store = MetadataStore(metadata)
    try:
        with ridgeline.Client(tracking_uri=metadata) as client:
            projects = {experiment["id"]: _project_matches(store, experiment) for experiment in dump["experiments"]}
            packages = _logged_models_match(store, dump)
            for run in dump["runs"]:
                files = _downloaded(dump["folder"] / run["id"]) | packages.get(run["id"], {})
                _run_matches(store, client, artifacts, run, projects[run["experiment_id"]], files, missing_artifacts)
            for model in dump["models"]:
                _registered_model_matches(client, model)
    finally:
        store.close()


def _project_matches(store: MetadataStore, experiment: dict[str, Any]) -> str:
    project = store.projects.find_by_name(experiment["name"], stats=False)
    assert project is not None, experiment["name"]
    tags = store.projects.tags([project.id])[project.id]
    assert tags.pop(EXPERIMENT_TAG) == experiment["id"]
    assert tags.pop("ridgeline.import.mlflow_source")
    assert tags == experiment["tags"]
    assert project.deleted == experiment["deleted"]
    assert project.description == experiment["tags"].get("mlflow.note.content", "")
    return project.id


def _logged_models_match(store: MetadataStore, dump: dict[str, Any]) -> dict[str, dict[str, bytes]]:
    """Check the logged models; their packages as run id → {path in the run: bytes} (Ridgeline keeps a logged
    model's files in its run, under models/<id>/)."""
    packages: dict[str, dict[str, bytes]] = {}
    for logged in dump["logged_models"]:
        held = store.logged_models.get(logged["id"])
        assert (held.name, held.run_id, held.status.value) == (logged["name"], logged["run_id"], logged["status"])
        assert (held.params, held.tags) == (logged["params"], logged["tags"])
        files = _downloaded(dump["folder"] / logged["id"] / "artifacts")
        packages.setdefault(held.run_id, {}).update({f"models/{held.id}/{k}": v for k, v in files.items()})
    return packages


def _run_matches(
    store: MetadataStore,
    client: ridgeline.Client,
    artifacts: Path,
    run: dict[str, Any],
    project_id: str,
    files: dict[str, bytes],
    missing_artifacts: bool,
) -> None:
    record = client.get_run(run["id"])
    tags = dict(record.tags)
    if missing_artifacts:
        assert "kept by an MLflow server" in tags.pop(MISSING_TAG)
        files = {}
    assert (record.project_id, record.name, record.status.value, record.user) == (
        project_id,
        run["name"],
        run["status"],
        run["user"],
    )
    assert (record.start_time, record.end_time, record.deleted) == (run["start_time"], run["end_time"], run["deleted"])
    assert record.parent_run_id == run["tags"].get("mlflow.parentRunId")
    assert record.notes == run["tags"].get("mlflow.note.content", "")
    assert (record.params, tags) == (run["params"], run["tags"])
    assert sorted(store.metrics.keys(run["id"])) == sorted(run["metrics"])
    for key, points in run["metrics"].items():
        history = client.get_metric_history(run["id"], key)
        held = sorted(_point(*point) for point in zip(history.steps, history.timestamps, history.values, strict=True))
        assert held == sorted(_point(*point) for point in points)
    # MLflow's descriptive strings are kept verbatim (an empty schema or profile is left out).
    inputs = [
        {
            "name": i.version.dataset_name,
            "digest": i.version.digest,
            "context": i.context,
            **i.version.profile[ORIGINAL],
        }
        for i in client.get_run_inputs(run["id"])
    ]
    expected = [{key: value for key, value in i.items() if value or key == "context"} for i in run["inputs"]]
    assert sorted(inputs, key=repr) == sorted(expected, key=repr)
    storage = open_storage(str(artifacts))
    held_files = {f.path: b"".join(storage.read(f"{run['id']}/{f.path}")) for f in store.artifacts.files(run["id"])}
    assert held_files == files


def _registered_model_matches(client: ridgeline.Client, model: dict[str, Any]) -> None:
    registered = client.get_model(model["name"])
    assert (registered.description, registered.tags) == (model["description"], model["tags"])
    assert registered.aliases == {alias: int(number) for alias, number in model["aliases"].items()}
    versions = [
        {
            "version": version.version,
            "source": version.source,
            "run_id": version.run_id,
            "description": version.description,
            "tags": version.tags,
            "model_id": version.logged_model_id,
            "created_at": version.created_at,
        }
        for version in client.get_model_versions(model["name"])
    ]
    # MLflow's database does not say which logged model a version came from; its source does (models:/m-…).
    expected = [{**v, "model_id": v["model_id"] or v["source"].removeprefix("models:/")} for v in model["versions"]]
    assert sorted(versions, key=repr) == sorted(expected, key=repr)


def _downloaded(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def dump_of(uri: str, folder: Path) -> dict[str, Any]:
    found: dict[str, Any] = workload(uri, "dump", folder)
    found["folder"] = folder
    return found


def counts(result: Result) -> dict[str, str]:
    """The summary table's rows: what → count."""
    rows = {}
    for line in result.output.splitlines():
        cells = [cell.strip() for cell in line.strip("│┃ ").split("│")]
        if len(cells) == 2 and cells[0] and cells[0] != "what":
            rows[cells[0]] = cells[1]
    return rows


def test_import_from_the_server_then_rerun(mlflow_server: MlflowServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    dump = dump_of(mlflow_server.url, tmp_path / "dump")
    first = invoke("import", "mlflow", "--from", mlflow_server.url, "--home", str(home))
    assert first.exit_code == 0, first.output
    summary = counts(first)
    assert summary["experiments"] == summary["projects created"] == str(len(dump["experiments"]))
    assert summary["runs new"] == str(len(dump["runs"]))
    assert summary["problems"] == "0", first.output
    points = sum(len(history) for run in dump["runs"] for history in run["metrics"].values())
    assert summary["metric points"] == str(points)
    assert (summary["logged models"], summary["registered models"], summary["model versions"]) == ("1", "1", "2")
    assert summary["aliases set"] == "2"
    assert_matches_mlflow(dump, *in_home(home))

    again = invoke("import", "mlflow", "--from", mlflow_server.url, "--home", str(home))
    assert again.exit_code == 0, again.output
    assert counts(again) | {"experiments": "-"} == {
        "experiments": "-",
        "projects created": "0",
        "runs new": "0",
        "runs updated": "0",
        "runs unchanged": str(len(dump["runs"])),
        "runs in another project": "0",
        "metric points": "0",
        "artifact files": "0",
        "artifact bytes": "0 B",
        "datasets created": "0",
        "dataset versions created": "0",
        "logged models": "0",
        "registered models": "0",
        "model versions": "0",
        "aliases set": "0",
        "problems": "0",
    }


def test_import_from_the_database(mlflow_server: MlflowServer, tmp_path: Path) -> None:
    """The server's own database: its artifacts are mlflow-artifacts: URIs, so they are reported (and the runs
    marked) until --artifacts-from says where they are; then a rerun fetches exactly those."""
    home, other = tmp_path / "home", tmp_path / "other"
    dump = dump_of(mlflow_server.url, tmp_path / "dump")
    first = invoke("import", "mlflow", "--from", mlflow_server.database, "--home", str(home))
    assert first.exit_code == 0, first.output
    # Whether a run has files is unknown without the server: every run is reported, and the logged model.
    problems = len(dump["runs"]) + len(dump["logged_models"])
    assert counts(first)["problems"] == str(problems) and counts(first)["artifact files"] == "0"
    assert "give --artifacts-from" in first.output
    assert_matches_mlflow(dump, *in_home(home), missing_artifacts=True)

    fetched = invoke(
        "import", "mlflow", "--from", mlflow_server.database, "--artifacts-from", mlflow_server.url, "--home", str(home)
    )
    assert fetched.exit_code == 0, fetched.output
    assert counts(fetched)["runs updated"] == str(len(dump["runs"])) and counts(fetched)["problems"] == "0"
    assert counts(fetched)["metric points"] == "0"
    assert_matches_mlflow(dump, *in_home(home))

    # The folder the server was given as --artifacts-destination serves as well as the server.
    direct = invoke(
        "import",
        "mlflow",
        "--from",
        mlflow_server.database,
        "--artifacts-from",
        str(mlflow_server.artifacts),
        "--home",
        str(other),
    )
    assert direct.exit_code == 0, direct.output
    assert_matches_mlflow(dump, *in_home(other))


def test_import_from_an_mlruns_folder(mlruns: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    dump = dump_of(f"file://{mlruns}", tmp_path / "dump")
    first = invoke("import", "mlflow", "--from", str(mlruns), "--home", str(home))
    assert first.exit_code == 0, first.output
    assert counts(first)["problems"] == "0", first.output
    assert counts(first)["runs new"] == str(len(dump["runs"]))
    assert_matches_mlflow(dump, *in_home(home))
    again = invoke("import", "mlflow", "--from", f"file://{mlruns}", "--home", str(home))
    assert counts(again)["runs unchanged"] == str(len(dump["runs"])), again.output


def test_import_into_postgresql(mlruns: Path, tmp_path: Path, postgres_cluster: PostgresCluster) -> None:
    database, artifacts = postgres_cluster.create_database(), tmp_path / "artifacts"
    target = ["--backend-uri", database, "--artifacts-uri", str(artifacts)]
    dump = dump_of(f"file://{mlruns}", tmp_path / "dump")
    first = invoke("import", "mlflow", "--from", str(mlruns), *target)
    assert first.exit_code == 0, first.output
    assert counts(first)["problems"] == "0", first.output
    assert_matches_mlflow(dump, database, artifacts)
    again = invoke("import", "mlflow", "--from", str(mlruns), *target)
    assert counts(again)["runs unchanged"] == str(len(dump["runs"])), again.output


def test_a_dry_run_writes_nothing(mlruns: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "keep").write_text("x")
    dry = invoke("import", "mlflow", "--from", str(mlruns), "--dry-run", "--home", str(home))
    assert dry.exit_code == 0, dry.output
    assert "dry run, nothing written" in dry.output and counts(dry)["runs new"] != "0"
    store = MetadataStore(sqlite_uri(home))
    try:
        assert store.projects.find_by_name("vision") is None
    finally:
        store.close()


def test_a_project_prefix_and_export_of_what_was_imported(mlruns: Path, tmp_path: Path) -> None:
    """Imported runs export like any others: export → import elsewhere → export gives the same files."""
    home, copy = tmp_path / "home", tmp_path / "copy"
    assert (
        invoke("import", "mlflow", "--from", str(mlruns), "--project-prefix", "mlflow/", "--home", str(home)).exit_code
        == 0
    )
    first, second = tmp_path / "first", tmp_path / "second"
    assert invoke("export", "--project", "mlflow/vision", "--to", str(first), "--home", str(home)).exit_code == 0
    assert invoke("import", "dir", str(first), "--home", str(copy)).exit_code == 0
    assert invoke("export", "--project", "mlflow/vision", "--to", str(second), "--home", str(copy)).exit_code == 0
    files = {path: _downloaded(folder) for path, folder in (("first", first), ("second", second))}
    for exported in files.values():
        exported.pop("manifest.json")
    assert files["first"] == files["second"]
    assert b'"team":"cv"' in files["first"]["projects.jsonl"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("http://127.0.0.1:{port}", "cannot reach the MLflow server"),
        ("ftp://example.com/mlruns", "no kind of MLflow URI known here"),
        ("{tmp}/not-mlruns", "is not an MLflow mlruns folder"),
        ("{tmp}/missing", "is not a folder"),
        ("sqlite:///{tmp}/missing.db", "no SQLite database"),
        ("sqlite:///{tmp}/not-mlruns/other.db", "is not an MLflow tracking database"),
    ],
)
def test_a_bad_source_is_refused_and_nothing_is_written(source: str, message: str, tmp_path: Path) -> None:
    (tmp_path / "not-mlruns").mkdir()
    (tmp_path / "not-mlruns" / "notes.txt").write_text("hello")
    MetadataStore(sqlite_uri(tmp_path / "not-mlruns")).close()
    (tmp_path / "not-mlruns" / "ridgeline.db").rename(tmp_path / "not-mlruns" / "other.db")
    home = tmp_path / "home"
    refused = invoke("import", "mlflow", "--from", source.format(port=free_port(), tmp=tmp_path), "--home", str(home))
    assert refused.exit_code == 1
    assert message in refused.output
    assert "Traceback" not in refused.output
    assert not home.exists()


def test_a_rerun_brings_only_what_is_new(mlflow_server: MlflowServer, tmp_path: Path) -> None:
    """Last in this module: it changes the server's data (a running run finishes with new points, tags and a file;
    a new run; a new experiment)."""
    home = tmp_path / "home"
    assert invoke("import", "mlflow", "--from", mlflow_server.url, "--home", str(home)).exit_code == 0
    made = workload(mlflow_server.url, "more", tmp_path / "more")
    rerun = invoke("import", "mlflow", "--from", mlflow_server.url, "--home", str(home))
    assert rerun.exit_code == 0, rerun.output
    summary = counts(rerun)
    assert (summary["projects created"], summary["runs new"], summary["runs updated"]) == ("1", "2", "1")
    assert (summary["metric points"], summary["artifact files"], summary["problems"]) == ("4", "1", "0")
    assert_matches_mlflow(dump_of(mlflow_server.url, tmp_path / "dump"), *in_home(home))
    with ridgeline.Client(tracking_uri=str(home)) as client:
        live = client.get_run(made["live"])
        assert live.status.value == "FINISHED" and live.tags["outcome"] == "done"
        assert list(client.get_metric_history(made["live"], "progress").steps) == [0, 1, 2, 3]
