"""The workspace that name lookups and listings of the metadata store apply to.

Names (projects, registered models, monitors, datasets) are unique per workspace, so every lookup by name and
every listing needs one. The server's authorisation check enters the workspace a request may use before its
handler runs; everything else (the SDK's local backend, the CLI, tests) uses the default workspace. Keeping it
ambient means no handler can forget to scope a query: a store method given no workspace uses this one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

DEFAULT_WORKSPACE_ID = "0" * 32

_current: ContextVar[str] = ContextVar("ridgeline_workspace", default=DEFAULT_WORKSPACE_ID)


def current_workspace() -> str:
    return _current.get()


def scoped(workspace_id: str | None) -> str:
    """The workspace a store method works in: the one it was given, else the current one."""
    return workspace_id or _current.get()


def enter_workspace(workspace_id: str) -> None:
    """Make ``workspace_id`` current for the rest of this context (an asyncio task's, or a thread's)."""
    _current.set(workspace_id)


@contextmanager
def in_workspace(workspace_id: str) -> Iterator[None]:
    token = _current.set(workspace_id)
    try:
        yield
    finally:
        _current.reset(token)
