"""Where artifact bytes live: one small interface, two implementations over fsspec side by side.

- :class:`LocalStorage`: a folder (the default: ``artifacts`` in the data folder). Every operation resolves the
  real path and refuses one outside the root; writes also refuse any symlink on the way, and land through a
  temporary file renamed into place, so a reader never sees half a file and a failed upload leaves nothing.
- :class:`RemoteStorage`: any other fsspec URI, ``s3://bucket/prefix`` through s3fs above all. Writes are
  multipart uploads of :data:`CHUNK` bytes that are aborted on failure, so nothing partial is ever visible.

Keys are relative POSIX paths (``RUN_ID/PATH``) that :mod:`ridgeline.store.artifacts.paths` has checked; both
storages check them again, so no caller can reach outside the root by building a key itself. Everything streams
in :data:`CHUNK`-sized pieces: memory stays constant whatever the file size.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from ridgeline.domain.errors import InvalidArgument, NotFound, PermissionDenied, Unavailable
from ridgeline.store.artifacts.paths import check_path, contained

CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int


class ArtifactWriter(Protocol):
    """One upload in progress: bytes are written in order, then committed (visible at once) or aborted."""

    def write(self, data: bytes) -> None: ...

    def commit(self) -> None: ...

    def abort(self) -> None: ...


class ArtifactStorage(Protocol):
    uri: str

    def writer(self, key: str) -> ArtifactWriter: ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes of ``[start, end)`` in chunks (``end`` None: to the end of the file)."""
        ...

    def size(self, key: str) -> int: ...

    def find(self, prefix: str) -> list[StoredObject]:
        """Every object under ``prefix`` (a key folder), recursively, with keys relative to the root."""
        ...

    def delete(self, key: str) -> None: ...

    def delete_tree(self, prefix: str) -> int:
        """Remove everything under ``prefix``; returns the bytes freed."""
        ...

    def folders(self) -> list[str]:
        """Names of the top-level folders (one per run that stored something)."""
        ...


def open_storage(uri: str) -> ArtifactStorage:
    """The storage for a folder, ``file://`` URI or fsspec URI (``s3://bucket/prefix``)."""
    if "://" not in uri or uri.startswith("file://"):
        return LocalStorage(uri.removeprefix("file://"))
    return RemoteStorage(uri)


def _check_key(key: str) -> str:
    return check_path(key, "path")


class LocalStorage:
    def __init__(self, folder: str) -> None:
        os.makedirs(os.path.expanduser(folder), exist_ok=True)
        # The root itself may be reached through a symlink (/home -> /data/home); everything below it may not.
        self.root = os.path.realpath(os.path.expanduser(folder))
        self.uri = self.root

    def _resolved(self, key: str) -> str:
        """The real path of a key, refused when a symlink takes it outside the root."""
        path = os.path.join(self.root, *_check_key(key).split("/"))
        if not contained(self.root, path):
            raise PermissionDenied(f"artifact path {key!r} leads outside the artifact store", field="path")
        return path

    def _make_parents(self, key: str) -> str:
        """Create the key's folders one by one, refusing any symlink or non-folder on the way."""
        parts = _check_key(key).split("/")
        folder = self.root
        for part in parts[:-1]:
            folder = os.path.join(folder, part)
            try:
                os.mkdir(folder, 0o755)
            except FileExistsError:
                if not stat.S_ISDIR(os.lstat(folder).st_mode):
                    raise PermissionDenied(
                        f"artifact path {key!r} crosses a symlink or file inside the artifact store", field="path"
                    ) from None
        target = os.path.join(folder, parts[-1])
        if os.path.islink(target) or os.path.isdir(target):
            raise PermissionDenied(f"artifact path {key!r} is a symlink or folder in the artifact store", field="path")
        return target

    def writer(self, key: str) -> ArtifactWriter:
        return _LocalWriter(self._make_parents(key))

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        path = self._resolved(key)
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed by the generator below, which outlives this call
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"artifact {key!r} does not exist", field="path") from None
        return _chunks(handle, start, end)

    def size(self, key: str) -> int:
        try:
            info = os.stat(self._resolved(key))
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"artifact {key!r} does not exist", field="path") from None
        if not stat.S_ISREG(info.st_mode):
            raise NotFound(f"artifact {key!r} is not a file", field="path")
        return info.st_size

    def find(self, prefix: str) -> list[StoredObject]:
        folder = self._resolved(prefix)
        found = []
        # os.walk does not descend into symlinked folders; symlinked files are skipped below unless contained.
        for dirpath, _dirs, files in os.walk(folder):
            for name in files:
                path = os.path.join(dirpath, name)
                if name.startswith(_TEMP_PREFIX) or not contained(self.root, path) or not os.path.isfile(path):
                    continue
                key = os.path.relpath(path, self.root).replace(os.sep, "/")
                found.append(StoredObject(key, os.path.getsize(path)))
        return sorted(found, key=lambda item: item.key)

    def delete(self, key: str) -> None:
        path = self._resolved(key)
        try:
            os.unlink(path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"artifact {key!r} does not exist", field="path") from None

    def delete_tree(self, prefix: str) -> int:
        folder = self._resolved(prefix)
        freed = sum(item.size for item in self.find(prefix))
        # rmtree removes symlinks themselves and never follows them out of the tree.
        shutil.rmtree(folder, ignore_errors=True)
        return freed

    def folders(self) -> list[str]:
        with os.scandir(self.root) as entries:
            return sorted(entry.name for entry in entries if entry.is_dir(follow_symlinks=False))


