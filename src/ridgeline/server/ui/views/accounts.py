"""Account pages: log in (/login), sign up (/signup), accept an invitation (/invitation), one's own account and
API tokens (/account), administration of accounts, invitations, tokens and workspaces (/admin) and the audit log
(/admin/audit). The pages show what is; their forms call the JSON API under /api/v1 (static/js/login.js,
account-page.js, admin-page.js), which does every check again. Who may open each page is in permission_table.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from ridgeline.domain.accounts import ROLES, SYSTEM_ROLES, TOKEN_SCOPES, ApiToken, AuditEntry, Invitation, Principal
from ridgeline.domain.errors import InvalidArgument, NotFound
from ridgeline.domain.ids import now_ms
from ridgeline.server.ui.templating import PAGE_HEADERS
from ridgeline.server.ui.views.common import Pages
from ridgeline.services.accounts import AccountService
from ridgeline.services.workspaces import WorkspaceService

router = APIRouter()

ADMIN_TABS = (
    ("users", "Accounts"),
    ("tokens", "API tokens"),
    ("invitations", "Invitations"),
    ("workspaces", "Workspaces"),
)
AUDIT_PAGE = 100
TOKEN_EXPIRY_DAYS = (("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("", "never"))


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a path on this server (one leading '/'), else the home page. Never an
    absolute or scheme-relative URL (``//host``, ``/\\host``), which would send the visitor to another site."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return "/"
    return value


def _principal(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


def _accounts(request: Request) -> AccountService:
    service: AccountService = request.app.state.accounts
    return service


def _workspaces(request: Request) -> WorkspaceService:
    service: WorkspaceService = request.app.state.workspaces
    return service


def _local_mode(request: Request) -> bool:
    return not request.app.state.settings_auth


def _signed_in(request: Request) -> bool:
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal is not None and principal.user_id is not None


def _local_notice(pages: Pages, request: Request, title: str) -> HTMLResponse:
    return pages.render(request, "local_mode.html", title=title)


@router.get("/login")
def login_page(
    request: Request,
    pages: Pages,
    next: Annotated[str | None, Query(max_length=2000)] = None,
    reason: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    target = safe_next(next)
    if _local_mode(request):
        return _local_notice(pages, request, "Log in")
    if _signed_in(request):
        return RedirectResponse(target, status_code=303, headers=PAGE_HEADERS)
    signup = request.app.state.settings.signup
    return pages.render(request, "login.html", title="Log in", next=target, signup=signup, reason=reason)


@router.get("/signup")
def signup_page(request: Request, pages: Pages) -> HTMLResponse:
    if _local_mode(request):
        return _local_notice(pages, request, "Sign up")
    return pages.render(request, "signup.html", title="Sign up", signup=request.app.state.settings.signup)


@dataclass(frozen=True)
class Offer:
    """What an invitation gives whoever accepts it."""

    workspace: str | None
    role: str | None
    system_role: str
    expires_at: int


@router.get("/invitation")
def invitation_page(request: Request, pages: Pages, token: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    if _local_mode(request):
        return _local_notice(pages, request, "Invitation")
    accounts = _accounts(request)
    try:
        invitation = accounts.invitation(token)
    except NotFound as missing:
        problem = missing.message
        return pages.render(
            request, "invitation.html", status_code=404, title="Invitation", offer=None, problem=problem
        )
    workspace = accounts.store.members.workspace_by_id(invitation.workspace_id) if invitation.workspace_id else None
    offer = Offer(workspace.name if workspace else None, invitation.role, invitation.system_role, invitation.expires_at)
    return pages.render(request, "invitation.html", title="Invitation", offer=offer, problem=None)


@dataclass(frozen=True)
class TokenRow:
    token: ApiToken
    state: str  # active | expired | revoked

    @classmethod
    def of(cls, token: ApiToken, now: int) -> TokenRow:
        if token.revoked_at is not None:
            return cls(token, "revoked")
        if token.expires_at is not None and token.expires_at <= now:
            return cls(token, "expired")
        return cls(token, "active")


def _token_rows(tokens: list[ApiToken]) -> list[TokenRow]:
    now = now_ms()
    rows = [TokenRow.of(token, now) for token in tokens]
    # Active ones first, newest first within each state.
    order = {"active": 0, "expired": 1, "revoked": 2}
    return sorted(rows, key=lambda row: (order[row.state], -row.token.created_at))


@router.get("/account")
def account_page(request: Request, pages: Pages) -> HTMLResponse:
    if _local_mode(request):
        return _local_notice(pages, request, "Account")
    accounts = _accounts(request)
    user = accounts.get_user(_principal(request).name)
    memberships = accounts.store.members.memberships(user_id=user.id)
    # Administrators may choose any workspace as their default, members one of theirs.
    visible = _workspaces(request).visible(_principal(request))
    default_name = next((w.name for w, _ in visible if w.id == user.default_workspace_id), None)
    return pages.render(
        request,
        "account.html",
        title="Your account",
        user=user,
        memberships=memberships,
        default_workspace=default_name,
        choices=[workspace.name for workspace, _ in visible],
        tokens=_token_rows(accounts.list_tokens(user)),
        scopes=TOKEN_SCOPES,
        expiry_choices=TOKEN_EXPIRY_DAYS,
    )


@dataclass(frozen=True)
class InvitationRow:
    invitation: Invitation
    workspace: str | None
    state: str  # open | used | expired


@router.get("/admin")
def admin_page(
    request: Request,
    pages: Pages,
    tab: Annotated[str, Query(max_length=20)] = "users",
    workspace: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    if _local_mode(request):
        return _local_notice(pages, request, "Administration")
    if tab not in dict(ADMIN_TABS):
        tab = "users"
    accounts = _accounts(request)
    members = accounts.store.members
    all_workspaces = members.list_workspaces()
    names = {w.id: w.name for w in all_workspaces}
    context: dict[str, Any] = {
        "tab": tab,
        "tabs": ADMIN_TABS,
        "users": accounts.list_users(),
        "workspace_names": [w.name for w in all_workspaces],
        "roles": ROLES,
        "system_roles": SYSTEM_ROLES,
        "scopes": TOKEN_SCOPES,
        "expiry_choices": TOKEN_EXPIRY_DAYS,
        "me": _principal(request).name,
    }
    if tab == "users":
        memberships: dict[str, list[str]] = defaultdict(list)
        for membership in members.memberships():
            memberships[membership.user_name].append(f"{membership.workspace_name} ({membership.role})")
        context["memberships"] = memberships
    elif tab == "tokens":
        context["tokens"] = _token_rows(accounts.list_tokens())
    elif tab == "invitations":
        now = now_ms()
        rows = []
        for invitation in accounts.accounts.list_invitations():
            used = invitation.used_at is not None
            state = "used" if used else "expired" if invitation.expires_at <= now else "open"
            rows.append(InvitationRow(invitation, names.get(invitation.workspace_id or ""), state))
        rows.sort(key=lambda row: -row.invitation.created_at)
        context["invitations"] = rows
    else:
        counts: dict[str, int] = defaultdict(int)
        for membership in members.memberships():
            counts[membership.workspace_id] += 1
        context["workspaces"] = [(w, counts[w.id]) for w in all_workspaces]
        chosen = workspace if workspace in context["workspace_names"] else None
        context["chosen"] = chosen
        context["members"] = _workspaces(request).list_members(chosen) if chosen else []
    return pages.render(request, "admin.html", title="Administration", **context)


@dataclass(frozen=True)
class AuditFilters:
    actor: str
    action: str
    contains: str  # the object text contains this
    since: str  # YYYY-MM-DD, in the browser's time zone (tz)
    until: str
    tz: int  # the browser's offset from UTC in minutes, as Date.getTimezoneOffset() gives it

    def query(self, **changes: object) -> str:
        values: dict[str, object] = {
            "actor": self.actor,
            "action": self.action,
            "object": self.contains,
            "since": self.since,
            "until": self.until,
        }
        if self.since or self.until:
            values["tz"] = self.tz
        values.update(changes)
        return urlencode({key: value for key, value in values.items() if value not in ("", None)})

    @property
    def active(self) -> bool:
        return any((self.actor, self.action, self.contains, self.since, self.until))


def _day_start_ms(text: str, tz: int, field: str) -> int | None:
    """Midnight starting the day ``text`` (YYYY-MM-DD) in a time zone ``tz`` minutes behind UTC, as epoch ms."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(f"{field} must be a date (YYYY-MM-DD), not {text!r}", field=field) from None
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=tz)
    return int(midnight.timestamp() * 1000)


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    workspace: str | None

    @property
    def status_class(self) -> str:
        status = self.entry.status
        return "status-5xx" if status >= 500 else "status-4xx" if status >= 400 else "status-ok"


