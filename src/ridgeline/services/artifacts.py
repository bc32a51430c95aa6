"""Artifact use cases: streamed uploads with a size limit and a sha256, downloads, listings, storage used, and
``gc``, which removes soft-deleted runs for good (their files on the artifact store, then their rows).

Transport-agnostic like the tracking service: the HTTP API feeds uploads chunk by chunk from the request body,
the SDK's embedded backend from a file, and both get the same checks.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ridgeline.domain import validation as v
from ridgeline.domain.entities import ArtifactFile
from ridgeline.domain.errors import Conflict, InvalidArgument, NotFound, PayloadTooLarge
from ridgeline.domain.ids import now_ms
from ridgeline.store.artifact_records import RunUsage
from ridgeline.store.artifacts.paths import check_path, check_prefix
from ridgeline.store.artifacts.storage import ArtifactStorage, ArtifactWriter
from ridgeline.store.metadata import MetadataStore

_SHA256_HEX = frozenset("0123456789abcdef")
_RUN_ID = re.compile(r"[0-9a-f]{32}")


def check_sha256(value: str, field: str = "sha256") -> str:
    digest = value.strip().lower()
    if len(digest) != 64 or not set(digest) <= _SHA256_HEX:
        raise InvalidArgument("a sha256 is 64 hexadecimal characters", field=field)
    return digest


def _key(run_id: str, path: str) -> str:
    """Storage layout: ``{root}/{run_id}/{path}`` (docs/architecture.md, "Artifacts")."""
    return f"{run_id}/{path}"


class ArtifactUpload:
    """One upload in progress: :meth:`write` chunks in order, then :meth:`finish` (or :meth:`abort`).

    The size limit is enforced as bytes arrive, and the sha256 is computed on the way, so neither needs the
    file whole in memory or a second pass over it.
    """

    def __init__(
        self,
        service: ArtifactService,
        run_id: str,
        path: str,
        writer: ArtifactWriter,
        limit: int,
        expected_sha256: str | None,
    ) -> None:
        self._service = service
        self.run_id = run_id
        self.path = path
        self._writer = writer
        self._limit = limit
        self._expected = expected_sha256
        self._hash = hashlib.sha256()
        self.size = 0
        self._open = True

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self._limit:
            self.abort()
            raise PayloadTooLarge(f"artifact is larger than the limit of {self._limit} bytes", field="body")
        self._hash.update(data)
        self._writer.write(data)

    def write_parts(self, parts: Iterable[bytes]) -> None:
        for part in parts:
            self.write(part)

    def finish(self) -> ArtifactFile:
        digest = self._hash.hexdigest()
        if self._expected is not None and digest != self._expected:
            self.abort()
            raise InvalidArgument(
                f"content sha256 is {digest}, not the {self._expected} announced; nothing was stored",
                field="X-Content-SHA256",
            )
        self._writer.commit()
        self._open = False
        record = ArtifactFile(path=self.path, size=self.size, sha256=digest, created_at=now_ms())
        self._service.record(self.run_id, record)
        return record

    def abort(self) -> None:
        if self._open:
            self._open = False
            self._writer.abort()


@dataclass
class GcReport:
    """What ``gc`` removed (or, with ``dry_run``, would remove)."""

    dry_run: bool
    runs: list[RunUsage] = field(default_factory=list)
    # Storage folders of runs that no longer exist (an earlier gc interrupted between rows and files).
    orphans: list[str] = field(default_factory=list)
    bytes_freed: int = 0
    files_freed: int = 0
    failures: list[str] = field(default_factory=list)
    # Deleted runs kept because a registered model version's files or lineage live in them.
    kept: list[RunUsage] = field(default_factory=list)


class ArtifactService:
    def __init__(self, store: MetadataStore, storage: ArtifactStorage, max_size: int) -> None:
        self.store = store
        self.storage = storage
        self.max_size = max_size

    # writing ------------------------------------------------------------------------------------------------

    def begin_upload(
        self, run_id: str, path: str, *, expected_sha256: str | None = None, declared_size: int | None = None
    ) -> ArtifactUpload:
        """Check everything that can be checked before the first byte, then open the storage writer."""
        v.check_id(run_id, "run_id")
        check_path(path)
        expected = None if expected_sha256 is None else check_sha256(expected_sha256, "X-Content-SHA256")
        if declared_size is not None and declared_size > self.max_size:
            raise PayloadTooLarge(
                f"artifact of {declared_size} bytes is larger than the limit of {self.max_size} bytes", field="body"
            )
        run = self.store.runs.get_header(run_id)
        if run.deleted:
            raise Conflict(f"run {run_id!r} is deleted; restore it before storing artifacts", field="run_id")
        writer = self.storage.writer(_key(run_id, path))
        return ArtifactUpload(self, run_id, path, writer, self.max_size, expected)

    def upload(
        self, run_id: str, path: str, chunks: Iterable[bytes], *, expected_sha256: str | None = None
    ) -> ArtifactFile:
        upload = self.begin_upload(run_id, path, expected_sha256=expected_sha256)
        try:
            for chunk in chunks:
                upload.write(chunk)
            return upload.finish()
        finally:
            upload.abort()

    def record(self, run_id: str, record: ArtifactFile) -> None:
        """Add the row of a stored file; the file goes again when its run vanished meanwhile (gc)."""
        try:
            self.store.artifacts.put(run_id, record)
        except Exception:
            if not self.store.artifacts.existing_runs([run_id]):
                self.storage.delete_tree(run_id)
            raise

    def delete(self, run_id: str, path: str) -> None:
        self.info(run_id, path)
        # Already gone from storage (an interrupted delete): the row must still go.
        with contextlib.suppress(NotFound):
            self.storage.delete(_key(run_id, path))
        self.store.artifacts.delete(run_id, path)

    # reading ------------------------------------------------------------------------------------------------

    def info(self, run_id: str, path: str) -> ArtifactFile:
        v.check_id(run_id, "run_id")
        check_path(path)
        try:
            return self.store.artifacts.get(run_id, path)
        except NotFound:
            self.store.runs.get_header(run_id)  # says "no such run" when that is the reason
            raise

    def read(self, run_id: str, path: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The stored bytes ``[start, end)`` in chunks; NotFound before the first chunk when they are missing."""
        return self.read_file(run_id, self.info(run_id, path), start, end)

    def read_file(self, run_id: str, record: ArtifactFile, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes of a file :meth:`info` has just described (no second look-up on the download path)."""
        return self.storage.read(_key(run_id, record.path), start, end)

    def list_files(self, run_id: str, prefix: str = "") -> list[ArtifactFile]:
        v.check_id(run_id, "run_id")
        prefix = check_prefix(prefix)
        self.store.runs.get_header(run_id)
        return self.store.artifacts.files(run_id, prefix)

    def run_usage(self, run_id: str) -> RunUsage:
        v.check_id(run_id, "run_id")
        usage = self.store.artifacts.usage(run_id=run_id)
        if not usage:
            raise NotFound(f"run {run_id!r} does not exist", field="run_id")
        return usage[0]

    def project_usage(self, project_id: str) -> list[RunUsage]:
        """Usage of every run of the project (soft-deleted ones included: they hold space until gc)."""
        self.store.projects.get(project_id, stats=False)
        return self.store.artifacts.usage(project_id=project_id)

    # garbage collection -------------------------------------------------------------------------------------

    def gc(self, *, dry_run: bool = False) -> GcReport:
        """Remove soft-deleted runs for good: rows first (only if still deleted, so a restore racing gc wins),
        then their files. Files whose run is gone (an interrupted earlier gc) are swept too. Runs behind a
        registered model version stay, deleted or not: the registry must be able to load every version."""
        report = GcReport(dry_run=dry_run)
        registered = self.store.registry.protected_runs()
        for usage in self.store.artifacts.usage(deleted_only=True):
            if usage.run_id in registered:
                report.kept.append(usage)
                continue
            if dry_run:
                report.runs.append(usage)
                report.bytes_freed += usage.bytes
                report.files_freed += usage.files
                continue
            if not self.store.artifacts.purge_run(usage.run_id):
                continue
            report.runs.append(usage)
            report.files_freed += usage.files
            try:
                report.bytes_freed += self.storage.delete_tree(usage.run_id)
            except Exception as exc:
                report.failures.append(f"files of run {usage.run_id}: {exc} (the next gc retries)")
        self._sweep_orphans(report)
        return report

    def _sweep_orphans(self, report: GcReport) -> None:
        folders = [name for name in self.storage.folders() if _RUN_ID.fullmatch(name)]
        existing: set[str] = set()
        for start in range(0, len(folders), 500):
            existing |= self.store.artifacts.existing_runs(folders[start : start + 500])
        for name in folders:
            if name in existing or any(usage.run_id == name for usage in report.runs):
                continue
            report.orphans.append(name)
            objects = self.storage.find(name)
            report.files_freed += len(objects)
            if report.dry_run:
                report.bytes_freed += sum(item.size for item in objects)
                continue
            try:
                report.bytes_freed += self.storage.delete_tree(name)
            except Exception as exc:
                report.failures.append(f"files of removed run {name}: {exc}")
