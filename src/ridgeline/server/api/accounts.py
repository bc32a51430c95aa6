"""/api/v1/session (log in and out), /api/v1/signup, invitations, and /api/v1/account (one's own account and
tokens)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ridgeline.domain.accounts import Principal, User
from ridgeline.domain.errors import NotFound, PermissionDenied, Unauthenticated
from ridgeline.server.api.accounts_wire import (
    AcceptBody,
    AccountUpdate,
    LoginBody,
    NewAccountBody,
    PasswordChange,
    TokenCreate,
    accounts_of,
    current_user,
    membership_json,
    token_json,
    user_json,
)
from ridgeline.server.auth import SESSION_COOKIE, client_address, limited
from ridgeline.server.responses import ERROR_RESPONSES, JSON

router = APIRouter(tags=["accounts"], responses=ERROR_RESPONSES)


def _signed_in(request: Request, user: User) -> JSON:
    """Start a web session for ``user``: the cookie (HttpOnly, SameSite=Lax, Secure on HTTPS) and, in the body,
    the CSRF token the UI sends back on every change."""
    accounts = accounts_of(request)
    secret, csrf = accounts.start_session(user, client_address(request))
    response = JSON({"user": user_json(user), "csrf_token": csrf}, status_code=201)
    # No max-age: the cookie lasts the browser session, and the server ends a session idle for session_hours.
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
        path="/",
    )
    return response


@router.post("/session", status_code=201)
def log_in(body: LoginBody, request: Request) -> JSON:
    """Log in with a user name and password; answers the session cookie and the CSRF token."""
    accounts = accounts_of(request)
    request.state.audit["login"] = body.name
    principal = limited(
        accounts,
        client_address(request),
        body.name,
        lambda: accounts.principal(accounts.check_password(body.name, body.password)),
    )
    return _signed_in(request, accounts.get_user(principal.name))


@router.get("/session")
def session_info(request: Request) -> JSON:
    """Who is signed in (if anyone), whether the server has accounts, and the CSRF token of the session."""
    principal: Principal = request.state.principal
    auth = bool(request.app.state.settings_auth)
    body: dict[str, object] = {"accounts": auth, "signed_in": principal.local or principal.user_id is not None}
    if principal.user_id is not None:
        accounts = accounts_of(request)
        body["user"] = user_json(accounts.get_user(principal.name))
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie and principal.session_id:
            body["csrf_token"] = accounts.session(cookie).csrf_token
    return JSON(body)


@router.delete("/session", status_code=204)
def log_out(request: Request) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and request.app.state.settings_auth:
        accounts_of(request).end_session(cookie)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.post("/signup", status_code=201)
def sign_up(body: NewAccountBody, request: Request) -> JSON:
    """Create an account (it joins no workspace); only when the server allows sign-up (RIDGELINE_SIGNUP)."""
    if not request.app.state.settings.signup:
        raise PermissionDenied("sign-up is off on this server: ask an administrator for an invitation")
    accounts = accounts_of(request)
    user = accounts.create_user(
        body.name, body.password, created_by="signup", display_name=body.display_name, email=body.email
    )
    return _signed_in(request, user)


@router.get("/invitations/{token}")
def invitation_info(token: str, request: Request) -> JSON:
    """What an invitation link offers (which workspace and role), so its page can say so."""
    accounts = accounts_of(request)
    invitation = accounts.invitation(token)
    workspace = accounts.store.members.workspace_by_id(invitation.workspace_id) if invitation.workspace_id else None
    return JSON(
        {
            "workspace": workspace.name if workspace else None,
            "role": invitation.role,
            "system_role": invitation.system_role,
            "expires_at": invitation.expires_at,
        }
    )


@router.post("/invitations/accept", status_code=201)
def accept_invitation(body: AcceptBody, request: Request) -> JSON:
    """Create one's account from an invitation (it works once) and sign in."""
    accounts = accounts_of(request)
    request.state.audit["login"] = body.name
    user = accounts.accept(body.token, body.name, body.password, body.display_name, body.email)
    return _signed_in(request, user)


@router.get("/account")
def get_account(request: Request) -> JSON:
    user = current_user(request)
    memberships = accounts_of(request).store.members.memberships(user_id=user.id)
    return JSON({**user_json(user), "workspaces": [membership_json(m) for m in memberships]})


@router.patch("/account")
def update_account(body: AccountUpdate, request: Request) -> JSON:
    accounts = accounts_of(request)
    user = current_user(request)
    values: dict[str, object] = {}
    if body.display_name is not None:
        values["display_name"] = body.display_name
    if body.email is not None:
        values["email"] = body.email or None
    if body.default_workspace is not None:
        mine = {m.workspace_name: m.workspace_id for m in accounts.store.members.memberships(user_id=user.id)}
        if body.default_workspace not in mine and user.system_role != "admin":
            raise NotFound(f"workspace {body.default_workspace!r} does not exist", field="default_workspace")
        workspace = accounts.store.members.workspace_by_name(body.default_workspace)
        values["default_workspace_id"] = workspace.id
    if values:
        accounts.accounts.update_user(user.id, **values)
    return get_account(request)


@router.post("/account/password", status_code=204)
def change_password(body: PasswordChange, request: Request) -> Response:
    """Change one's password (the current one is required); every session of the account ends."""
    user = current_user(request)
    accounts = accounts_of(request)
    # The current password is checked under the failed-attempt limits, as a login would be: a borrowed session
    # must not become a way to guess it at full speed.
    try:
        limited(
            accounts,
            client_address(request),
            user.name,
            lambda: accounts.principal(accounts.check_password(user.name, body.current_password)),
        )
    except Unauthenticated:
        raise PermissionDenied("the current password is wrong", field="current_password") from None
    accounts.set_password(user.name, body.new_password)
    return Response(status_code=204)


@router.get("/account/tokens")
def list_own_tokens(request: Request) -> JSON:
    return JSON({"tokens": [token_json(t) for t in accounts_of(request).list_tokens(current_user(request))]})


@router.post("/account/tokens", status_code=201)
def create_own_token(body: TokenCreate, request: Request) -> JSON:
    """A personal API token. The answer holds the token itself, this once: it is stored hashed."""
    new = accounts_of(request).create_token(current_user(request), body.name, body.scope, body.expires_days)
    return JSON({**token_json(new.token), "token": new.secret}, status_code=201)


@router.delete("/account/tokens/{token_id}")
def revoke_own_token(token_id: str, request: Request) -> JSON:
    token = accounts_of(request).revoke_token(token_id, owner=current_user(request))
    return JSON(token_json(token))
