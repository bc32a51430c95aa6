"""``ridgeline workspaces list|create|delete|members`` and ``ridgeline audit``, directly on the server's metadata
database. Members are added and their roles changed with ``ridgeline users set-role NAME ROLE --workspace W``."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import typer
from rich.table import Table

from ridgeline.cli.account_services import administration, print_json, when
from ridgeline.cli.common import BackendOption, HomeOption, console
from ridgeline.domain.errors import InvalidArgument

app = typer.Typer(help="Workspaces and their members.", no_args_is_help=True)
JsonOption = typer.Option(False, "--json", help="Print JSON on stdout instead of a table.")


@app.command("list")
def list_workspaces(
    json: bool = JsonOption, home: Path | None = HomeOption, backend_uri: str | None = BackendOption
) -> None:
    """Every workspace with its number of members."""
    with administration(home, backend_uri) as ops:
        found = ops.store.members.list_workspaces()
        counts = Counter(membership.workspace_id for membership in ops.store.members.memberships())
    if json:
        rows = [{"name": w.name, "members": counts.get(w.id, 0), "created_at": w.created_at} for w in found]
        print_json({"workspaces": rows})
        return
    table = Table(title="workspaces", title_justify="left")
    for column in ("name", "members", "created (UTC)"):
        table.add_column(column)
    for workspace in found:
        table.add_row(workspace.name, str(counts.get(workspace.id, 0)), when(workspace.created_at or None))
    console.print(table)


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Workspace name."),
    owner: str | None = typer.Option(None, "--owner", help="A user who owns it (default: none; admins manage it)."),
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
) -> None:
    """Create a workspace, optionally with an owner."""
    with administration(home, backend_uri) as ops:
        if owner is not None:
            ops.accounts.get_user(owner)
        workspace = ops.workspaces.create(name, owner)
        ops.record("workspaces create", "create_workspace", f"workspace:{workspace.name}", workspace.id)
    console.print(f"created workspace {workspace.name}" + (f", owned by {owner}" if owner else ""), highlight=False)


@app.command("delete")
def delete(
    name: str = typer.Argument(..., help="Workspace name."),
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
) -> None:
    """Delete an empty workspace (no projects, no models); not the default one."""
    with administration(home, backend_uri) as ops:
        workspace = ops.workspaces.get(name)
        ops.workspaces.delete(name)
        ops.record("workspaces delete", "delete_workspace", f"workspace:{workspace.name}")
    console.print(f"deleted workspace {name}", highlight=False)


@app.command("members")
def members(
    name: str = typer.Argument(..., help="Workspace name."),
    json: bool = JsonOption,
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
) -> None:
    """A workspace's members and their roles."""
    with administration(home, backend_uri) as ops:
        found = ops.workspaces.list_members(name)
    if json:
        print_json({"members": [{"user": m.user_name, "role": m.role} for m in found]})
        return
    table = Table(title=f"members of {name}", title_justify="left")
    table.add_column("user")
    table.add_column("role")
    for membership in found:
        table.add_row(membership.user_name, membership.role)
    console.print(table)


def _time(value: str | None, option: str) -> int | None:
    """Milliseconds since the epoch, or an ISO 8601 date or time (UTC unless it names its offset)."""
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(
            f"{value!r} is neither an ISO 8601 time (2026-03-01, 2026-03-01T14:30) nor milliseconds since the epoch",
            field=option,
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000)


def audit(
    actor: str | None = typer.Option(None, "--actor", help="Only this actor (a user name, or cli:LOGIN)."),
    action: str | None = typer.Option(None, "--action", help="Only this action (admin.create_user, cli.create_token)."),
    obj: str | None = typer.Option(None, "--object", help="Only entries whose object contains this text."),
    workspace: str | None = typer.Option(None, "--workspace", help="Only this workspace's entries."),
    since: str | None = typer.Option(None, "--since", help="From this time: ISO 8601 (UTC by default) or epoch ms."),
    until: str | None = typer.Option(None, "--until", help="Before this time: ISO 8601 or epoch ms."),
    limit: int = typer.Option(100, "--limit", min=1, max=100_000, help="At most this many entries."),
    json: bool = JsonOption,
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
) -> None:
    """The audit log, newest first: every change made through the server or these commands, and who made it."""
    with administration(home, backend_uri) as ops:
        workspace_id = ops.workspaces.get(workspace).id if workspace is not None else None
        entries = ops.store.audit.query(
            actor=actor,
            action=action,
            object_contains=obj,
            workspace_id=workspace_id,
            since=_time(since, "since"),
            until=_time(until, "until"),
            limit=limit,
        )
        names = {w.id: w.name for w in ops.store.members.list_workspaces()}
    if json:
        from ridgeline.server.api.accounts_wire import audit_json

        print_json({"entries": [audit_json(entry, names.get(entry.workspace_id or "")) for entry in entries]})
        return
    table = Table(title="audit log", title_justify="left")
    for column in ("id", "at (UTC)", "actor", "action", "object", "workspace", "status", "from"):
        table.add_column(column, overflow="fold" if column == "object" else "ellipsis")
    for entry in entries:
        table.add_row(
            str(entry.id),
            when(entry.at, seconds=True),
            entry.actor,
            entry.action,
            entry.object,
            names.get(entry.workspace_id or "", "-"),
            str(entry.status) if entry.status else "-",
            entry.remote_addr,
        )
    console.print(table)
