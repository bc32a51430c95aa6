"""Accounts: users and service accounts, their passwords, API tokens, web sessions and invitations.

Passwords are kept as argon2id hashes. Tokens, session ids and invitation links are 256-bit random secrets shown
once and kept as their sha256: they have too much entropy to need a slow hash, and a lookup by hash compares no
secret byte by byte. A failed password check costs the same time whether or not the user exists.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ridgeline.domain.accounts import (
    ROLES,
    SYSTEM_ROLES,
    TOKEN_SCOPES,
    USER_KINDS,
    ApiToken,
    Invitation,
    Principal,
    User,
    check_choice,
    check_password,
    check_user_name,
)
from ridgeline.domain.errors import InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from ridgeline.domain.ids import now_ms
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.scope import DEFAULT_WORKSPACE_ID

TOKEN_PREFIX = "rl_"
DAY_MS = 86_400_000
INVITATION_DAYS = 7
FIRST_ADMIN_INVITER = "ridgeline"
# last_used_at is written at most this often per token: not a database write on every request.
_TOKEN_TOUCH_MS = 60_000
_SESSION_TOUCH_MS = 60_000
_hasher = PasswordHasher()
# Checked against when the user does not exist, so that answer takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str


@dataclass(frozen=True)
class Session:
    user: User
    id_hash: str
    csrf_token: str


class AccountService:
    def __init__(self, store: MetadataStore, session_hours: float = 12.0) -> None:
        self.store = store
        self.accounts = store.accounts
        self.session_ms = int(session_hours * 3_600_000)

    # users

    def create_user(
        self,
        name: str,
        password: str | None,
        *,
        created_by: str,
        kind: str = "user",
        system_role: str = "user",
        display_name: str = "",
        email: str | None = None,
        workspace_id: str | None = None,
        role: str | None = None,
    ) -> User:
        """A person (who needs a strong password) or a service account (no password: tokens only), optionally
        made a member of a workspace."""
        check_user_name(name)
        check_choice(kind, USER_KINDS, "kind")
        check_choice(system_role, SYSTEM_ROLES, "system_role")
        if role is not None:
            check_choice(role, ROLES, "role")
        if kind == "user":
            check_password(password or "", name)
        elif password:
            raise InvalidArgument("service accounts have no password: create a token for them", field="password")
        if email is not None and (len(email) > 320 or "@" not in email or any(c in email for c in "\r\n <>")):
            raise InvalidArgument(f"{email!r} is not an email address", field="email")
        user = self.accounts.create_user(
            {
                "name": name,
                "display_name": (display_name or name)[:200],
                "email": email,
                "password_hash": _hasher.hash(password) if password else None,
                "kind": kind,
                "system_role": system_role,
                "default_workspace_id": workspace_id,
                "created_by": created_by,
            }
        )
        if workspace_id is not None and role is not None:
            self.store.members.set_member(workspace_id, user.id, role)
        return user

    def get_user(self, name: str) -> User:
        return self.accounts.get_user(name)

    def list_users(self) -> list[User]:
        return self.accounts.list_users()

    def count_users(self) -> int:
        return self.accounts.count_users()

    def set_disabled(self, name: str, disabled: bool) -> User:
        """Disabling also ends the user's web sessions; their tokens stop working while disabled."""
        user = self.get_user(name)
        if disabled and user.system_role == "admin" and not user.disabled and self._active_admins() <= 1:
            raise InvalidArgument("this is the last active admin: make someone else admin first", field="disabled")
        self.accounts.update_user(user.id, disabled_at=now_ms() if disabled else None)
        if disabled:
            self.accounts.delete_sessions(user_id=user.id)
        return self.get_user(name)

    def set_system_role(self, name: str, system_role: str) -> User:
        check_choice(system_role, SYSTEM_ROLES, "system_role")
        user = self.get_user(name)
        if user.system_role == "admin" and system_role != "admin" and self._active_admins() <= 1:
            raise InvalidArgument("this is the last active admin: make someone else admin first", field="system_role")
        self.accounts.update_user(user.id, system_role=system_role)
        return self.get_user(name)

    def _active_admins(self) -> int:
        return sum(1 for user in self.list_users() if user.system_role == "admin" and not user.disabled)

    def set_password(self, name: str, password: str, *, current: str | None = None) -> None:
        """Change a password; ``current`` is checked when given (a user changing their own). Ends other
        sessions, since a password change often answers a suspected leak."""
        found = self.accounts.find_user(name)
        if found is None or found[0].kind != "user":
            raise NotFound(f"user {name!r} does not exist or has no password", field="name")
        user, stored = found
        if current is not None and not _matches(stored, current):
            raise PermissionDenied("the current password is wrong", field="current_password")
        check_password(password, name)
        self.accounts.update_user(user.id, password_hash=_hasher.hash(password))
        self.accounts.delete_sessions(user_id=user.id)

    def set_default_workspace(self, user: User, workspace_id: str) -> None:
        self.accounts.update_user(user.id, default_workspace_id=workspace_id)

    def check_password(self, name: str, password: str) -> User:
        """The user whose name and password these are; Unauthenticated (same message, same time) otherwise."""
        found = self.accounts.find_user(name) if isinstance(name, str) and len(name) <= 100 else None
        user, stored = found if found is not None else (None, None)
        if not _matches(stored, password) or user is None or user.disabled or user.kind != "user":
            raise Unauthenticated("wrong user name or password")
        if stored is not None and _hasher.check_needs_rehash(stored):
            self.accounts.update_user(user.id, password_hash=_hasher.hash(password))
        return user

    # API tokens

    def create_token(self, user: User, name: str, scope: str = "write", expires_days: float | None = 90) -> NewToken:
        check_choice(scope, TOKEN_SCOPES, "scope")
        if not name or len(name) > 100:
            raise InvalidArgument("a token needs a name of 1-100 characters", field="name")
        if expires_days is not None and not 0 < expires_days <= 3650:
            raise InvalidArgument("expires_days must be between 0 and 3650 (or none)", field="expires_days")
        secret = _new_secret(TOKEN_PREFIX)
        token = self.accounts.create_token(
            {
                "user_id": user.id,
                "name": name,
                "token_hash": digest(secret),
                "prefix": secret[:10],
                "scope": scope,
                "expires_at": None if expires_days is None else now_ms() + int(expires_days * DAY_MS),
            }
        )
        return NewToken(token, secret)

    def list_tokens(self, user: User | None = None) -> list[ApiToken]:
        return self.accounts.list_tokens(None if user is None else user.id)

    def revoke_token(self, token_id: str, *, owner: User | None = None) -> ApiToken:
        """Revoke a token: its owner's (``owner`` given) or anyone's (an admin)."""
        token = self.accounts.get_token(token_id)
        if owner is not None and token.user_id != owner.id:
            raise NotFound(f"token {token_id!r} does not exist", field="token_id")
        if token.revoked_at is None:
            self.accounts.update_token(token.id, revoked_at=now_ms())
        return self.accounts.get_token(token.id)

    def verify_token(self, secret: str) -> tuple[User, ApiToken]:
        token = self.accounts.token_by_hash(digest(secret)) if secret.startswith(TOKEN_PREFIX) else None
        now = now_ms()
        if token is None:
            raise Unauthenticated("unknown API token")
        if token.revoked_at is not None:
            raise Unauthenticated("this API token was revoked")
        if token.expires_at is not None and token.expires_at <= now:
            raise Unauthenticated("this API token has expired: create a new one")
        user = self.accounts.user_by_id(token.user_id)
        if user is None or user.disabled:
            raise Unauthenticated("the account of this API token is disabled")
        if token.last_used_at is None or now - token.last_used_at > _TOKEN_TOUCH_MS:
            self.accounts.update_token(token.id, last_used_at=now)
        return user, token

    # web sessions

    def start_session(self, user: User, remote_addr: str) -> tuple[str, str]:
        """A new session for ``user``: (the cookie's secret, the CSRF token its pages send back)."""
        secret, csrf = _new_secret(), secrets.token_urlsafe(32)
        self.accounts.delete_idle_sessions(now_ms() - self.session_ms)
        self.accounts.create_session(digest(secret), user.id, csrf, remote_addr)
        self.accounts.update_user(user.id, last_login_at=now_ms())
        return secret, csrf

    def session(self, secret: str) -> Session:
        id_hash = digest(secret)
        row = self.accounts.get_session(id_hash)
        now = now_ms()
        if row is None or now - row.last_seen_at > self.session_ms:
            raise Unauthenticated("your session has ended: log in again")
        user = self.accounts.user_by_id(row.user_id)
        if user is None or user.disabled:
            raise Unauthenticated("your account is disabled")
        if now - row.last_seen_at > _SESSION_TOUCH_MS:
            self.accounts.touch_session(id_hash, now)
        return Session(user, id_hash, row.csrf_token)

    def end_session(self, secret: str) -> None:
        self.accounts.delete_sessions(id_hash=digest(secret))

    # invitations

    def invite(
        self,
        created_by: str,
        *,
        workspace_id: str | None = None,
        role: str | None = None,
        system_role: str = "user",
        note: str = "",
        days: float = INVITATION_DAYS,
    ) -> tuple[Invitation, str]:
        check_choice(system_role, SYSTEM_ROLES, "system_role")
        if (workspace_id is None) != (role is None):
            raise InvalidArgument("an invitation names both a workspace and a role, or neither", field="role")
        if not 0 < days <= 90:
            raise InvalidArgument("an invitation lasts between 0 and 90 days", field="days")
        secret = _new_secret()
        invitation = self.accounts.create_invitation(
            {
                "token_hash": digest(secret),
                "workspace_id": workspace_id,
                "role": role,
                "system_role": system_role,
                "note": note[:200],
                "created_by": created_by,
                "expires_at": now_ms() + int(days * DAY_MS),
            }
        )
        return invitation, secret

    def first_admin_invitation(self) -> str | None:
        """With no account yet: a one-time secret that lets its holder create the first admin (owner of the
        default workspace). None once an account exists."""
        if self.count_users() > 0:
            return None
        _, secret = self.invite(
            "ridgeline",
            workspace_id=DEFAULT_WORKSPACE_ID,
            role="owner",
            system_role="admin",
            note="first admin",
            days=1,
        )
        return secret

    def invitation(self, secret: str) -> Invitation:
        invitation = self.accounts.invitation_by_hash(digest(secret)) if isinstance(secret, str) else None
        if invitation is None or invitation.used_at is not None or invitation.expires_at <= now_ms():
            raise NotFound("this invitation does not exist, was used or has expired", field="token")
        return invitation

    def accept(self, secret: str, name: str, password: str, display_name: str = "", email: str | None = None) -> User:
        invitation = self.invitation(secret)
        if invitation.created_by == FIRST_ADMIN_INVITER and self.count_users() > 0:
            # A first-admin link printed by an earlier start must not mint admins once accounts exist.
            raise NotFound("this invitation does not exist, was used or has expired", field="token")
        check_user_name(name)
        check_password(password, name)
        if not self.accounts.use_invitation(invitation.id, name):
            raise NotFound("this invitation was just used", field="token")
        return self.create_user(
            name,
            password,
            created_by=f"invitation by {invitation.created_by}",
            system_role=invitation.system_role,
            display_name=display_name,
            email=email,
            workspace_id=invitation.workspace_id,
            role=invitation.role,
        )

    def principal(self, user: User, scope: str = "admin", session_id: str | None = None) -> Principal:
        return Principal(
            name=user.name,
            local=False,
            user_id=user.id,
            kind=user.kind,
            system_admin=user.system_role == "admin",
            scope=scope,
            session_id=session_id,
        )


def _matches(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
