"""``ridgeline.load_model(uri)``: a model package from a run, the registry or a local folder, ready to predict.

Downloaded packages are cached in ``$RIDGELINE_HOME/cache/models/`` under a key made of their files' sha256:
loading the same content again (another alias, another URI) reads no byte over the network.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ridgeline.domain.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from ridgeline.client.backend import TrackingBackend
    from ridgeline.flavors.model import LoadedModel


def load_model(
    uri: str | os.PathLike[str], *, allow_pickle: bool = False, tracking_uri: str | None = None
) -> LoadedModel:
    """Load the model package at ``uri``: ``runs:/RUN_ID/PATH``, ``models:/NAME/VERSION``, ``models:/NAME@ALIAS``,
    ``models:/NAME/latest``, or a local folder.

    ``allow_pickle=True`` (or ``RIDGELINE_ALLOW_PICKLE=true``) is needed for a package stored with pickle;
    without it such a package is refused before any byte is unpickled.
    """
    from ridgeline.flavors.package import load_package

    text = os.fspath(uri)
    if not text.startswith(("runs:/", "models:/")):
        folder = Path(text)
        if not folder.is_dir():
            raise InvalidArgument(
                f"{text!r} is neither a runs:/ or models:/ URI nor a model package folder", field="uri"
            )
        return load_package(folder, allow_pickle=allow_pickle)
    from ridgeline.artifacts import parse_runs_uri
    from ridgeline.client.resolve import backend_for
    from ridgeline.config import Settings

    settings = Settings.load()
    backend = backend_for(tracking_uri, settings)
    try:
        name: str | None = None
        number: int | None = None
        if text.startswith("runs:/"):
            run_id, path = parse_runs_uri(text)
        else:
            version = backend.resolve_model(text)
            if version.artifact_run_id is None:
                raise NotFound(
                    f"model {version.model_name} version {version.version} has no files in Ridgeline's artifact "
                    f"store (source {version.source!r})",
                    field="uri",
                )
            run_id, path, name, number = (
                version.artifact_run_id,
                version.artifact_path,
                version.model_name,
                version.version,
            )
        folder = _fetch(backend, run_id, path, settings.home / "cache" / "models")
    finally:
        backend.close()
    return load_package(folder, allow_pickle=allow_pickle, uri=text, model_name=name, version=number)


def _fetch(backend: TrackingBackend, run_id: str, path: str, cache: Path) -> Path:
    """The package folder ``path`` of the run, from the cache when its files' content is there already."""
    from ridgeline.artifacts import download_folder, folder_files

    prefix = f"{path}/" if path else ""
    files = folder_files(backend.list_artifacts(run_id, prefix), run_id, path)
    key = hashlib.sha256("\n".join(f"{item.path[len(prefix) :]}\t{item.sha256}" for item in files).encode())
    folder = cache / key.hexdigest()
    if folder.is_dir():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=cache))
    try:
        download_folder(backend, run_id, path, files, staging)
        try:
            # Atomic: a reader sees the whole package or none; a concurrent loader that won keeps its copy.
            staging.rename(folder)
        except OSError:
            if not folder.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
