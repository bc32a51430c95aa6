"""/api/v1/model-servers: running model servers (``ridgeline serve``) report what they serve; anyone lists them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from ridgeline.server.responses import ERROR_RESPONSES, JSON
from ridgeline.server.schemas import Strict
from ridgeline.services.model_servers import ModelServerService, ServerReport
from ridgeline.store.model_servers import ModelServer

router = APIRouter(prefix="/model-servers", tags=["model servers"], responses=ERROR_RESPONSES)


def _service(request: Request) -> ModelServerService:
    # Stateless beyond the store: one per request costs nothing and keeps app.py to a one-line router include.
    return ModelServerService(request.app.state.store, request.app.state.settings.prediction_log)


Servers = Annotated[ModelServerService, Depends(_service)]
ServerId = Annotated[str, Path(description="the server's id: 32 lowercase hex characters, chosen by the server")]


class ServerIn(Strict):
    model: str = Field(description="the registered model's name")
    uri: str = Field(description="the model URI the server was started with, e.g. models:/churn@champion")
    url: str = Field(description="where the server answers, e.g. http://10.0.0.5:8080")
    version: int | None = Field(None, strict=True, description="the version it serves now")
    started_at: int = Field(strict=True, description="epoch milliseconds")
    canary: dict[str, Any] | None = Field(None, description='{"alias", "share" (percent), "version"}')
    shadow: dict[str, Any] | None = Field(None, description='{"alias", "version"}')


class PredictionRow(Strict):
    request_id: str = Field(max_length=128)
    row: int = Field(strict=True, ge=0)
    timestamp: int = Field(strict=True, description="epoch milliseconds")
    model: str
    version: int | None = Field(strict=True)
    role: str = Field(description="primary, canary or shadow")
    latency_ms: float = Field(ge=0)
    inputs: str = Field(description="JSON of the row's input")
    output: str | None = Field(description="JSON of its prediction; null when the model failed")
    error: str | None


class PredictionsIn(Strict):
    rows: list[PredictionRow]


class ServerOut(BaseModel):
    id: str
    model: str
    uri: str
    url: str
    version: int | None
    canary: dict[str, Any] | None
    shadow: dict[str, Any] | None
    started_at: int
    last_seen_at: int


class ServerList(BaseModel):
    servers: list[ServerOut]


def _json(server: ModelServer) -> dict[str, Any]:
    return {
        "id": server.id,
        "model": server.model_name,
        "uri": server.uri,
        "url": server.url,
        "version": server.version,
        "canary": server.canary,
        "shadow": server.shadow,
        "started_at": server.started_at,
        "last_seen_at": server.last_seen_at,
    }


@router.get("", response_model=ServerList)
def list_servers(
    servers: Servers,
    model: Annotated[str | None, Query(description="only the servers of this registered model")] = None,
    include_stale: Annotated[bool, Query(description="also servers silent for over a minute")] = False,
) -> JSON:
    """Servers that reported in the last minute (each reports every 10 s), most recently seen first."""
    return JSON({"servers": [_json(server) for server in servers.list(model, include_stale=include_stale)]})


@router.put("/{server_id}", response_model=ServerOut)
def report_server(server_id: ServerId, body: ServerIn, servers: Servers) -> JSON:
    """Create or refresh a server's entry (what it serves now; last seen: now)."""
    report = ServerReport(
        model_name=body.model,
        uri=body.uri,
        url=body.url,
        version=body.version,
        started_at=body.started_at,
        canary=body.canary,
        shadow=body.shadow,
    )
    return JSON(_json(servers.report(server_id, report)))


@router.post("/{server_id}/predictions", status_code=204)
def log_predictions(server_id: ServerId, body: PredictionsIn, servers: Servers) -> Response:
    """A reported server's predictions, appended to the tracking server's Parquet log (docs/serving.md)."""
    servers.log_predictions(server_id, [row.model_dump() for row in body.rows])
    return Response(status_code=204)


@router.delete("/{server_id}", status_code=204)
def remove_server(server_id: ServerId, servers: Servers) -> Response:
    """A server going down cleanly removes its entry."""
    servers.remove(server_id)
    return Response(status_code=204)
