"""Accounts, roles and what each role may do. Pure: the server's one authorisation check and the services that
manage accounts both decide here.

Roles are ordered: a viewer reads, an editor also writes (runs, models, monitors), a maintainer also deletes
projects, models and monitors and manages members, an owner also manages owners and the workspace itself. A
member's workspace role holds for every project of the workspace unless a per-project role replaces it there.
An API token carries a scope that caps what its holder's roles allow: ``read`` only reads, ``write`` reads, writes
and deletes, ``admin`` allows everything the holder may do (managing members and accounts included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ridgeline.domain.errors import InvalidArgument


class Action(StrEnum):
    READ = "read"
    WRITE = "write"
    DELETE = "delete"
    MANAGE = "manage"
    OWN = "own"


ROLES = ("viewer", "editor", "maintainer", "owner")
SYSTEM_ROLES = ("user", "admin")
TOKEN_SCOPES = ("read", "write", "admin")
USER_KINDS = ("user", "service")

_LEAST_ROLE = {
    Action.READ: "viewer",
    Action.WRITE: "editor",
    Action.DELETE: "maintainer",
    Action.MANAGE: "maintainer",
    Action.OWN: "owner",
}
_SCOPE_ALLOWS = {
    "read": frozenset({Action.READ}),
    "write": frozenset({Action.READ, Action.WRITE, Action.DELETE}),
    "admin": frozenset(Action),
}


def role_allows(role: str | None, action: Action) -> bool:
    return role is not None and ROLES.index(role) >= ROLES.index(_LEAST_ROLE[action])


def scope_allows(scope: str, action: Action) -> bool:
    return action in _SCOPE_ALLOWS[scope]


def check_choice(value: str, choices: tuple[str, ...], field: str) -> str:
    if value not in choices:
        raise InvalidArgument(f"{field} must be one of {', '.join(choices)}, not {value!r}", field=field)
    return value


_USER_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}[a-z0-9]")


def check_user_name(name: str, field: str = "name") -> str:
    """A login name: 2 to 64 lower-case letters, digits, '.', '_' or '-', starting and ending with a letter or digit
    (it appears in URLs, audit entries and run records, so nothing that needs quoting)."""
    if not isinstance(name, str) or not _USER_NAME.fullmatch(name):
        raise InvalidArgument(
            f"user name {name!r} is not valid: use 2-64 lower-case letters, digits, '.', '_' or '-', starting and "
            "ending with a letter or digit",
            field=field,
        )
    return name


MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
# The most used passwords of public breach lists that are 12 characters or longer, lower-cased.
_COMMON = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "qwertyuiop12",
        "qwertyuiopasdf",
        "qwertyuiopasdfgh",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "password1234",
        "password12345",
        "password123456",
        "passwordpassword",
        "iloveyou1234",
        "administrator",
        "administrator1",
        "letmein12345",
        "welcome12345",
        "changeme1234",
        "qazwsxedcrfv",
        "abcdefghijkl",
        "abcd1234abcd",
        "aaaaaaaaaaaa",
        "ridgeline123",
        "ridgelineadmin",
    }
)


def check_password(password: str, user_name: str, field: str = "password") -> str:
    """Refuse empty, short and guessable passwords (NIST SP 800-63B: length over composition rules, and no
    password from breach lists or built from the account's name)."""
    if not isinstance(password, str) or not password:
        raise InvalidArgument("a password is required", field=field)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidArgument(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long", field=field)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidArgument(f"the password must be at most {MAX_PASSWORD_LENGTH} characters long", field=field)
    lowered = password.lower()
    if lowered in _COMMON or len(set(lowered)) < 5:
        raise InvalidArgument("the password is too easy to guess: choose a longer, less common one", field=field)
    if user_name and user_name.lower() in lowered:
        raise InvalidArgument("the password must not contain the user name", field=field)
    return password


@dataclass(frozen=True)
class Principal:
    """Who sends a request. ``scope`` caps what the principal's roles allow (a token's scope; ``admin`` for a
    login). The local user of single-user mode owns everything."""

    name: str
    local: bool
    user_id: str | None = None
    kind: str = "user"
    system_admin: bool = False
    scope: str = "admin"
    session_id: str | None = None


LOCAL_USER = Principal(name="local", local=True, system_admin=True)


@dataclass(frozen=True)
class User:
    id: str
    name: str
    display_name: str
    email: str | None
    kind: str
    system_role: str
    default_workspace_id: str | None
    disabled_at: int | None
    created_at: int
    created_by: str
    last_login_at: int | None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


@dataclass(frozen=True)
class ApiToken:
    id: str
    user_id: str
    user_name: str
    name: str
    prefix: str
    scope: str
    created_at: int
    expires_at: int | None
    revoked_at: int | None
    last_used_at: int | None


@dataclass(frozen=True)
class Membership:
    workspace_id: str
    workspace_name: str
    user_name: str
    role: str


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    created_at: int


@dataclass(frozen=True)
class Invitation:
    id: str
    workspace_id: str | None
    role: str | None
    system_role: str
    note: str
    created_by: str
    created_at: int
    expires_at: int
    used_at: int | None
    used_by: str | None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: int
    actor: str
    action: str
    method: str
    path: str
    object: str
    workspace_id: str | None
    remote_addr: str
    status: int