_TEMP_PREFIX = ".upload-"


class _LocalWriter:
    def __init__(self, target: str) -> None:
        self.target = target
        folder, name = os.path.split(target)
        self.temp = os.path.join(folder, f"{_TEMP_PREFIX}{uuid.uuid4().hex}-{name}"[:255])
        # O_EXCL | O_NOFOLLOW: a name planted by someone else is never written through.
        fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        self.handle = os.fdopen(fd, "wb", buffering=0)

    def write(self, data: bytes) -> None:
        self.handle.write(data)

    def commit(self) -> None:
        self.handle.close()
        # rename replaces a file (or a symlink planted meanwhile) at the target itself, never what it points to.
        os.replace(self.temp, self.target)

    def abort(self) -> None:
        self.handle.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.temp)


class RemoteStorage:
    def __init__(self, uri: str) -> None:
        import fsspec

        protocol, _, rest = uri.partition("://")
        self.uri = uri.rstrip("/")
        self.root = rest.strip("/")
        options: dict[str, Any] = {"skip_instance_cache": True}
        if protocol in ("s3", "s3a"):
            # Several servers (and gc) change the bucket: a cached listing would be stale.
            options["use_listings_cache"] = False
        try:
            self.fs = fsspec.filesystem(protocol, **options)
        except (ImportError, ValueError) as exc:
            raise InvalidArgument(
                f"artifact store {uri!r} cannot be opened: {exc} (s3:// needs `pip install s3fs`)",
                field="artifacts_uri",
            ) from exc

    def _full(self, key: str) -> str:
        return f"{self.root}/{_check_key(key)}"

    def writer(self, key: str) -> ArtifactWriter:
        try:
            handle = self.fs.open(self._full(key), "wb", block_size=CHUNK)
        except OSError as exc:
            raise Unavailable(f"artifact store {self.uri} refused the upload: {exc}") from exc
        return _RemoteWriter(handle)

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        try:
            handle = self.fs.open(self._full(key), "rb", block_size=CHUNK, cache_type="none")
        except FileNotFoundError:
            raise NotFound(f"artifact {key!r} does not exist", field="path") from None
        return _chunks(handle, start, end)

    def size(self, key: str) -> int:
        try:
            info = self.fs.info(self._full(key))
        except FileNotFoundError:
            raise NotFound(f"artifact {key!r} does not exist", field="path") from None
        if info.get("type") != "file":
            raise NotFound(f"artifact {key!r} is not a file", field="path")
        return int(info["size"])

    def find(self, prefix: str) -> list[StoredObject]:
        base = self._full(prefix)
        try:
            found = self.fs.find(base, detail=True)
        except FileNotFoundError:
            return []
        root = self.root + "/"
        objects = [
            StoredObject(name.removeprefix(root), int(info.get("size") or 0))
            for name, info in found.items()
            if info.get("type") == "file" and name.startswith(root)
        ]
        return sorted(objects, key=lambda item: item.key)

    def delete(self, key: str) -> None:
        path = self._full(key)
        if not self.fs.exists(path):
            raise NotFound(f"artifact {key!r} does not exist", field="path")
        self.fs.rm_file(path)

    def delete_tree(self, prefix: str) -> int:
        objects = self.find(prefix)
        if objects:
            self.fs.rm([self._full(item.key) for item in objects])
        return sum(item.size for item in objects)

    def folders(self) -> list[str]:
        try:
            entries = self.fs.ls(self.root, detail=True)
        except FileNotFoundError:
            return []
        return sorted(entry["name"].rstrip("/").rsplit("/", 1)[-1] for entry in entries if entry["type"] == "directory")


class _RemoteWriter:
    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def write(self, data: bytes) -> None:
        self.handle.write(data)

    def commit(self) -> None:
        self.handle.close()

    def abort(self) -> None:
        # Abort the multipart upload; marking the file closed stops its finaliser from committing what it has.
        self.handle.discard()
        self.handle.closed = True


def _chunks(handle: Any, start: int, end: int | None) -> Iterator[bytes]:
    with handle:
        if start:
            handle.seek(start)
        remaining = None if end is None else end - start
        while remaining is None or remaining > 0:
            data = handle.read(CHUNK if remaining is None else min(CHUNK, remaining))
            if not data:
                return
            if remaining is not None:
                remaining -= len(data)
            yield data
