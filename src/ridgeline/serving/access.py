"""Who may call a model server started with ``--auth``: the tracking server's accounts decide.

Each route declares what it needs in :data:`ROUTES`; a route missing there is refused. A protected route needs
an ``Authorization`` header (an API token, or Basic credentials) that the tracking server accepts for reading the
served model, which is what the model server asks it (``GET`` of the model, or of the run for ``runs:/`` URIs) with
the caller's own header. Answers are cached for :data:`CACHE_S` seconds per header, so the check costs a dictionary
lookup on the hot path and a revoked token stops working within that time.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Literal
from urllib.parse import quote

import httpx

from ridgeline.domain.errors import PermissionDenied, RidgelineError, Unauthenticated, Unavailable

Need = Literal["public", "read"]

# (method, path) → what it needs: health probes stay open for load balancers and orchestrators.
ROUTES: dict[tuple[str, str], Need] = {
    ("GET", "/ping"): "public",
    ("GET", "/health"): "public",
    ("POST", "/invocations"): "read",
    ("GET", "/version"): "read",
    ("GET", "/metrics"): "read",
}
CACHE_S = 30.0
_MAX_CACHED = 10_000


def probe_path(uri: str, model_name: str | None) -> str:
    """The tracking server's API path whose reading proves access to what ``uri`` serves."""
    if model_name is not None:
        return f"/api/v1/models/{quote(model_name, safe='')}"
    if uri.startswith("runs:/"):
        return f"/api/v1/runs/{quote(uri.removeprefix('runs:/').split('/')[0], safe='')}"
    raise ValueError("--auth needs a registry or runs:/ model URI, whose access the tracking server knows")


class AccessGuard:
    def __init__(self, tracking_url: str, probe: str, timeout: float = 10.0, workspace: str | None = None) -> None:
        self.url = tracking_url.rstrip("/") + probe
        self.timeout = timeout
        # The model is looked up where the server loads it from, not in each caller's default workspace.
        self.headers = {"X-Ridgeline-Workspace": workspace} if workspace else {}
        self._cache: dict[bytes, tuple[float, RidgelineError | None]] = {}

    async def check(self, method: str, path: str, authorization: bytes | None) -> None:
        """Return when the request may go on; raise the error to answer otherwise."""
        need = ROUTES.get((method, path))
        if need == "public":
            return
        if need is None:
            raise PermissionDenied(f"{method} {path} declares no permission on this model server")
        if not authorization:
            raise Unauthenticated("this model server needs an API token: send Authorization: Bearer <token>")
        key = hashlib.sha256(authorization).digest()
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached is None or cached[0] < now:
            verdict = await asyncio.to_thread(self._ask, authorization.decode("latin-1"))
            if len(self._cache) >= _MAX_CACHED:
                self._cache.clear()
            cached = self._cache[key] = (now + CACHE_S, verdict)
        if cached[1] is not None:
            raise cached[1]

    def _ask(self, authorization: str) -> RidgelineError | None:
        try:
            answer = httpx.get(self.url, headers={**self.headers, "Authorization": authorization}, timeout=self.timeout)
        except httpx.TransportError as exc:
            return Unavailable(f"cannot reach the tracking server to check the token: {exc}")
        if answer.status_code == 200:
            return None
        if answer.status_code == 401:
            return Unauthenticated("the tracking server does not accept this token")
        if answer.status_code in (403, 404):
            return PermissionDenied("this token may not read the served model")
        return Unavailable(f"the tracking server answered {answer.status_code} to the token check")
