"""Listing and reading MLflow artifact files wherever they are: a local folder or object storage (through fsspec,
so ``s3://`` works when s3fs is installed), or an MLflow server (its artifact proxy, or the run's own listing).

``mlflow-artifacts:`` URIs only mean something to the server that wrote them: a database or folder source reads
them through ``--artifacts-from``, the server's URL or the folder (or bucket) it was given as
``--artifacts-destination``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any
from urllib.parse import quote, urlparse

from ridgeline.domain.errors import NotFound
from ridgeline.domain.outbound import OutboundPolicy, OutboundRefused, check_url
from ridgeline.services.exchange.format import chunks
from ridgeline.services.exchange.records import ArtifactData
from ridgeline.services.mlflow_import.http import MlflowHttp
from ridgeline.services.mlflow_import.model import Artifacts
from ridgeline.services.outbound import default_policy, resolve

PROXY_SCHEME = "mlflow-artifacts:"
_PROXY_API = "/api/2.0/mlflow-artifacts/artifacts"

# A folder listing: (path relative to the root, is a folder, size in bytes).
Entry = tuple[str, bool, int]


def is_http(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


class ArtifactAccess:
    """Reads artifact locations (URIs): ``mlflow-artifacts:`` ones through ``server`` or under ``root``."""

    def __init__(
        self, server: MlflowHttp | None = None, root: str | None = None, outbound: OutboundPolicy | None = None
    ) -> None:
        self.server = server
        self.root = root
        self.outbound = default_policy() if outbound is None else outbound

    @classmethod
    def given(cls, artifacts_from: str | None, outbound: OutboundPolicy | None = None) -> ArtifactAccess:
        """As ``--artifacts-from`` says: a server URL, or the folder or bucket the server stores into."""
        policy = default_policy() if outbound is None else outbound
        if artifacts_from and is_http(artifacts_from):
            return cls(server=MlflowHttp(artifacts_from, policy, field="artifacts-from"), outbound=policy)
        return cls(root=artifacts_from.rstrip("/") if artifacts_from else None, outbound=policy)

    def files(self, uri: str) -> Artifacts:
        if not uri.startswith(PROXY_SCHEME):
            return self._fsspec_files(uri)
        path = urlparse(uri).path.strip("/")
        if self.server is not None:
            return proxy_files(self.server, path)
        if self.root is not None:
            return self._fsspec_files(f"{self.root}/{path}")
        return Artifacts(
            problems=[
                f"{uri} is kept by an MLflow server: give --artifacts-from with the server's URL or its "
                "artifacts destination"
            ]
        )

    def _fsspec_files(self, uri: str) -> Artifacts:
        if is_http(uri):
            # A run's artifact location is data from the source: an http(s) one is judged like any outbound URL.
            # fsspec resolves the name again itself, so this check is not pinned the way MlflowHttp's are.
            try:
                destination = check_url(uri, self.outbound, field="artifact_uri")
                resolve(self.outbound, destination.host, destination.port, field="artifact_uri")
            except OutboundRefused as exc:
                return Artifacts(problems=[f"artifacts not read: {exc.message}"])
            except OSError as exc:
                return Artifacts(problems=[f"cannot read artifacts at {uri}: {exc}"])
        return fsspec_files(uri)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


def fsspec_files(uri: str) -> Artifacts:
    """Every file under ``uri`` (none when it does not exist: MLflow creates artifact folders lazily)."""
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(uri)
        found: dict[str, Any] = fs.find(root, detail=True)
    except FileNotFoundError:
        return Artifacts()
    except (ImportError, ValueError, OSError) as exc:
        return Artifacts(problems=[f"cannot read artifacts at {uri}: {exc}"])
    root = root.rstrip("/")
    files = [
        ArtifactData(name[len(root) + 1 :], int(info["size"]), partial(_fs_read, fs, name))
        for name, info in sorted(found.items())
        if info.get("type") == "file" and name.startswith(root + "/")
    ]
    return Artifacts(files)


def _fs_read(fs: Any, name: str) -> Iterator[bytes]:
    try:
        with fs.open(name, "rb") as handle:
            yield from chunks(handle)
    except FileNotFoundError:
        raise NotFound(f"{name} vanished") from None


def proxy_files(http: MlflowHttp, root: str) -> Artifacts:
    """Files under ``root`` of the server's artifact proxy (``mlflow-artifacts:/ROOT``)."""

    def listing(folder: str) -> list[Entry]:
        answer = http.call("GET", _PROXY_API, params={"path": posixpath.join(root, folder).rstrip("/")})
        # The proxy names entries relative to the folder listed.
        return [_entry(item, posixpath.join(folder, item["path"])) for item in answer.get("files", [])]

    def read(path: str) -> Iterator[bytes]:
        return http.stream(f"{_PROXY_API}/{quote(posixpath.join(root, path))}")

    return _walk(listing, read)


def run_files(http: MlflowHttp, run_id: str) -> Artifacts:
    """A run's files through the tracking API, which reaches whatever artifact store the server uses."""

    def listing(folder: str) -> list[Entry]:
        entries: list[Entry] = []
        token = ""
        while True:
            params = {"run_id": run_id, "path": folder, "page_token": token}
            answer = http.call("GET", "/api/2.0/mlflow/artifacts/list", params={k: v for k, v in params.items() if v})
            # This listing names entries relative to the run's root.
            entries += [_entry(item, item["path"]) for item in answer.get("files", [])]
            token = answer.get("next_page_token", "")
            if not token:
                return entries

    def read(path: str) -> Iterator[bytes]:
        return http.stream("/get-artifact", params={"run_id": run_id, "path": path})

    return _walk(listing, read)


def _entry(item: dict[str, Any], path: str) -> Entry:
    return path, bool(item.get("is_dir")), int(item.get("file_size") or 0)


def _walk(listing: Callable[[str], list[Entry]], read: Callable[[str], Iterator[bytes]]) -> Artifacts:
    found = Artifacts()
    folders = [""]
    while folders:
        for path, is_dir, size in listing(folders.pop()):
            if is_dir:
                folders.append(path)
            else:
                found.files.append(ArtifactData(path, size, partial(read, path)))
    found.files.sort(key=lambda item: item.path)
    return found
