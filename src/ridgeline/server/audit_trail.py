"""The audit trail: every request that changes something, or tries to, is recorded once its answer is known.

Who (the principal, or who tried to log in), what (the handler, method and route), which objects (what the
authorisation check resolved, else the concrete path), when, from where (the client address) and the result (the
status code, refusals included). Reads are not recorded, nor are POSTs whose rule only reads (searches).
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ridgeline.domain.accounts import Action
from ridgeline.domain.ids import now_ms
from ridgeline.server.auth import SAFE_METHODS
from ridgeline.store.audit import AuditStore

log = logging.getLogger("ridgeline.audit")


class AuditTrail:
    def __init__(self, app: ASGIApp, store: AuditStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            entry = _entry(scope, status)
            if entry is not None:
                try:
                    await run_in_threadpool(self.store.append, [entry])
                except Exception:
                    log.exception("could not record an audit entry: %s", entry)


def _entry(scope: Scope, status: int) -> dict[str, Any] | None:
    audit: dict[str, Any] | None = scope.get("state", {}).get("audit")
    if audit is None:
        # Refused before routing (size limit, bad Host, unknown path): not a change to anything.
        return None
    rule = audit["rule"]
    if rule is not None and rule.kind == "checks" and rule.action == Action.READ:
        return None
    endpoint = scope.get("endpoint")
    action = f"{endpoint.__module__.rsplit('.', 1)[-1]}.{endpoint.__name__}" if endpoint else audit["template"]
    objects = audit["objects"] or [f"path:{scope['path']}"]
    client = scope.get("client")
    return {
        "at": now_ms(),
        "actor": str(audit.get("login") or audit["actor"])[:100],
        "action": action[:100],
        "method": scope["method"][:8],
        "path": audit["template"][:1000],
        "object": ", ".join(objects)[:1000],
        # Only object checks act in a workspace: admin and account actions belong to none, so that a workspace's
        # maintainers, who read its entries, do not see them.
        "workspace_id": audit.get("workspace_id") if rule is not None and rule.kind == "checks" else None,
        "remote_addr": (client[0] if client else "unknown")[:64],
        "status": status,
    }
