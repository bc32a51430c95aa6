"""Artifact transfers over HTTP: streamed uploads and downloads with retries and a sha256 check.

Kept apart from ``http.py`` (the JSON calls): these move files of any size in :data:`CHUNK` pieces, never whole
in memory. An upload is a PUT of the raw bytes, retried on connection errors and 5xx (a PUT to the same path is
idempotent), and checked against the sha256 the server computed. A download resumes with ``Range`` after a
broken connection and lands under its final name only once its sha256 matches the ETag.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx

from ridgeline.domain.entities import ArtifactFile
from ridgeline.domain.errors import RidgelineError, Unavailable
from ridgeline.domain.wire import artifact_from_json

CHUNK = 8 * 1024 * 1024
ATTEMPTS = 5
_RETRY_STATUS = {408, 429, 500, 502, 503, 504}


def artifact_url(api: str, run_id: str, path: str) -> str:
    # Checked paths hold no % or backslash; quoting keeps spaces and non-ASCII names intact on the way.
    return f"{api}/runs/{run_id}/artifacts/{quote(path, safe='/')}"


def _backoff(attempt: int) -> None:
    time.sleep(min(0.25 * 2**attempt, 5.0))


def _body(source: Path | bytes, digest: hashlib._Hash) -> Iterator[bytes]:
    if isinstance(source, bytes):
        digest.update(source)
        yield source
        return
    with open(source, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            yield chunk


def upload(http: httpx.Client, url: str, source: Path | bytes) -> httpx.Response:
    """PUT the bytes (retrying what can be retried); returns the final response, success or refusal."""
    last: Exception | None = None
    for attempt in range(ATTEMPTS):
        digest = hashlib.sha256()
        size = len(source) if isinstance(source, bytes) else os.path.getsize(source)
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        try:
            response = http.put(url, content=_body(source, digest), headers=headers)
        except httpx.TransportError as exc:
            last = exc
            _backoff(attempt)
            continue
        if response.status_code in _RETRY_STATUS:
            last = Unavailable(f"server answered HTTP {response.status_code}")
            _backoff(attempt)
            continue
        if response.status_code == 201 and response.json().get("sha256") != digest.hexdigest():
            # The bytes that arrived are not the bytes read: a file rewritten meanwhile, or damage on the way.
            last = RidgelineError("the server stored different bytes than were sent")
            _backoff(attempt)
            continue
        return response
    raise Unavailable(f"artifact upload to {url} failed after {ATTEMPTS} attempts: {last}")


def stored(response: httpx.Response) -> ArtifactFile:
    return artifact_from_json(response.json())


def download(http: httpx.Client, url: str, destination: Path) -> httpx.Response | None:
    """Stream the artifact into ``destination``; returns an error response as is (the caller raises it)."""
    partial = destination.with_name(f".{destination.name}.part")
    digest = hashlib.sha256()
    expected: str | None = None
    received = 0
    with open(partial, "wb") as out:
        for attempt in range(ATTEMPTS):
            headers = {"Range": f"bytes={received}-"} if received else {}
            try:
                with http.stream("GET", url, headers=headers) as response:
                    if response.status_code in _RETRY_STATUS:
                        raise Unavailable(f"server answered HTTP {response.status_code}")
                    if response.status_code not in (200, 206):
                        response.read()
                        partial.unlink()
                        return response
                    expected = response.headers.get("etag", "").strip('"')
                    # Raw: the server sends files without content coding, so no decoder or re-chunking copies.
                    for chunk in response.iter_raw():
                        digest.update(chunk)
                        out.write(chunk)
                        received += len(chunk)
                break
            except (httpx.TransportError, Unavailable):
                if attempt == ATTEMPTS - 1:
                    partial.unlink()
                    raise Unavailable(f"download of {url} failed after {ATTEMPTS} attempts") from None
                _backoff(attempt)
    if expected and digest.hexdigest() != expected:
        partial.unlink()
        raise RidgelineError(f"download of {url} does not match its sha256; nothing was kept")
    os.replace(partial, destination)
    return None
