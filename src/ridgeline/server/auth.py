"""Authentication: who sends a request. :mod:`ridgeline.server.permissions` then decides what they may do.

Credentials, in the order they are looked at:

- ``Authorization: Bearer <API token>`` (what MLflow's client sends for ``MLFLOW_TRACKING_TOKEN``);
- ``Authorization: Basic <base64 of user:password>`` (MLflow's ``MLFLOW_TRACKING_USERNAME``/``PASSWORD``); the
  password may also be an API token, for clients that only speak Basic;
- the web UI's session cookie, whose state-changing requests must also carry the session's CSRF token in the
  ``X-CSRF-Token`` header.

In local single-user mode (no accounts, loopback only) everyone is the local user and credentials are ignored.
Failed attempts are limited per address and per account (:mod:`ridgeline.server.rate_limit`).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from ridgeline.domain.accounts import LOCAL_USER, Principal
from ridgeline.domain.errors import PermissionDenied, Unauthenticated
from ridgeline.server.rate_limit import FailureLimit
from ridgeline.services.accounts import TOKEN_PREFIX, AccountService, same_secret

SESSION_COOKIE = "ridgeline_session"
CSRF_HEADER = "x-csrf-token"
ANONYMOUS = Principal(name="anonymous", local=False, scope="read")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# A person mistyping a password gets ten tries in five minutes; a script guessing gets nowhere. Per address the
# allowance is larger, since many people may share one (an office NAT).
_PER_ACCOUNT = FailureLimit(max_failures=10, window_s=300)
_PER_ADDRESS = FailureLimit(max_failures=30, window_s=300)


@dataclass(frozen=True)
class BearerToken:
    token: str = field(repr=False)


@dataclass(frozen=True)
class BasicCredentials:
    username: str
    password: str = field(repr=False)


Credential = BearerToken | BasicCredentials

_MALFORMED = "malformed Authorization header: send 'Bearer <token>' or 'Basic <base64 of user:password>'"


def parse_authorization(header: str | None) -> Credential | None:
    """The credential an ``Authorization`` header carries; Unauthenticated when it is malformed."""
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value and " " not in value:
        return BearerToken(value)
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True)
        except binascii.Error:
            raise Unauthenticated(_MALFORMED) from None
        try:
            text = decoded.decode("utf-8")
        except UnicodeDecodeError:
            text = decoded.decode("latin-1")  # what HTTP clients (requests among them) send by default
        username, colon, password = text.partition(":")
        if colon:
            return BasicCredentials(username, password)
    raise Unauthenticated(_MALFORMED)


def client_address(connection: HTTPConnection) -> str:
    return connection.client.host if connection.client else "unknown"


def limited(accounts: AccountService, address: str, account: str | None, verify: object) -> Principal:
    """Run ``verify`` (a callable giving the principal) under the failed-attempt limits of ``address`` and
    ``account``; a failure counts against both."""
    keys = [f"address:{address}"] + ([f"account:{account}"] if account else [])
    _PER_ADDRESS.check(keys[0])
    if account:
        _PER_ACCOUNT.check(keys[1])
    try:
        principal: Principal = verify()  # type: ignore[operator]
    except Unauthenticated:
        _PER_ADDRESS.fail(keys[0])
        if account:
            _PER_ACCOUNT.fail(keys[1])
        raise
    if account:
        _PER_ACCOUNT.clear(keys[1])
    return principal


def _from_credential(accounts: AccountService, credential: Credential, address: str) -> Principal:
    if isinstance(credential, BearerToken) or credential.password.startswith(TOKEN_PREFIX):
        secret = credential.token if isinstance(credential, BearerToken) else credential.password

        def by_token() -> Principal:
            user, token = accounts.verify_token(secret)
            return accounts.principal(user, scope=token.scope)

        return limited(accounts, address, None, by_token)
    name, password = credential.username, credential.password
    try:
        return limited(accounts, address, name, lambda: accounts.principal(accounts.check_password(name, password)))
    except Unauthenticated as refused:
        refused.actor = name[:100]  # type: ignore[attr-defined]
        raise


def _from_session(accounts: AccountService, secret: str, method: str, csrf: str | None) -> Principal:
    session = accounts.session(secret)
    if method not in SAFE_METHODS and (csrf is None or not same_secret(csrf, session.csrf_token)):
        refused = PermissionDenied(
            "this request changes something but carries no valid CSRF token (X-CSRF-Token header): reload the page",
            field="csrf",
        )
        refused.actor = session.user.name  # type: ignore[attr-defined]
        raise refused
    return accounts.principal(session.user, session_id=session.id_hash)


async def identify(connection: HTTPConnection, accounts: AccountService | None) -> Principal:
    """Who sends the request: the local user without accounts, else the principal its credentials name, or
    ANONYMOUS when it carries none. Bad credentials raise Unauthenticated (or RateLimited)."""
    if accounts is None:
        return LOCAL_USER
    credential = parse_authorization(connection.headers.get("authorization"))
    address = client_address(connection)
    if credential is not None:
        return await run_in_threadpool(_from_credential, accounts, credential, address)
    cookie = connection.cookies.get(SESSION_COOKIE)
    if cookie:
        method = connection.scope.get("method", "GET")
        csrf = connection.headers.get(CSRF_HEADER)
        return await run_in_threadpool(_from_session, accounts, cookie, method, csrf)
    return ANONYMOUS
