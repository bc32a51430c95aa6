"""Reading artifacts back: ``ridgeline.artifacts.download("runs:/RUN_ID/PATH", dst)``.

``PATH`` names one file or a folder of the run's artifacts (nothing: all of them). Files stream to disk and
appear under their final name only once their sha256 matched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ridgeline.domain.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from ridgeline.client.backend import TrackingBackend
    from ridgeline.domain.entities import ArtifactFile

__all__ = ["download", "parse_runs_uri"]


def parse_runs_uri(uri: str) -> tuple[str, str]:
    """``runs:/RUN_ID/PATH`` → (run id, path; empty for the whole run)."""
    from ridgeline.domain import validation as v
    from ridgeline.store.artifacts.paths import check_path

    if not isinstance(uri, str) or not uri.startswith("runs:/"):
        raise InvalidArgument(f"an artifact URI looks like runs:/RUN_ID/PATH, got {uri!r}", field="uri")
    run_id, _, path = uri.removeprefix("runs:/").lstrip("/").partition("/")
    v.check_id(run_id, "uri")
    path = path.rstrip("/")
    return run_id, check_path(path, "uri") if path else ""


def download(uri: str, dst: str | os.PathLike[str] = ".", *, tracking_uri: str | None = None) -> Path:
    """Download a file or folder of a run's artifacts; returns the local path of what was written.

    A file goes to ``dst`` (into it, when ``dst`` is an existing folder); a folder's files go under
    ``dst/FOLDER_NAME/`` (``dst`` itself for the whole run).
    """
    from ridgeline.client.resolve import backend_for
    from ridgeline.config import Settings

    run_id, path = parse_runs_uri(uri)
    target = Path(dst)
    backend = backend_for(tracking_uri, Settings.load())
    try:
        files = backend.list_artifacts(run_id, path)
        exact = [item for item in files if item.path == path]
        if exact:
            destination = target / path.rsplit("/", 1)[-1] if target.is_dir() else target
            destination.parent.mkdir(parents=True, exist_ok=True)
            backend.download_artifact(run_id, path, destination)
            return destination
        root = target / path.rsplit("/", 1)[-1] if path else target
        download_folder(backend, run_id, path, folder_files(files, run_id, path), root)
        return root
    finally:
        backend.close()


def folder_files(files: list[ArtifactFile], run_id: str, path: str) -> list[ArtifactFile]:
    """The files inside the folder ``path`` (all of them for the run's root); NotFound when there are none."""
    inside = [item for item in files if not path or item.path.startswith(f"{path}/")]
    if not inside:
        raise NotFound(f"run {run_id} has no artifact {path!r}", field="uri")
    return inside


def download_folder(backend: TrackingBackend, run_id: str, path: str, files: list[ArtifactFile], root: Path) -> None:
    """Write ``files`` (inside the folder ``path``) under ``root``, keeping their layout below ``path``."""
    for item in files:
        # Paths were checked by the server (clean, relative): they cannot leave ``root``.
        relative = item.path[len(path) + 1 :] if path else item.path
        destination = root.joinpath(*relative.split("/"))
        destination.parent.mkdir(parents=True, exist_ok=True)
        backend.download_artifact(run_id, item.path, destination)
