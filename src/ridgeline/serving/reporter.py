"""The server tells the tracking backend what it serves, every few seconds (the ``model_servers`` table).

Over HTTP it calls ``PUT /api/v1/model-servers/{id}`` (and sends the prediction log to
``POST /api/v1/model-servers/{id}/predictions``); with a local tracking URI (a folder or a database) it writes
through the service directly. Reports are best effort: a tracking backend that is down never affects
serving, the next report simply tries again. A clean shutdown removes the entry.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from ridgeline.config import Settings
from ridgeline.services.model_servers import ServerReport

log = logging.getLogger("ridgeline.serving")
_ROWS_PER_POST = 5_000


class HttpTarget:
    def __init__(self, base_url: str, timeout: float, token: str | None = None, workspace: str | None = None) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if workspace:
            headers["X-Ridgeline-Workspace"] = workspace
        self._http = httpx.Client(base_url=base_url.rstrip("/") + "/api/v1", timeout=timeout, headers=headers)

    def put(self, server_id: str, report: ServerReport) -> None:
        body = {
            "model": report.model_name,
            "uri": report.uri,
            "url": report.url,
            "version": report.version,
            "started_at": report.started_at,
            "canary": report.canary,
            "shadow": report.shadow,
        }
        self._http.put(f"/model-servers/{server_id}", json=body).raise_for_status()

    def write_predictions(self, server_id: str, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), _ROWS_PER_POST):
            chunk = rows[start : start + _ROWS_PER_POST]
            self._http.post(f"/model-servers/{server_id}/predictions", json={"rows": chunk}).raise_for_status()

    def remove(self, server_id: str) -> None:
        self._http.delete(f"/model-servers/{server_id}")
        self._http.close()


class LocalTarget:
    def __init__(self, metadata_uri: str) -> None:
        from ridgeline.services.model_servers import ModelServerService
        from ridgeline.store.metadata import MetadataStore

        self._store = MetadataStore(metadata_uri)
        self._service = ModelServerService(self._store)

    def put(self, server_id: str, report: ServerReport) -> None:
        self._service.report(server_id, report)

    def remove(self, server_id: str) -> None:
        self._service.remove(server_id)
        self._store.close()


def target_for(tracking_uri: str | None, settings: Settings) -> HttpTarget | LocalTarget:
    from ridgeline.client.resolve import target_uri

    uri = target_uri(tracking_uri, settings)
    if uri.startswith(("http://", "https://")):
        return HttpTarget(uri, settings.http_timeout, settings.tracking_token, settings.workspace)
    return LocalTarget(uri)


class Reporter:
    def __init__(
        self,
        server_id: str,
        target: HttpTarget | LocalTarget,
        report: Callable[[], ServerReport],
        interval: float,
    ) -> None:
        self.server_id = server_id
        self.target = target
        self.report = report
        self.interval = interval
        self._stop = threading.Event()
        self._now = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ridgeline-server-report", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def changed(self) -> None:
        """Report now rather than at the next interval (the version served just changed)."""
        self._now.set()

    def stop(self) -> None:
        self._stop.set()
        self._now.set()
        self._thread.join(timeout=10)
        self._attempt(lambda: self.target.remove(self.server_id), "removing this server's entry")

    def _run(self) -> None:
        while not self._stop.is_set():
            self._attempt(lambda: self.target.put(self.server_id, self.report()), "reporting this server")
            self._now.wait(self.interval)
            self._now.clear()

    def _attempt(self, call: Callable[[], Any], what: str) -> None:
        try:
            call()
        except Exception as exc:
            log.warning("%s to the tracking backend failed (%s); serving goes on", what, exc)
