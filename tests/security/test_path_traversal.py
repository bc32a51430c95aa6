"""Path traversal, in every input that names a path or URI (issue 8): artifact paths on the native and the
MLflow-compatible API (local folder and S3 store), model version sources, dataset sources, export folders and
mlruns folders, and the files a model package's manifest names. Each input is attacked with every payload of
the one table in traversal_fixtures.py; each attack must be refused cleanly (4xx in the API's error shape, or a
problem reported by an importer), must never show canary content, and must leave the canary folder as it was:
not read, not written, not deleted."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from traversal_fixtures import (
    CANARY_PARQUET,
    CANARY_TEXT,
    Answer,
    Canary,
    Payload,
    Served,
    assert_no_canary,
    assert_refused,
    bucket_outside,
    call,
    canary,
    local_server,
    moto_s3,
    payloads,
    raw_request,
    traversal_server,
    wire,
)

# Fixtures used by name below; imported so that pytest finds them in this module.
__all__ = ["canary", "local_server", "moto_s3", "traversal_server"]

API = "/api/v1"
MLFLOW = "/api/2.0/mlflow"
MLFLOW_ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


def _ok(answer: Answer, status: int = 200) -> Any:
    assert answer.status == status, answer.body[:500]
    return answer.json() if answer.body else None


def _new_run(url: str) -> dict[str, Any]:
    run: dict[str, Any] = _ok(call(url, "POST", f"{API}/runs", {"project": "traversal"}), 201)
    return run


# ---------------------------------------------------------------------------------------------------------------
# Artifact paths


def _artifact_attacks(run: dict[str, Any], text: str) -> list[tuple[str, str, bool]]:
    """(method, request target, is MLflow's API) of every artifact route, with ``text`` as the path."""
    run_id, experiment = run["id"], run["project_id"]
    in_path = wire(text)
    mlflow_file = f"{MLFLOW_ARTIFACTS}/{experiment}/{run_id}/artifacts/{in_path}"
    return [
        ("PUT", f"{API}/runs/{run_id}/artifacts/{in_path}", False),
        ("GET", f"{API}/runs/{run_id}/artifacts/{in_path}", False),
        ("DELETE", f"{API}/runs/{run_id}/artifacts/{in_path}", False),
        ("GET", f"{API}/runs/{run_id}/artifacts-preview/{in_path}", False),
        ("PUT", mlflow_file, True),
        ("GET", mlflow_file, True),
        ("DELETE", mlflow_file, True),
        # The whole artifact path under attack too, not only the part below a run.
        ("GET", f"{MLFLOW_ARTIFACTS}/{in_path}", True),
        ("PUT", f"{MLFLOW_ARTIFACTS}/{in_path}", True),
    ]


def _listings(run: dict[str, Any], text: str) -> list[tuple[str, bool]]:
    """Request targets of every artifact listing with ``text`` as the folder, and whether MLflow's API answers."""
    run_id, experiment = run["id"], run["project_id"]
    value = quote(text, safe="")
    nested = quote(f"{experiment}/{run_id}/artifacts/{text}", safe="")
    return [
        (f"{API}/runs/{run_id}/artifacts?prefix={value}", False),
        (f"{MLFLOW_ARTIFACTS}?path={value}", True),
        (f"{MLFLOW_ARTIFACTS}?path={nested}", True),
        (f"{MLFLOW}/artifacts/list?run_id={run_id}&path={value}", True),
    ]


def _listed_nothing(answer: Answer) -> bool:
    """A listing that succeeded with no files: a clean path that names no folder (a planted link is invisible
    to listings, which read the metadata database, not the store)."""
    return answer.status == 200 and not answer.json().get("files")


@pytest.mark.parametrize("payload", payloads())
def test_artifact_routes_refuse_every_traversal(traversal_server: Served, canary: Canary, payload: Payload) -> None:
    if payload.planted_link and traversal_server.artifacts is None:
        pytest.skip("an object store has no symlinks to plant")
    outside_before = bucket_outside(traversal_server.bucket) if traversal_server.bucket else None
    run = _new_run(traversal_server.url)
    if payload.planted_link:
        assert traversal_server.artifacts is not None
        canary.plant_link(traversal_server.artifacts / run["id"])
    text = payload.text(canary.file)
    for method, target, mlflow in _artifact_attacks(run, text):
        answer = raw_request(traversal_server.url, method, target, b"overwritten" if method == "PUT" else None)
        assert_refused(answer, f"{method} {target}", mlflow=mlflow)
    for target, mlflow in _listings(run, text):
        answer = raw_request(traversal_server.url, "GET", target)
        if not (payload.planted_link and _listed_nothing(answer)):
            assert_refused(answer, f"GET {target}", mlflow=mlflow)
        assert_no_canary(answer.body, target)
    # Nothing was stored anywhere: not in the run, not beside the store.
    assert _ok(call(traversal_server.url, "GET", f"{API}/runs/{run['id']}/artifacts"))["files"] == []
    if traversal_server.bucket is not None:
        assert bucket_outside(traversal_server.bucket) == outside_before


# ---------------------------------------------------------------------------------------------------------------
# Model version sources


def _sources(run: dict[str, Any], text: str) -> list[str]:
    """Every kind of source a client may name, with ``text`` where the files are."""
    run_id, experiment = run["id"], run["project_id"]
    return [
        text,
        f"runs:/{run_id}/{text}",
        f"mlflow-artifacts:/{experiment}/{run_id}/artifacts/{text}",
        f"mlflow-artifacts:/{text}",
        f"models:/{text}",
    ]


def _follow_version(url: str, name: str, version: int) -> None:
    """A version that was registered: nothing that later reads its files (download URI and the files behind it,
    lineage, the SDK's load_model) reaches the canary."""
    import ridgeline
    from ridgeline.domain.errors import RidgelineError

    uri = _ok(call(url, "GET", f"{MLFLOW}/model-versions/get-download-uri?name={name}&version={version}"))
    assert_no_canary(json.dumps(uri), "get-download-uri")
    download = str(uri["artifact_uri"])
    assert download.startswith("mlflow-artifacts:/"), f"the download URI names a place outside the store: {download}"
    folder = quote(download.removeprefix("mlflow-artifacts:/"), safe="/")
    listing = raw_request(url, "GET", f"{MLFLOW_ARTIFACTS}?path={quote(folder, safe='')}")
    assert_no_canary(listing.body, "download listing")
    for target in (f"{MLFLOW_ARTIFACTS}/{folder}", f"{API}/models/{name}/versions/{version}/lineage"):
        assert_no_canary(raw_request(url, "GET", target).body, target)
    with pytest.raises(RidgelineError):
        ridgeline.load_model(f"models:/{name}/{version}", tracking_uri=url)


@pytest.mark.parametrize("payload", payloads())
def test_model_version_sources_never_reach_outside_the_store(
    local_server: Served, canary: Canary, payload: Payload
) -> None:
    url = local_server.url
    run = _new_run(url)
    if payload.planted_link:
        assert local_server.artifacts is not None
        canary.plant_link(local_server.artifacts / run["id"])
    name = f"sources-{payload.name}"
    _ok(call(url, "POST", f"{API}/models", {"name": name}), 201)
    _ok(call(url, "POST", f"{MLFLOW}/registered-models/create", {"name": f"mlflow-{name}"}))
    for source in _sources(run, payload.text(canary.file)):
        native = call(url, "POST", f"{API}/models/{name}/versions", {"source": source, "run_id": run["id"]})
        compatible = call(url, "POST", f"{MLFLOW}/model-versions/create", {"name": f"mlflow-{name}", "source": source})
        for answer, model, mlflow in ((native, name, False), (compatible, f"mlflow-{name}", True)):
            assert_no_canary(answer.body, source)
            if answer.status in (200, 201):
                # Only a clean path inside the run can be registered: the planted link, seen as a folder name.
                assert payload.planted_link, f"source {source!r} was accepted: {answer.body[:300]!r}"
                body = answer.json()
                _follow_version(url, model, int((body.get("model_version") or body)["version"]))
            else:
                assert_refused(answer, f"source {source!r}", mlflow=mlflow)


# ---------------------------------------------------------------------------------------------------------------
# Dataset sources


def _log_dataset(url: str, run_id: str, source: str, *, mlflow: bool) -> Answer:
    """A files version of a table at ``source`` used to train the run, with the digest and size of a blind
    attacker (one who knew the file's exact bytes would learn nothing by having it read). Each digest is new:
    versions are content-addressed, and a known digest would bring back an earlier version's source."""
    digest = uuid.uuid4().hex
    if mlflow:
        dataset = {"name": "stolen", "digest": digest[:8], "source_type": "local"}
        dataset["source"] = json.dumps({"uri": source})
        inputs = [{"dataset": dataset, "tags": [{"key": "mlflow.data.context", "value": "training"}]}]
        return call(url, "POST", f"{MLFLOW}/runs/log-inputs", {"run_id": run_id, "datasets": inputs})
    version = {"name": "stolen", "context": "training", "digest": digest * 2, "kind": "files", "size_bytes": 7}
    return call(url, "POST", f"{API}/runs/{run_id}/datasets", {**version, "source": source})


def _training_reference_error(url: str, source: str, *, mlflow: bool) -> str | None:
    """The server's answer when asked to build a monitor's reference from the training data of a version whose
    run logged a dataset at ``source``: it must refuse without reading it. Returns the message with what differs
    from one call to the next (model, source, digest) cut out; None when the source was refused when logged."""
    run = _new_run(url)
    logged = _log_dataset(url, run["id"], source, mlflow=mlflow)
    if logged.status >= 400:
        assert_refused(logged, f"dataset source {source!r}", mlflow=mlflow)
        return None
    name = f"trained-{run['id'][:12]}"
    _ok(call(url, "POST", f"{API}/models", {"name": name}), 201)
    _ok(call(url, "POST", f"{API}/models/{name}/versions", {"source": f"runs:/{run['id']}/model"}), 201)
    answer = call(url, "POST", f"{API}/monitors", {"model": f"{name}/1", "reference": None, "window": "1h"})
    assert_refused(answer, f"a monitor on the training data at {source!r}")
    message = str(answer.json()["error"]["message"]).replace(source, "<source>").replace(name, "<model>")
    return re.sub(r"[0-9a-f]{8,12}", "<digest>", message)


@pytest.mark.parametrize("mlflow", [False, True], ids=["native", "mlflow"])
@pytest.mark.parametrize("payload", payloads())
def test_dataset_sources_are_never_read_by_the_server(
    local_server: Served, tmp_path: Path, canary: Canary, payload: Payload, mlflow: bool
) -> None:
    inside = tmp_path / "inside"
    if payload.planted_link:
        canary.plant_link(inside)
    text = payload.text(canary.table)
    source = str(inside / text) if payload.planted_link else text
    refused = _training_reference_error(local_server.url, source, mlflow=mlflow)
    if refused is not None and "<source>" in refused:
        # The same answer as for a file that does not exist: no way to learn which paths exist on the server.
        missing = str(canary.folder / "missing" / canary.table.name)
        assert refused == _training_reference_error(local_server.url, missing, mlflow=mlflow)


# ---------------------------------------------------------------------------------------------------------------
# Export folders (ridgeline import dir)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A genuine export folder: one run with a metric history and an artifact."""
    import ridgeline
    from ridgeline.config import sqlite_uri
    from ridgeline.services.exchange import export_project
    from ridgeline.store.artifacts.storage import open_storage
    from ridgeline.store.metadata import MetadataStore

    home = tmp_path_factory.mktemp("export-source")
    with ridgeline.start_run("exported", tracking_uri=str(home), capture=False) as run:
        run.log_metric("loss", 0.5, step=0)
        run.log_text("inside", "data.txt")
    store = MetadataStore(sqlite_uri(home))
    try:
        export_project(store, open_storage(str(home / "artifacts")), "exported", home / "export")
    finally:
        store.close()
    return home / "export"


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def _reseal(folder: Path, links: dict[str, bytes]) -> None:
    """List the folder's files in its manifest again, as whoever tampered with it would: regular files with their
    sha256, and the planted links with the sha256 of what they point to (known to the tamperer, never read here)."""
    import hashlib

    manifest = json.loads((folder / "manifest.json").read_text())
    files = {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in folder.rglob("*")
        if path.is_file() and not path.is_symlink() and path.name != "manifest.json"
    }
    files |= {name: hashlib.sha256(content).hexdigest() for name, content in links.items()}
    manifest["files"] = files
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _tampered_exports(exported: Path, work: Path, canary: Canary, payload: Payload) -> list[Path]:
    """Copies of the export, each with one row or file aimed at the canary by ``payload``."""
    run_id = _rows(exported / "runs.jsonl")[0]["id"]
    copies = []

    def copy(label: str) -> Path:
        folder = work / label
        shutil.copytree(exported, folder)
        copies.append(folder)
        return folder

    if payload.planted_link:
        folder = copy("artifact-link")
        canary.plant_link(folder / "artifacts" / run_id)
        rows = _rows(folder / "artifacts.jsonl")
        _write_rows(folder / "artifacts.jsonl", [*rows, {**rows[0], "path": payload.text(canary.file)}])
        _reseal(folder, {f"artifacts/{run_id}/{payload.text(canary.file)}": CANARY_TEXT})
        # A file swapped for a link, and the metrics folder for a link to where a history of this name lies.
        folder = copy("file-link")
        (folder / "artifacts" / run_id / "data.txt").unlink()
        (folder / "artifacts" / run_id / "data.txt").symlink_to(canary.file)
        _reseal(folder, {f"artifacts/{run_id}/data.txt": CANARY_TEXT})
        folder = copy("metrics-link")
        shutil.rmtree(folder / "metrics")
        histories = canary.folder.parent / "histories"
        histories.mkdir(exist_ok=True)
        (histories / f"{run_id}.parquet").write_bytes(CANARY_PARQUET)
        (folder / "metrics").symlink_to(histories, target_is_directory=True)
        _reseal(folder, {})
        return copies
    folder = copy("artifact-path")
    rows = _rows(folder / "artifacts.jsonl")
    _write_rows(folder / "artifacts.jsonl", [{**rows[0], "path": payload.text(canary.file)}])
    _reseal(folder, {})
    folder = copy("artifact-run")
    _write_rows(folder / "artifacts.jsonl", [{**rows[0], "run_id": payload.text(canary.folder)}])
    _reseal(folder, {})
    # The metric history is read from metrics/<run id>.parquet: a run id that climbs to canary.parquet.
    folder = copy("run-id")
    runs = _rows(folder / "runs.jsonl")
    _write_rows(folder / "runs.jsonl", [{**runs[0], "id": payload.text(canary.parquet).removesuffix(".parquet")}])
    _reseal(folder, {})
    return copies


@pytest.mark.parametrize("payload", payloads())
def test_an_export_folder_never_leads_the_import_outside(
    exported: Path, tmp_path: Path, canary: Canary, payload: Payload
) -> None:
    from ridgeline.config import sqlite_uri
    from ridgeline.domain.errors import InvalidArgument
    from ridgeline.services.exchange import import_folder
    from ridgeline.store.artifacts.storage import open_storage
    from ridgeline.store.metadata import MetadataStore

    target = tmp_path / "target"
    target.mkdir()
    store = MetadataStore(sqlite_uri(target))
    try:
        for folder in _tampered_exports(exported, tmp_path / "tampered", canary, payload):
            with pytest.raises(InvalidArgument) as refused:
                import_folder(store, open_storage(str(target / "artifacts")), folder)
            assert_no_canary(refused.value.message, folder.name)
            # Refused whole, before anything was written.
            assert store.projects.find_by_name("exported", stats=False) is None, folder.name
            assert not any(path.is_file() for path in (target / "artifacts").rglob("*")), folder.name
    finally:
        store.close()


# ---------------------------------------------------------------------------------------------------------------
# mlruns folders (ridgeline import mlflow --from FOLDER)

MLRUN_ID = "0123456789abcdef0123456789abcdef"
LOGGED_MODEL_ID = "m-0123456789abcdef0123456789abcdef"


def _mlruns(root: Path, artifact_uri: str, model_location: str) -> Path:
    """A minimal mlruns folder as MLflow's file store writes it: one experiment, one run with a param, a tag, a
    metric and an artifact, one logged model; the run and the model keep their files where the given URIs say."""
    import yaml

    experiment = root / "mlruns" / "1"
    run = experiment / MLRUN_ID
    model = experiment / "models" / LOGGED_MODEL_ID
    for folder in (run / "params", run / "tags", run / "metrics", run / "artifacts", model / "artifacts"):
        folder.mkdir(parents=True)
    stamp = 1_700_000_000_000
    (experiment / "meta.yaml").write_text(
        yaml.safe_dump({"experiment_id": "1", "name": "imported", "lifecycle_stage": "active", "creation_time": stamp})
    )
    meta = {"run_id": MLRUN_ID, "experiment_id": "1", "status": 3, "start_time": stamp, "end_time": stamp + 1}
    meta |= {"user_id": "u", "lifecycle_stage": "active", "run_name": "r", "artifact_uri": artifact_uri}
    (run / "meta.yaml").write_text(yaml.safe_dump(meta))
    (run / "params" / "lr").write_text("0.1")
    (run / "tags" / "team").write_text("a")
    (run / "metrics" / "loss").write_text(f"{stamp} 0.5 0\n")
    (run / "artifacts" / "inside.txt").write_text("inside")
    model_meta = {"model_id": LOGGED_MODEL_ID, "name": "m", "artifact_location": model_location, "status": 2}
    model_meta |= {"creation_timestamp": stamp, "source_run_id": MLRUN_ID, "experiment_id": "1"}
    (model / "meta.yaml").write_text(yaml.safe_dump(model_meta))
    (model / "artifacts" / "MLmodel").write_text("flavors: {}\n")
    return root / "mlruns"


def _tampered_mlruns(work: Path, canary: Canary, payload: Payload) -> list[tuple[Path, str | None]]:
    """mlruns folders aimed at the canary by ``payload``, each with the --artifacts-from it is imported with."""
    if payload.planted_link:
        root = _mlruns(work / "links", "", "")
        run = root / "1" / MLRUN_ID
        canary.plant_link(run / "artifacts")
        canary.plant_link(root / "1" / "models" / LOGGED_MODEL_ID / "artifacts")
        for folder in ("params", "tags", "metrics"):
            (run / folder / "stolen").symlink_to(canary.file)
        return [(root, None)]
    text = payload.text(canary.folder)
    served = work / "served"
    served.mkdir(parents=True)
    return [
        (_mlruns(work / "local", text, text), None),
        (_mlruns(work / "proxied", f"mlflow-artifacts:/{text}", f"mlflow-artifacts:/{text}"), str(served)),
    ]


@pytest.mark.parametrize("payload", payloads())
def test_an_mlruns_folder_never_leads_the_import_outside(tmp_path: Path, canary: Canary, payload: Payload) -> None:
    from ridgeline.config import sqlite_uri
    from ridgeline.services.mlflow_import import import_mlflow, open_source
    from ridgeline.store.artifacts.storage import open_storage
    from ridgeline.store.metadata import MetadataStore

    for number, (mlruns, artifacts_from) in enumerate(_tampered_mlruns(tmp_path / "sources", canary, payload)):
        target = tmp_path / f"target-{number}"
        target.mkdir()
        source = open_source(str(mlruns), artifacts_from)
        store = MetadataStore(sqlite_uri(target))
        try:
            summary = import_mlflow(store, open_storage(str(target / "artifacts")), source)
            run = store.runs.get(MLRUN_ID)
            held = {item.path for item in store.artifacts.files(MLRUN_ID)}
        finally:
            source.close()
            store.close()
        # The run came in, with what is really inside the folder and nothing from outside it.
        assert (run.params, run.tags.get("team")) == ({"lr": "0.1"}, "a"), mlruns
        assert_no_canary(json.dumps([run.params, run.tags, summary.problems]), str(mlruns))
        stored = [path for path in (target / "artifacts").rglob("*") if path.is_file()]
        for path in stored:
            assert_no_canary(path.read_bytes(), str(path))
        if artifacts_from is None:
            # A run whose files are named outside has them read from its own copy in the folder.
            assert "inside.txt" in held, f"{mlruns}: the run's own artifacts were not imported"


# ---------------------------------------------------------------------------------------------------------------
# Files a model package's manifest names


@pytest.fixture(scope="module")
def model_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A genuine scikit-learn package with an input example (so loading reads the example file too)."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from ridgeline.flavors.package import save_package

    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    folder = tmp_path_factory.mktemp("package") / "model"
    save_package(LogisticRegression().fit(frame, [0, 1, 0, 1]), folder, input_example=frame)
    return folder


def _tampered_packages(package: Path, work: Path, canary: Canary, payload: Payload) -> list[Path]:
    """Copies of the package whose manifest names the canary through ``payload``: as one of its files (with the
    canary's true sha256, as its author would know it) and as its input example."""
    import hashlib

    from ridgeline.flavors.manifest import MANIFEST_NAME

    copies = []
    for label in ("file", "input-example"):
        folder = work / label
        shutil.copytree(package, folder)
        if payload.planted_link:
            canary.plant_link(folder)
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
        named = payload.text(canary.file)
        if label == "file":
            manifest["files"][named] = {"sha256": hashlib.sha256(CANARY_TEXT).hexdigest(), "size": len(CANARY_TEXT)}
        else:
            manifest["input_example"] = named
        (folder / MANIFEST_NAME).write_text(json.dumps(manifest))
        copies.append(folder)
    return copies


@pytest.mark.parametrize("payload", payloads())
def test_a_model_manifest_names_no_file_outside_its_package(
    model_package: Path, tmp_path: Path, canary: Canary, payload: Payload
) -> None:
    import ridgeline
    from ridgeline.domain.errors import InvalidArgument

    for folder in _tampered_packages(model_package, tmp_path, canary, payload):
        with pytest.raises(InvalidArgument) as refused:
            ridgeline.load_model(folder)
        assert_no_canary(refused.value.message, folder.name)
