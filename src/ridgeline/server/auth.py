"""Authentication and authorisation: one dependency every route passes through.

:func:`authenticate` reads the ``Authorization`` header into a :data:`Credential` (``Bearer <token>``, what
MLflow's client sends for ``MLFLOW_TRACKING_TOKEN``; ``Basic <base64 of user:password>``, what it sends for
``MLFLOW_TRACKING_USERNAME``/``MLFLOW_TRACKING_PASSWORD``), refuses a malformed header with 401, and hands the
credential to the :data:`Verifier` that :func:`verifier` provides, which names the principal or refuses.

Accounts are not built yet, so the server only runs in local single-user mode, which
``ridgeline.domain.addresses.check_bind_address`` allows on loopback addresses alone; its verifier,
:func:`local_verifier`, lets every request through and ignores the credentials it is given. When accounts arrive
their verifier plugs in at :func:`verifier`, and every route is covered.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from ridgeline.domain.errors import Unauthenticated


@dataclass(frozen=True)
class Principal:
    name: str
    local: bool


LOCAL_USER = Principal(name="local", local=True)


@dataclass(frozen=True)
class BearerToken:
    token: str = field(repr=False)


@dataclass(frozen=True)
class BasicCredentials:
    username: str
    password: str = field(repr=False)


Credential = BearerToken | BasicCredentials
# Names who presents the credential (None: no Authorization header), or raises Unauthenticated.
Verifier = Callable[[Credential | None], Principal]

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


def local_verifier(credential: Credential | None) -> Principal:
    """Local single-user mode: everyone is the local user; credentials, if any, are ignored."""
    return LOCAL_USER


async def verifier() -> Verifier:
    """The verifier in force: local mode's until accounts exist (issue 8). Tests override this dependency.
    (``async``: it does no I/O, and a sync dependency costs a thread hop on every request.)"""
    return local_verifier


def authenticate(request: Request, verify: Annotated[Verifier, Depends(verifier)]) -> Principal:
    principal = verify(parse_authorization(request.headers.get("authorization")))
    request.state.principal = principal
    return principal
