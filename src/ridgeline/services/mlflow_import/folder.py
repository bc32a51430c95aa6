"""An ``mlruns`` folder (MLflow's file store, mlflow/store/tracking/file_store.py) as a source, read-only.

Layout: ``<root>/<experiment id>/meta.yaml`` (``.trash/`` holds deleted experiments) with ``tags/`` and
``datasets/<id>/meta.yaml``; ``<experiment>/<run id>/meta.yaml`` with ``params/``, ``tags/`` and ``metrics/``
(one file per key, a ``/`` in a key being a sub-folder; metric lines are ``timestamp value [step]``),
``inputs/<id>/meta.yaml`` linking datasets, and ``artifacts/``; logged models in
``<experiment>/models/<model id>/`` (meta.yaml, params/, tags/, artifacts/). The registry (MLflow's registry
file store, at the same root by default) is ``<root>/models/<name>/`` with meta.yaml (aliases inside), tags/ and
``version-<n>/`` folders (meta.yaml, tags/).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ridgeline.domain.errors import InvalidArgument
from ridgeline.services.mlflow_import.artifacts import ArtifactAccess
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


def _texts(folder: Path) -> dict[str, str]:
    """Key → content of every file under ``folder`` (a key with ``/`` is a nested path)."""
    if not folder.is_dir():
        return {}
    return {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _experiment_folders(root: Path) -> list[Path]:
    folders = [p for p in root.iterdir() if p.is_dir() and p.name not in (TRASH, "models")]
    if (root / TRASH).is_dir():
        folders += [p for p in (root / TRASH).iterdir() if p.is_dir()]
    return sorted(f for f in folders if (f / META).is_file())


def _local_path(uri: str) -> Path | None:
    if uri.startswith("file:"):
        return Path(unquote(urlparse(uri).path))
    return Path(uri) if uri and "://" not in uri and not uri.startswith("mlflow-artifacts:") else None


class FolderSource:
    def __init__(self, root: Path, access: ArtifactAccess) -> None:
        if not root.is_dir():
            raise InvalidArgument(f"{root} is not a folder", field="from")
        self.folders = {str(_yaml(f / META).get("experiment_id", f.name)): f for f in _experiment_folders(root)}
        if not self.folders:
            hint = f" (did you mean {root / 'mlruns'}?)" if (root / "mlruns").is_dir() else ""
            raise InvalidArgument(
                f"{root} is not an MLflow mlruns folder: no experiment folder with a {META}{hint}", field="from"
            )
        self.root = root
        self.label = str(root.resolve())
        self.access = access
        self._run_folders: dict[str, Path] = {}

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
                    tags=_texts(folder / "tags"),
                )
            )
        return found

    def runs(self, experiment: Experiment) -> Iterator[RunSummary]:
        folder = self.folders[experiment.id]
        datasets = {p.name: _yaml(p / META) for p in sorted((folder / "datasets").glob("*")) if (p / META).is_file()}
        for run_folder in sorted(folder.iterdir()):
            if run_folder.name in _NOT_RUNS or not (run_folder / META).is_file():
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
                params=_texts(run_folder / "params"),
                tags=_texts(run_folder / "tags"),
                latest={key: latest(series) for key, series in metrics.items() if len(series)},
                inputs=self._inputs(run_folder, datasets),
                point_counts={key: len(series) for key, series in metrics.items()},
            )

    @staticmethod
    def _inputs(run_folder: Path, datasets: dict[str, dict[str, Any]]) -> list[DatasetInput]:
        found = []
        for path in sorted((run_folder / "inputs").glob(f"*/{META}")):
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

    @staticmethod
    def _metrics(run_folder: Path) -> dict[str, SeriesArrays]:
        found = {}
        for key, text in _texts(run_folder / "metrics").items():
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
        return self.access.files(self._readable(run.artifact_uri, self._run_folders[run.id] / "artifacts"))

    def logged_models(self, experiment: Experiment) -> list[LoggedModelInfo]:
        found = []
        for folder in sorted((self.folders[experiment.id] / "models").glob("m-*")):
            meta = _yaml(folder / META) if (folder / META).is_file() else {}
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
                    params=_texts(folder / "params"),
                    tags=_texts(folder / "tags"),
                )
            )
        return found

    def model_files(self, model: LoggedModelInfo) -> Artifacts:
        return self.access.files(model.artifact_uri)

    def registered_models(self) -> list[RegisteredModelInfo]:
        found = []
        for folder in sorted((self.root / "models").glob(f"*/{META}")):
            meta, tags = _yaml(folder), _texts(folder.parent / "tags")
            if tags.get(PROMPT_TAG) == "true":
                continue
            versions = [
                _version(_yaml(path), _texts(path.parent / "tags")) for path in folder.parent.glob(f"version-*/{META}")
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

    @staticmethod
    def _readable(uri: str, own: Path) -> str:
        """``uri``, or the folder's own copy when ``uri`` is a local path that no longer exists: a folder copied
        from another machine still names the old place."""
        path = _local_path(uri)
        return str(own) if path is not None and not path.exists() and own.is_dir() else uri

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
