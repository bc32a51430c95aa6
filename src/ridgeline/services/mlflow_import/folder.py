"""An ``mlruns`` folder (MLflow's file store, mlflow/store/tracking/file_store.py) as a source, read-only.

Layout: ``<root>/<experiment id>/meta.yaml`` (``.trash/`` holds deleted experiments) with ``tags/`` and
``datasets/<id>/meta.yaml``; ``<experiment>/<run id>/meta.yaml`` with ``params/``, ``tags/`` and ``metrics/``
(one file per key, a ``/`` in a key being a sub-folder; metric lines are ``timestamp value [step]``),
``inputs/<id>/meta.yaml`` linking datasets, and ``artifacts/``; logged models in
``<experiment>/models/<model id>/`` (meta.yaml, params/, tags/, artifacts/). The registry (MLflow's registry
file store, at the same root by default) is ``<root>/models/<name>/`` with meta.yaml (aliases inside), tags/ and
``version-<n>/`` folders (meta.yaml, tags/).

The folder is data from elsewhere, so nothing it says leads the import outside it: a symlink whose target lies
outside the folder counts as absent (never read), and artifacts are read only from inside the folder or the
folder given as ``--artifacts-from``. A run whose ``artifact_uri`` names another place (an absolute path, a
``file:`` URI, ``../..``) is read from its own ``artifacts/`` folder, or reported as a problem; artifact folders
are walked without following any symlink (each one met is reported).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ridgeline.domain.errors import InvalidArgument, NotFound
from ridgeline.services.exchange.format import chunks
from ridgeline.services.exchange.records import ArtifactData
from ridgeline.services.mlflow_import.artifacts import PROXY_SCHEME, ArtifactAccess
from ridgeline.services.mlflow_import.model import (
    DELETED_STAGE,
    LOGGED_MODEL_STATUS,
    PROMPT_TAG,
    STATUS_BY_NUMBER,
    Artifacts,
    DatasetInput,
    Experiment,
    LoggedModelInfo,
    RegisteredModelInfo,
    RunSummary,
    VersionInfo,
    history,
    latest,
)
from ridgeline.store.artifacts.paths import check_path, contained
from ridgeline.store.metrics import SeriesArrays

META = "meta.yaml"
TRASH = ".trash"
# Folders of an experiment that are not runs.
_NOT_RUNS = {"tags", "datasets", "traces", "models"}


def _yaml(path: Path) -> dict[str, Any]:
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML comes with MLflow and Ridgeline's artifacts extra
        raise InvalidArgument("reading an mlruns folder needs PyYAML: pip install pyyaml", field="from") from None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidArgument(f"cannot read {path}: {exc}", field="from") from None
    return data if isinstance(data, dict) else {}


def _local_path(uri: str) -> Path | None:
    if uri.startswith("file:"):
        return Path(unquote(urlparse(uri).path))
    return Path(uri) if uri and "://" not in uri and not uri.startswith(PROXY_SCHEME) else None


def _read_plain(path: Path) -> Iterator[bytes]:
    """The bytes of a file found by a walk that follows no symlink; a symlink put there since is not opened."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise NotFound(f"{path} vanished") from None
    except OSError as exc:
        raise NotFound(f"{path} cannot be read: {exc.strerror}") from None
    with os.fdopen(descriptor, "rb") as handle:
        yield from chunks(handle)