@router.get("/admin/audit")
def audit_page(
    request: Request,
    pages: Pages,
    actor: Annotated[str, Query(max_length=100)] = "",
    action: Annotated[str, Query(max_length=100)] = "",
    object: Annotated[str, Query(max_length=200)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    tz: Annotated[int, Query(ge=-24 * 60, le=24 * 60)] = 0,
    before_id: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    filters = AuditFilters(actor.strip(), action.strip(), object.strip(), since, until, tz)
    principal = _principal(request)
    store = _workspaces(request).store
    every_workspace = principal.local or principal.system_admin
    start = _day_start_ms(filters.since, tz, "since")
    end = _day_start_ms(filters.until, tz, "until")
    entries = store.audit.query(
        actor=filters.actor or None,
        action=filters.action or None,
        object_contains=filters.contains or None,
        workspace_id=None if every_workspace else request.state.workspace_id,
        since=start,
        # The end date is included: entries before the midnight that ends it.
        until=end + 86_400_000 if end is not None else now_ms() + 1,
        before_id=before_id,
        limit=AUDIT_PAGE + 1,
    )
    names = {w.id: w.name for w in store.members.list_workspaces()}
    rows = [AuditRow(entry, names.get(entry.workspace_id or "")) for entry in entries[:AUDIT_PAGE]]
    older = filters.query(before_id=rows[-1].entry.id) if len(entries) > AUDIT_PAGE else None
    scope = "every workspace" if every_workspace else f"workspace {names.get(request.state.workspace_id or '', '')}"
    return pages.render(
        request,
        "audit.html",
        title="Audit log",
        rows=rows,
        filters=filters,
        older=older,
        newest=filters.query() if before_id is not None else None,
        scope=scope,
        admin=principal.system_admin or principal.local,
    )
