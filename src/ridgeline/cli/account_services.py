"""What the operator's account commands (``ridgeline users|tokens|workspaces|audit|invite``) share: the account
and workspace services of a data folder or database, opened directly like ``ridgeline db`` does, the audit entry
each change leaves, and how they print times, JSON and passwords they read.

A change made here bypasses the server, so it is recorded here: actor ``cli:<login of whoever ran it>``, method
``CLI``, path the command (``ridgeline users create``), status 0.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ridgeline.cli.common import user_errors
from ridgeline.config import Settings

if TYPE_CHECKING:
    # The services pull in the metadata store (SQLAlchemy); every other command would pay for importing it.
    from ridgeline.services.accounts import AccountService
    from ridgeline.services.workspaces import WorkspaceService
    from ridgeline.store.metadata import MetadataStore


@dataclass(frozen=True)
class Administration:
    settings: Settings
    store: MetadataStore
    accounts: AccountService
    workspaces: WorkspaceService
    operator: str

    def record(self, command: str, action: str, obj: str, workspace_id: str | None = None) -> None:
        """An audit entry for a change this command made (``command``: ``users create``)."""
        from ridgeline.domain.ids import now_ms

        entry = {
            "at": now_ms(),
            "actor": self.operator,
            "action": f"cli.{action}"[:100],
            "method": "CLI",
            "path": f"ridgeline {command}"[:1000],
            "object": obj[:1000],
            "workspace_id": workspace_id,
            "remote_addr": "local",
            "status": 0,
        }
        self.store.audit.append([entry])


def operator() -> str:
    from ridgeline.client.identity import current_user

    return f"cli:{current_user() or 'unknown'}"[:100]


@contextmanager
def administration(home: Path | None, backend_uri: str | None) -> Iterator[Administration]:
    """The services on the data folder's (or ``backend_uri``'s) metadata database; Ridgeline errors raised in the
    block print one line and exit 1."""
    from ridgeline.services.accounts import AccountService
    from ridgeline.services.workspaces import WorkspaceService
    from ridgeline.store.metadata import MetadataStore

    with user_errors():
        settings = Settings.load(home=home, backend_uri=backend_uri)
        store = MetadataStore(settings.metadata_uri)
        try:
            yield Administration(
                settings, store, AccountService(store, settings.session_hours), WorkspaceService(store), operator()
            )
        finally:
            store.close()


def when(ms: int | None, *, seconds: bool = False) -> str:
    """A time in the tables, in UTC (their headers say so); '-' for none."""
    if ms is None:
        return "-"
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2))


def read_password(from_stdin: bool) -> str:
    """A new password: the first line of standard input (for scripts), or typed twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return password
