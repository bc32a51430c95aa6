"""Running model servers (``ridgeline serve``) as they last reported themselves: what each one serves, and where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, select

from ridgeline.domain.errors import NotFound
from ridgeline.store.database import Database
from ridgeline.store.schema import model_servers, registered_models
from ridgeline.store.scope import scoped
from ridgeline.store.sql import upsert


@dataclass(frozen=True, slots=True)
class ModelServer:
    id: str
    model_name: str
    uri: str
    url: str
    version: int | None
    canary: dict[str, Any] | None
    shadow: dict[str, Any] | None
    started_at: int
    last_seen_at: int


def _json_or_none(value: dict[str, Any] | None) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


class ModelServerStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    def save(self, server: ModelServer, model_id: str) -> None:
        """Insert the server, or refresh what it serves and when it was last seen (its start time stays)."""
        changing = {
            "uri": server.uri,
            "url": server.url,
            "version": server.version,
            "canary": _json_or_none(server.canary),
            "shadow": _json_or_none(server.shadow),
            "last_seen_at": server.last_seen_at,
        }
        stmt = upsert(self.db, model_servers).values(
            id=server.id, model_id=model_id, started_at=server.started_at, **changing
        )
        with self.db.write() as conn:
            conn.execute(stmt.on_conflict_do_update(index_elements=[model_servers.c.id], set_=changing))

    def delete(self, server_id: str) -> None:
        with self.db.write() as conn:
            gone = conn.execute(delete(model_servers).where(model_servers.c.id == server_id)).rowcount
        if not gone:
            raise NotFound(f"model server {server_id} not found", field="server_id")

    def get(self, server_id: str) -> ModelServer:
        found = self.select(server_id=server_id)
        if not found:
            raise NotFound(f"model server {server_id} not found", field="server_id")
        return found[0]

    def select(
        self,
        *,
        model_id: str | None = None,
        server_id: str | None = None,
        seen_since: int = 0,
        workspace_id: str | None = None,
    ) -> list[ModelServer]:
        """Servers seen at or after ``seen_since`` (ms), most recently seen first. Without ``server_id`` (a
        listing) only those serving models of ``workspace_id``, else of the current workspace; one server by id
        is found wherever it is (the authorisation check has resolved it to its own workspace)."""
        query = (
            select(model_servers, registered_models.c.name.label("model_name"))
            .join(registered_models, registered_models.c.id == model_servers.c.model_id)
            .where(model_servers.c.last_seen_at >= seen_since)
        )
        if model_id is not None:
            query = query.where(model_servers.c.model_id == model_id)
        if server_id is not None:
            query = query.where(model_servers.c.id == server_id)
        else:
            query = query.where(registered_models.c.workspace_id == scoped(workspace_id))
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(model_servers.c.last_seen_at.desc(), model_servers.c.id)).all()
        return [
            ModelServer(
                id=row.id,
                model_name=row.model_name,
                uri=row.uri,
                url=row.url,
                version=row.version,
                canary=None if row.canary is None else orjson.loads(row.canary),
                shadow=None if row.shadow is None else orjson.loads(row.shadow),
                started_at=row.started_at,
                last_seen_at=row.last_seen_at,
            )
            for row in rows
        ]
