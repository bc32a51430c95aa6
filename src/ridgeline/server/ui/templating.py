"""Jinja2 rendering for the UI: autoescaping always on, one page helper that also sets the security headers.

Every page also gets ``identity`` (:class:`Identity`): whether the server has accounts, who is signed in, the
session's CSRF token (for the ``<meta name="csrf-token">`` that static/js/api.js sends back on every change) and the
workspaces the navigation bar offers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ridgeline import __version__
from ridgeline.domain.accounts import Principal
from ridgeline.domain.errors import RidgelineError
from ridgeline.server.auth import ANONYMOUS, SESSION_COOKIE
from ridgeline.server.permissions import WORKSPACE_COOKIE
from ridgeline.server.ui import format as fmt
from ridgeline.server.ui.assets import PLOTLY_CSS, PLOTLY_JS, Assets

TEMPLATES = Path(__file__).resolve().parent / "templates"
log = logging.getLogger("ridgeline.server")

# No inline scripts, styles or event handlers anywhere: every page holds to this policy.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Identity:
    """Who the page is drawn for, as the navigation bar shows it."""

    accounts: bool  # False: local single-user mode (no login, nothing to show)
    principal: Principal | None = None  # None: nobody is signed in
    csrf_token: str | None = None  # only for a web session
    workspaces: list[tuple[str, str]] = field(default_factory=list)  # (name, role) the user may switch to
    current_workspace: str | None = None
    stale_workspace: str | None = None  # a workspace cookie naming none of the user's (another user's choice)

    @property
    def signed_in(self) -> bool:
        return self.principal is not None and self.principal.user_id is not None

    @property
    def name(self) -> str:
        return self.principal.name if self.principal else ""

    @property
    def admin(self) -> bool:
        return self.signed_in and self.principal is not None and self.principal.system_admin

    @property
    def role(self) -> str | None:
        """The user's role in the current workspace."""
        return dict(self.workspaces).get(self.current_workspace or "")


def identity(request: Request) -> Identity:
    """The page's :class:`Identity`, worked out once per request (``request.state.ui_identity``).

    The principal is the one the authorisation check found; pages it never ran for (an unknown address's 404) look
    the session cookie up themselves. The CSRF token is the session's: one more lookup, only for session logins.
    """
    cached: Identity | None = getattr(request.state, "ui_identity", None)
    if cached is not None:
        return cached
    state = request.app.state
    if not getattr(state, "settings_auth", False):
        found = Identity(accounts=False)
    else:
        try:
            found = _signed_in_identity(request)
        except RidgelineError:
            found = Identity(accounts=True)
        except Exception:  # the page must still be drawn (it may be the page that reports the failure)
            log.exception("could not work out who is signed in for %s", request.url.path)
            found = Identity(accounts=True)
    request.state.ui_identity = found
    return found


def _signed_in_identity(request: Request) -> Identity:
    state = request.app.state
    principal: Principal | None = getattr(request.state, "principal", None)
    cookie = request.cookies.get(SESSION_COOKIE)
    csrf: str | None = None
    if principal is None and cookie:
        session = state.accounts.session(cookie)
        principal = state.accounts.principal(session.user, session_id=session.id_hash)
        csrf = session.csrf_token
    elif principal is not None and principal.session_id and cookie:
        csrf = state.accounts.session(cookie).csrf_token
    if principal is None or principal is ANONYMOUS or principal.user_id is None:
        return Identity(accounts=True)
    visible = state.workspaces.visible(principal)
    names = {workspace.id: workspace.name for workspace, _ in visible}
    chosen = unquote(request.cookies.get(WORKSPACE_COOKIE) or "")
    current = names.get(getattr(request.state, "workspace_id", None) or "")
    if current is None and chosen in names.values():
        current = chosen
    return Identity(
        accounts=True,
        principal=principal,
        csrf_token=csrf,
        workspaces=[(workspace.name, role) for workspace, role in visible],
        current_workspace=current,
        stale_workspace=chosen if chosen and chosen not in names.values() else None,
    )


class Templates:
    def __init__(self, assets: Assets) -> None:
        self.assets = assets
        # Autoescaping for every template, whatever its file name: user text must never become markup.
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            number=fmt.number,
            timestamp=fmt.timestamp,
            clock=fmt.clock,
            duration=fmt.duration,
        )
        self.env.tests["numeric"] = fmt.is_numeric
        self.env.globals.update(
            static=assets.url,
            module_imports=assets.module_imports,
            plotly_js=lambda: assets.url(PLOTLY_JS),
            plotly_css=lambda: assets.url(PLOTLY_CSS),
            plotly_guard_ids=lambda: assets.plotly.guard_ids,
            version=__version__,
        )

    def render(self, request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        self.assets.warm_in_background()
        context.setdefault("identity", identity(request))
        html = self.env.get_template(name).render(request=request, **context)
        return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def templates(request: Request) -> Templates:
    return request.app.state.templates  # type: ignore[no-any-return]
