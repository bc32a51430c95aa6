"""Dataset versions and lineage: which data a run used, which runs used a version, what a run produced."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ridgeline.domain import validation as v
from ridgeline.domain.entities import ArtifactFile, Dataset, DatasetVersion, RunInput, RunRecord
from ridgeline.domain.errors import Conflict, InvalidArgument
from ridgeline.domain.ids import now_ms
from ridgeline.store.metadata import MetadataStore

_DIGEST = re.compile(r"[0-9a-f]{64}")
_FOREIGN_DIGEST = re.compile(r"[\x21-\x7e]{1,64}")
_DIGEST_PREFIX = re.compile(r"[0-9a-f]{4,64}")
KINDS = ("dataframe", "arrays", "files")
MAX_CONTEXT_LENGTH = 50
# A profile is a summary: one bigger than this was not made by our SDK.
MAX_PROFILE_BYTES = 2_000_000


@dataclass(frozen=True)
class InputSpec:
    """One dataset input to record: the dataset's name, what the run used it for, and the version's
    description (services/dataset_description.py's shape: digest, kind, rows, size_bytes, schema, profile, source)."""

    name: str
    context: str
    version: dict[str, Any]


@dataclass(frozen=True)
class Lineage:
    """A run's place in the graph: the data it read, the runs it came from, and the files it wrote."""

    run: RunRecord
    inputs: list[RunInput]
    outputs: list[ArtifactFile]


class DatasetService:
    def __init__(self, store: MetadataStore) -> None:
        self.store = store

    def log_input(self, run_id: str, name: str, context: str, version: dict[str, Any], user: str) -> DatasetVersion:
        """Record that ``run_id`` used this content of dataset ``name``; returns the (possibly existing) version."""
        return self.log_inputs(run_id, [InputSpec(name, context, version)], user)[0]

    def log_inputs(
        self, run_id: str, inputs: Sequence[InputSpec], user: str, *, foreign: bool = False
    ) -> list[DatasetVersion]:
        """Record several inputs of one run in one transaction; every one is checked before any is recorded.

        ``foreign`` descriptions were made by another tool (MLflow's client): their digest is kept as that tool
        computed it (any printable text of at most 64 characters, not necessarily a sha256), so the same data
        logged again is still one version, and their context may be empty (not said).
        """
        checked = [
            (v.check_name(item.name, "name"), _checked_context(item.context, foreign), _checked(item.version, foreign))
            for item in inputs
        ]
        run = self.store.runs.get(run_id)
        if run.deleted:
            raise Conflict(f"run {run_id!r} is deleted; restore it to log to it again", field="run_id")
        return self.store.datasets.record_inputs(run_id, checked, user)

    def inputs_of_runs(self, run_ids: Sequence[str]) -> dict[str, list[RunInput]]:
        """The dataset inputs of each of these runs (a page of search results read at once)."""
        return self.store.datasets.inputs_of_runs(run_ids)

    def list_datasets(self) -> list[Dataset]:
        return self.store.datasets.list_datasets()

    def get_dataset(self, name: str) -> Dataset:
        return self.store.datasets.dataset(name)

    def versions(self, name: str) -> list[DatasetVersion]:
        return self.store.datasets.versions(self.get_dataset(name).id)

    def version(self, version_id: str) -> DatasetVersion:
        v.check_id(version_id, "version_id")
        return self.store.datasets.version(version_id)

    def resolve_version(self, name: str, version: str | None) -> DatasetVersion:
        """A version of ``name`` by id, by digest or digest prefix (at least 4 hex digits), or the latest."""
        dataset = self.get_dataset(name)
        if version is None:
            versions = self.store.datasets.versions(dataset.id)
            if not versions:
                raise InvalidArgument(f"dataset {name!r} has no version yet", field="version")
            return versions[0]
        if not _DIGEST_PREFIX.fullmatch(version):
            raise InvalidArgument("version must be a version id or (a prefix of) its hex digest", field="version")
        found = [item for item in self.store.datasets.versions(dataset.id) if item.id == version]
        found = found or self.store.datasets.find_version(dataset.id, version)
        if not found:
            raise InvalidArgument(f"dataset {name!r} has no version {version!r}", field="version")
        if len(found) > 1:
            raise InvalidArgument(
                f"{version!r} matches {len(found)} versions of {name!r}: give more digits", field="version"
            )
        return found[0]

    def mark_ready(self, version_id: str, user: str, ready: bool = True) -> DatasetVersion:
        self.version(version_id)
        return self.store.datasets.mark_ready(version_id, user if ready else None, now_ms() if ready else None)

    def runs_using(self, version_id: str) -> list[tuple[RunRecord, str]]:
        self.version(version_id)
        return [
            (self.store.runs.get(run_id), context) for run_id, context in self.store.datasets.runs_using(version_id)
        ]

    def lineage(self, run_id: str) -> Lineage:
        run = self.store.runs.get(run_id)
        return Lineage(run, self.store.datasets.inputs_of(run_id), self.store.artifacts.files(run_id))


def _checked_context(context: str, foreign: bool) -> str:
    if foreign and context == "":
        return context
    return v.check_name(context, "context", MAX_CONTEXT_LENGTH)


def _checked(version: dict[str, Any], foreign: bool) -> dict[str, Any]:
    """The description of a version (services/dataset_description.py's shape), checked field by field."""
    digest = version.get("digest")
    if foreign:
        if not isinstance(digest, str) or not _FOREIGN_DIGEST.fullmatch(digest):
            raise InvalidArgument("digest must be 1 to 64 printable ASCII characters", field="digest")
    elif not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise InvalidArgument("digest must be 64 lowercase hex characters (a sha256)", field="digest")
    kind = version.get("kind")
    if kind not in KINDS:
        raise InvalidArgument(f"kind must be one of {', '.join(KINDS)}", field="kind")
    for field in ("rows", "size_bytes"):
        value = version.get(field)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise InvalidArgument(f"{field} must be a non-negative integer or null", field=field)
    schema = version.get("schema", [])
    if not isinstance(schema, list) or not all(isinstance(item, dict) for item in schema):
        raise InvalidArgument("schema must be a list of objects", field="schema")
    profile = version.get("profile")
    if profile is not None and (not isinstance(profile, dict) or len(json.dumps(profile)) > MAX_PROFILE_BYTES):
        raise InvalidArgument(f"profile must be an object of at most {MAX_PROFILE_BYTES} bytes", field="profile")
    source = version.get("source", "")
    v.check_text(source, "source", v.MAX_TAG_VALUE_LENGTH)
    return {
        "digest": digest,
        "kind": kind,
        "rows": version.get("rows"),
        "size_bytes": version.get("size_bytes"),
        "schema": schema,
        "profile": profile,
        "source": source,
    }
