"""``run.log_model``: package a model (flavors/), upload it as the run's artifacts under ``NAME/``, and with
``register_as`` register it as a new version in the same call.

Unlike other artifacts, a model is uploaded before the call returns: registering needs the files on the server,
and the package is written to a temporary folder that is removed once its upload has ended.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ridgeline.domain.errors import AlreadyExists, NotFound, Unavailable

if TYPE_CHECKING:
    from ridgeline.client.run_artifacts import ArtifactLogging
    from ridgeline.domain.registry import ModelVersion
    from ridgeline.flavors.manifest import Manifest
    from ridgeline.flavors.signature import Signature


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` stored: ``uri`` (``runs:/RUN_ID/NAME``, what ``ridgeline.load_model`` takes), the
    flavor, the signature (None without an input example or signature), the manifest, and the registered
    version when ``register_as`` was given."""

    uri: str
    run_id: str
    artifact_path: str
    flavor: str
    signature: Signature | None
    manifest: Manifest
    registered_version: ModelVersion | None = None


def log_model(
    run: ArtifactLogging,
    model: Any,
    name: str,
    *,
    input_example: Any,
    signature: Signature | dict[str, Any] | None,
    register_as: str | None,
    flavor: str | None,
    serialization: str | None,
    description: str,
    tags: Mapping[str, str] | None,
) -> ModelInfo:
    from ridgeline.client.uploader import PendingUpload, file_stamp
    from ridgeline.domain.registry import check_model_name
    from ridgeline.flavors.manifest import MANIFEST_NAME
    from ridgeline.flavors.package import save_package
    from ridgeline.flavors.signature import Signature
    from ridgeline.store.artifacts.paths import check_path

    if run._finished:
        run._refuse_finished()  # before the work of packaging (the upload checks again, under the lock)
    prefix = check_path(name, "name")
    if register_as is not None:
        check_model_name(register_as, "register_as")
    staging = Path(tempfile.mkdtemp(prefix="ridgeline-model-"))
    finished = False
    try:
        folder = staging / "package"
        manifest = save_package(
            model,
            folder,
            flavor=flavor,
            input_example=input_example,
            signature=signature,
            serialization=serialization,
        )
        items = [
            PendingUpload(f"{prefix}/{relative}", folder / relative, file_stamp(folder / relative))
            for relative in [*manifest.files, MANIFEST_NAME]
        ]
        finished = run._upload_and_wait(items)
    finally:
        # A wait that ran out leaves the upload going on in the background: its files must stay until it ends.
        if finished:
            shutil.rmtree(staging, ignore_errors=True)
    if not finished:
        raise Unavailable(f"the model's upload did not end within flush_timeout; it goes on from {folder}")
    version = None
    if register_as is not None:
        _check_stored(run, prefix, manifest)
        version = _register(run, register_as, f"runs:/{run.id}/{prefix}", description, tags)
    parsed = None if manifest.signature is None else Signature.from_json(manifest.signature)
    return ModelInfo(f"runs:/{run.id}/{prefix}", run.id, prefix, manifest.flavor, parsed, manifest, version)


def _check_stored(run: ArtifactLogging, prefix: str, manifest: Manifest) -> None:
    """Every file of the package on the server as written (not failed, not waiting in the spool)."""
    later = "so it was not registered; register it later with Client.create_model_version"
    try:
        stored = {item.path: item.sha256 for item in run._backend.list_artifacts(run.id, f"{prefix}/")}
    except Unavailable as exc:
        raise Unavailable(f"the model went to the spool ({exc}), {later}", field="register_as") from None
    for relative, info in manifest.files.items():
        if stored.get(f"{prefix}/{relative}") != info["sha256"]:
            raise Unavailable(
                f"the model's file {relative} is not on the server (its upload failed or went to the spool), {later}",
                field="register_as",
            )


def _register(
    run: ArtifactLogging, name: str, source: str, description: str, tags: Mapping[str, str] | None
) -> ModelVersion:
    backend = run._backend
    # The version copies the run's latest metrics: deliver the ones still buffered first.
    run._sender.flush(run._settings.flush_timeout)
    try:
        backend.get_model(name)
    except NotFound:
        # Registered by someone else meanwhile: the version goes there.
        with contextlib.suppress(AlreadyExists):
            backend.create_model(name, "", None)
    return backend.create_model_version(name, source, run.id, description, dict(tags) if tags else None)
