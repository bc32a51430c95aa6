"""A real server with accounts on and a team in it: one user per workspace role in the default workspace, a
system administrator, and an outsider who owns another workspace. Tests talk to it with each one's token or
web session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ridgeline.services.accounts import AccountService
from ridgeline.services.workspaces import WorkspaceService
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.scope import DEFAULT_WORKSPACE_ID
from support.servers import running_server

PASSWORD = "correct horse battery staple"
ROLES = ("owner", "maintainer", "editor", "viewer")
OTHER_WORKSPACE = "other"


@dataclass
class Team:
    url: str
    store: MetadataStore
    tokens: dict[str, str] = field(default_factory=dict)
    clients: list[httpx.Client] = field(default_factory=list)

    @property
    def accounts(self) -> AccountService:
        return AccountService(self.store)

    def client(self, who: str | None, **headers: str) -> httpx.Client:
        """An HTTP client sending ``who``'s admin-scoped token (None: no credentials)."""
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        client = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        self.clients.append(client)
        return client

    def browser_session(self, who: str) -> httpx.Client:
        """A client logged in like the web UI: the session cookie, and the CSRF token in X-CSRF-Token."""
        client = httpx.Client(base_url=self.url, timeout=30)
        self.clients.append(client)
        answer = client.post("/api/v1/session", json={"name": who, "password": PASSWORD})
        answer.raise_for_status()
        client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        return client

    def token(self, who: str, scope: str, expires_days: float | None = 30) -> str:
        accounts = self.accounts
        return accounts.create_token(accounts.get_user(who), f"{scope} token", scope, expires_days).secret


@contextmanager
def team_server(home: Path, backend_uri: str, **overrides: Any) -> Iterator[Team]:
    with running_server(home, backend_uri, auth=True, **overrides) as url:
        store = MetadataStore(backend_uri)
        accounts = AccountService(store)
        workspaces = WorkspaceService(store)
        team = Team(url, store)
        admin = accounts.create_user("admin", PASSWORD, created_by="test", system_role="admin")
        team.tokens["admin"] = accounts.create_token(admin, "test", "admin").secret
        for role in ROLES:
            user = accounts.create_user(role, PASSWORD, created_by="test", workspace_id=DEFAULT_WORKSPACE_ID, role=role)
            team.tokens[role] = accounts.create_token(user, "test", "admin").secret
        workspaces.create(OTHER_WORKSPACE, None)
        outsider = accounts.create_user("outsider", PASSWORD, created_by="test")
        workspaces.set_member(OTHER_WORKSPACE, "outsider", "owner", accounts.principal(admin), "owner")
        team.tokens["outsider"] = accounts.create_token(outsider, "test", "admin").secret
        try:
            yield team
        finally:
            for client in team.clients:
                client.close()
            store.close()
