"""A small client of an MLflow tracking server's REST API: JSON calls and streamed downloads, with MLflow's errors
and transport failures turned into Ridgeline's (an unreachable server is one clear line, not a traceback).

Requests go through services/outbound.py: a server on a loopback, private, link-local or cloud-metadata address,
or a redirect into one, is refused unless ``RIDGELINE_OUTBOUND_ALLOW`` names it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx

from ridgeline.domain.errors import InvalidArgument, NotFound, RidgelineError, Unavailable
from ridgeline.domain.outbound import OutboundPolicy, OutboundRefused, check_url
from ridgeline.services.outbound import default_policy, safe_client

_CHUNK = 1 << 20
_TIMEOUT_S = 60.0


def _auth_headers() -> dict[str, str]:
    """The credentials MLflow's own client reads from the environment."""
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    return {"Authorization": f"Bearer {token}"} if token else {}


def _basic_auth() -> tuple[str, str] | None:
    user, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
    return (user, password) if user and password else None


class MlflowHttp:
    def __init__(self, url: str, outbound: OutboundPolicy | None = None, *, field: str = "from") -> None:
        """``outbound``: the policy requests follow; None, the one ``RIDGELINE_OUTBOUND_ALLOW`` sets now."""
        policy = default_policy() if outbound is None else outbound
        # Refused before any connection when the URL alone says where it goes (an address, localhost).
        check_url(url, policy, field=field)
        self.url = url.rstrip("/")
        self.field = field
        # Redirects are followed: each hop is checked by the client's transport like the first request.
        self._client = safe_client(
            policy,
            timeout=_TIMEOUT_S,
            follow_redirects=True,
            base_url=self.url,
            headers=_auth_headers(),
            auth=_basic_auth(),
        )

    def call(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        """The JSON answer of one API call."""
        try:
            response = self._client.request(method, path, params=params, json=body)
        except OutboundRefused as exc:
            raise OutboundRefused(exc.message, field=self.field) from None
        except httpx.TransportError as exc:
            raise Unavailable(f"cannot reach the MLflow server at {self.url}: {exc}", field=self.field) from None
        if response.status_code != 200:
            raise self._error(path, response)
        try:
            return response.json() if response.content.strip() else {}
        except ValueError:
            raise InvalidArgument(
                f"{self.url} answered {path} with something that is not JSON: is it an MLflow tracking server?",
                field=self.field,
            ) from None

    def stream(self, path: str, params: dict[str, str] | None = None) -> Iterator[bytes]:
        """A download in chunks; NotFound when the server has no such file."""
        try:
            with self._client.stream("GET", path, params=params) as response:
                if response.status_code != 200:
                    response.read()
                    raise self._error(path, response)
                yield from response.iter_bytes(_CHUNK)
        except OutboundRefused as exc:
            raise OutboundRefused(exc.message, field=self.field) from None
        except httpx.TransportError as exc:
            raise Unavailable(f"the MLflow server at {self.url} stopped answering: {exc}", field=self.field) from None

    def _error(self, path: str, response: httpx.Response) -> RidgelineError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        code = body.get("error_code", "") if isinstance(body, dict) else ""
        message = body.get("message", "") if isinstance(body, dict) else ""
        detail = f"{code}: {message}" if code else f"HTTP {response.status_code}"
        if code == "RESOURCE_DOES_NOT_EXIST":
            return NotFound(f"{path}: {detail}")
        if code == "ENDPOINT_NOT_FOUND" or (response.status_code == 404 and not code):
            return InvalidArgument(
                f"{self.url} has no {path}: is it an MLflow tracking server (3.x)? ({detail})", field=self.field
            )
        if response.status_code in (401, 403):
            return InvalidArgument(
                f"the MLflow server at {self.url} refused the credentials ({detail}); set MLFLOW_TRACKING_TOKEN or "
                "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD",
                field=self.field,
            )
        return Unavailable(f"the MLflow server at {self.url} failed on {path}: {detail}", field=self.field)

    def close(self) -> None:
        self._client.close()