class FolderSource:
    def __init__(self, root: Path, access: ArtifactAccess) -> None:
        if not root.is_dir():
            raise InvalidArgument(f"{root} is not a folder", field="from")
        self.root = root
        self.real_root = os.path.realpath(root)
        # Where artifact files may be read from: the folder, and the local folder given as --artifacts-from.
        self.artifact_roots = [self.real_root]
        if access.root is not None and "://" not in access.root:
            self.artifact_roots.append(os.path.realpath(access.root))
        self.folders = {str(_yaml(f / META).get("experiment_id", f.name)): f for f in self._experiment_folders()}
        if not self.folders:
            hint = f" (did you mean {root / 'mlruns'}?)" if (root / "mlruns").is_dir() else ""
            raise InvalidArgument(
                f"{root} is not an MLflow mlruns folder: no experiment folder with a {META}{hint}", field="from"
            )
        self.label = str(root.resolve())
        self.access = access
        self._run_folders: dict[str, Path] = {}

    def _is_file(self, path: Path) -> bool:
        """A file inside the folder: one reached through a symlink that leads out of it counts as none."""
        return path.is_file() and contained(self.real_root, str(path))

    def _is_dir(self, path: Path) -> bool:
        return path.is_dir() and contained(self.real_root, str(path))

    def _texts(self, folder: Path) -> dict[str, str]:
        """Key → content of every file under ``folder`` (a key with ``/`` is a nested path)."""
        if not self._is_dir(folder):
            return {}
        return {
            path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(folder.rglob("*"))
            if self._is_file(path)
        }

    def _experiment_folders(self) -> list[Path]:
        folders = [p for p in self.root.iterdir() if self._is_dir(p) and p.name not in (TRASH, "models")]
        if self._is_dir(self.root / TRASH):
            folders += [p for p in (self.root / TRASH).iterdir() if self._is_dir(p)]
        return sorted(f for f in folders if self._is_file(f / META))

    def experiments(self) -> list[Experiment]:
        found = []
        for experiment_id, folder in self.folders.items():
            meta = _yaml(folder / META)
            found.append(
                Experiment(
                    id=experiment_id,
                    name=str(meta.get("name", "")),
                    deleted=meta.get("lifecycle_stage") == "deleted" or folder.parent.name == TRASH,
                    creation_time=meta.get("creation_time"),
                    last_update_time=meta.get("last_update_time"),
                    tags=self._texts(folder / "tags"),
                )
            )
        return found

    def runs(self, experiment: Experiment) -> Iterator[RunSummary]:
        folder = self.folders[experiment.id]
        datasets = {p.name: _yaml(p / META) for p in sorted((folder / "datasets").glob("*")) if self._is_file(p / META)}
        for run_folder in sorted(folder.iterdir()):
            if run_folder.name in _NOT_RUNS or not self._is_dir(run_folder) or not self._is_file(run_folder / META):
                continue
            meta = _yaml(run_folder / META)
            run_id = str(meta.get("run_id") or meta.get("run_uuid") or run_folder.name)
            self._run_folders[run_id] = run_folder
            metrics = self._metrics(run_folder)
            status = meta.get("status", 1)
            yield RunSummary(
                id=run_id,
                experiment_id=experiment.id,
                name=str(meta.get("run_name") or ""),
                status=STATUS_BY_NUMBER.get(status, "RUNNING") if isinstance(status, int) else str(status),
                start_time=meta.get("start_time"),
                end_time=meta.get("end_time"),
                user=str(meta.get("user_id") or ""),
                deleted=meta.get("lifecycle_stage") == "deleted",
                deleted_time=meta.get("deleted_time"),
                artifact_uri=str(meta.get("artifact_uri") or ""),
                params=self._texts(run_folder / "params"),
                tags=self._texts(run_folder / "tags"),
                latest={key: latest(series) for key, series in metrics.items() if len(series)},
                inputs=self._inputs(run_folder, datasets),
                point_counts={key: len(series) for key, series in metrics.items()},
            )

    def _inputs(self, run_folder: Path, datasets: dict[str, dict[str, Any]]) -> list[DatasetInput]:
        found = []
        for path in sorted((run_folder / "inputs").glob(f"*/{META}")):
            if not self._is_file(path):
                continue
            link = _yaml(path)
            dataset = datasets.get(str(link.get("source_id")))
            if link.get("source_type") != "DATASET" or dataset is None:
                continue
            found.append(
                DatasetInput(
                    name=str(dataset.get("name", "")),
                    digest=str(dataset.get("digest", "")),
                    source_type=str(dataset.get("source_type", "")),
                    source=str(dataset.get("source", "")),
                    schema=dataset.get("schema"),
                    profile=dataset.get("profile"),
                    tags={str(k): str(v) for k, v in (link.get("tags") or {}).items()},
                )
            )
        return found

    def _metrics(self, run_folder: Path) -> dict[str, SeriesArrays]:
        found = {}
        for key, text in self._texts(run_folder / "metrics").items():
            points = []
            for line in text.splitlines():
                parts = line.split()
                try:
                    if len(parts) not in (2, 3, 5):
                        raise ValueError(line)
                    points.append((int(parts[2]) if len(parts) >= 3 else 0, int(parts[0]), float(parts[1])))
                except ValueError:
                    raise InvalidArgument(
                        f"{run_folder / 'metrics' / key}: malformed line {line!r}", field="from"
                    ) from None
            found[key] = history(points)
        return found

    def histories(self, run: RunSummary) -> dict[str, SeriesArrays]:
        return self._metrics(self._run_folders[run.id])

    def artifacts(self, run: RunSummary) -> Artifacts:
        return self._files(self._readable(run.artifact_uri, self._run_folders[run.id] / "artifacts"))

    def logged_models(self, experiment: Experiment) -> list[LoggedModelInfo]:
        found = []
        for folder in sorted((self.folders[experiment.id] / "models").glob("m-*")):
            meta = _yaml(folder / META) if self._is_file(folder / META) else {}
            if not meta or meta.get("lifecycle_stage") == "deleted":
                continue
            found.append(
                LoggedModelInfo(
                    id=str(meta.get("model_id", folder.name)),
                    experiment_id=experiment.id,
                    name=str(meta.get("name", "")),
                    artifact_uri=self._readable(str(meta.get("artifact_location") or ""), folder / "artifacts"),
                    created=meta.get("creation_timestamp"),
                    status=LOGGED_MODEL_STATUS.get(meta.get("status", 1), "PENDING"),
                    model_type=str(meta.get("model_type") or ""),
                    run_id=meta.get("source_run_id") or None,
                    params=self._texts(folder / "params"),
                    tags=self._texts(folder / "tags"),
                )
            )
        return found

    def model_files(self, model: LoggedModelInfo) -> Artifacts:
        return self._files(model.artifact_uri)

    def registered_models(self) -> list[RegisteredModelInfo]:
        found = []
        for folder in sorted((self.root / "models").glob(f"*/{META}")):
            if not self._is_file(folder):
                continue
            meta, tags = _yaml(folder), self._texts(folder.parent / "tags")
            if tags.get(PROMPT_TAG) == "true":
                continue
            versions = [
                _version(_yaml(path), self._texts(path.parent / "tags"))
                for path in folder.parent.glob(f"version-*/{META}")
                if self._is_file(path)
            ]
            found.append(
                RegisteredModelInfo(
                    name=str(meta.get("name", folder.parent.name)),
                    description=str(meta.get("description") or ""),
                    created=meta.get("creation_timestamp"),
                    updated=meta.get("last_updated_timestamp"),
                    tags=tags,
                    aliases={str(alias): int(number) for alias, number in (meta.get("aliases") or {}).items()},
                    versions=sorted((v for v in versions if v.stage != DELETED_STAGE), key=lambda v: v.version),
                )
            )
        return found

    def _readable(self, uri: str, own: Path) -> str:
        """``uri``, or the folder's own copy when ``uri`` is empty, a local path that no longer exists (a folder
        copied from another machine still names the old place) or one where artifacts are not read from."""
        path = _local_path(uri)
        if uri and (path is None or (path.exists() and self._may_read(path))):
            return uri
        return str(own) if self._is_dir(own) else ""

    def _may_read(self, path: Path) -> bool:
        """Whether ``path``, every symlink resolved, lies in the folder or the one given as --artifacts-from."""
        try:
            return any(contained(root, str(path)) for root in self.artifact_roots)
        except ValueError:  # a NUL byte: no such path
            return False

    def _files(self, uri: str) -> Artifacts:
        """The files at an artifact location; local ones only inside the folders artifacts may be read from."""
        if not uri:
            # No location: nothing to read (fsspec would take "" for the current folder, and copy all of it).
            return Artifacts()
        if uri.startswith(PROXY_SCHEME):
            relative = urlparse(uri).path.strip("/")
            try:
                if relative:
                    check_path(relative, "artifact_uri")
            except InvalidArgument as exc:
                return Artifacts(problems=[f"artifacts at {uri!r} not read: {exc.message}"])
            if self.access.root is None or "://" in self.access.root:
                return self.access.files(uri)
            return self._local_files(Path(self.access.root, relative), uri)
        path = _local_path(uri)
        return self.access.files(uri) if path is None else self._local_files(path, uri)

    def _local_files(self, folder: Path, uri: str) -> Artifacts:
        """Every plain file under ``folder``, walked without following a symlink (each one met is reported)."""
        if not folder.exists():
            return Artifacts()  # MLflow makes a run's artifact folder with its first file
        if not self._may_read(folder):
            return Artifacts(
                problems=[
                    f"artifacts at {uri!r} not read: they are outside {self.label}; give the folder that holds them "
                    "as --artifacts-from to read them"
                ]
            )
        found = Artifacts()
        for parent, folders, names in os.walk(folder):
            for name in sorted(folders + names):
                entry = Path(parent, name)
                relative = entry.relative_to(folder).as_posix()
                if entry.is_symlink():
                    found.problems.append(f"{uri}/{relative} is a symlink: not followed")
                elif name in names and entry.is_file():
                    size = entry.stat(follow_symlinks=False).st_size
                    found.files.append(ArtifactData(relative, size, partial(_read_plain, entry)))
        found.files.sort(key=lambda item: item.path)
        return found

    def close(self) -> None:
        self.access.close()


def _version(meta: dict[str, Any], tags: dict[str, str]) -> VersionInfo:
    return VersionInfo(
        version=int(meta["version"]),
        created=meta.get("creation_timestamp"),
        description=str(meta.get("description") or ""),
        user=str(meta.get("user_id") or ""),
        stage=str(meta.get("current_stage") or "None"),
        source=str(meta.get("source") or ""),
        run_id=meta.get("run_id") or None,
        status=str(meta.get("status") or "READY"),
        model_id=meta.get("model_id") or None,
        tags=tags,
    )
