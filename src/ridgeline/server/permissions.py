"""Authorisation: the one check every route of the tracking server passes, driven by the permission table.

:func:`authorize` is the dependency every router is included with. It identifies the caller
(:mod:`ridgeline.server.auth`), finds the route's rule in :mod:`ridgeline.server.permission_table` (a route without
one is refused), resolves the objects the request names to their workspaces, and checks the caller's role there
(and their token's scope). It then enters the request's workspace, which scopes every name lookup and listing
of the metadata store (``store/scope.py``), and leaves what the audit trail records on ``request.state``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import orjson
from fastapi import Request
from fastapi.routing import iter_route_contexts
from starlette.concurrency import run_in_threadpool

from ridgeline.domain.accounts import ROLES, Action, Principal, role_allows, scope_allows
from ridgeline.domain.errors import InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from ridgeline.domain.registry import LOGGED_MODEL_ID
from ridgeline.server.auth import ANONYMOUS, SAFE_METHODS, identify
from ridgeline.server.permission_table import PERMISSIONS
from ridgeline.services.accounts import AccountService
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.scope import DEFAULT_WORKSPACE_ID, enter_workspace

WORKSPACE_HEADER = "x-ridgeline-workspace"
WORKSPACE_COOKIE = "ridgeline_workspace"
_KINDS = ("workspace", "workspace-name", "project", "run", "source", "dataset-version", "model-server", "logged-model")


def source_objects(sources: list[str]) -> tuple[list[str], list[str]]:
    """(run ids, logged model ids) that model version sources name, read as the registry reads them
    (services/registry.py ``_locate``): ``runs:/RUN/…``, ``mlflow-artifacts:/EXP/RUN/artifacts/…`` and
    ``models:/m-…``. Other sources name nothing of ours by id (``models:/NAME/…`` is looked up by name, in the
    request's workspace)."""
    runs: list[str] = []
    models: list[str] = []
    for source in sources:
        if source.startswith("runs:/"):
            runs.append(source[len("runs:/") :].partition("/")[0])
        elif source.startswith("mlflow-artifacts:/"):
            parts = source[len("mlflow-artifacts:/") :].split("/")
            if len(parts) >= 3 and parts[2] == "artifacts":
                runs.append(parts[1])
        elif source.startswith("models:/") and LOGGED_MODEL_ID.fullmatch(rest := source[len("models:/") :].strip("/")):
            models.append(rest)
    return [run for run in runs if run], models


@dataclass(frozen=True)
class Check:
    kind: str
    action: Action
    place: str | None = None  # path.NAME, query.NAME or body.NAME, optionally /0; body.NAME[].FIELD
    optional: bool = False


@dataclass(frozen=True)
class Rule:
    kind: str  # public | signed-in | admin | checks
    checks: tuple[Check, ...] = ()

    @property
    def action(self) -> Action:
        """The strongest action the rule checks (what the audit trail calls a change)."""
        if self.kind != "checks":
            return Action.READ
        return max((check.action for check in self.checks), key=list(Action).index)


def _parse_check(text: str) -> Check:
    target, action = text.split()
    kind, _, place = target.partition(":")
    optional = kind.endswith("?")
    kind = kind.rstrip("?")
    if kind not in _KINDS or (kind == "workspace") != (place == ""):
        raise ValueError(f"bad permission check {text!r}")
    return Check(kind, Action(action), place or None, optional)


def parse_table(text: str) -> dict[tuple[str, str], Rule]:
    rules: dict[tuple[str, str], Rule] = {}
    for line in text.strip().splitlines():
        if not line.strip():
            continue
        method, path, rest = line.split(None, 2)
        rest = rest.strip()
        if rest in ("public", "signed-in", "admin"):
            rules[(method, path)] = Rule(rest)
        else:
            rules[(method, path)] = Rule("checks", tuple(_parse_check(part.strip()) for part in rest.split(";")))
    return rules


RULES = parse_table(PERMISSIONS)


def route_templates(app: Any) -> dict[tuple[int, str], str]:
    """(id of a route object, method) → the route's full path template, as the table spells it."""
    templates: dict[tuple[int, str], str] = {}
    for context in iter_route_contexts(app.router.routes):
        for method in context.methods or ():
            templates[(id(context.original_route), method)] = str(context.path)
    return templates


def rule_for(request: Request) -> tuple[str, Rule | None]:
    app = request.app
    templates = getattr(app.state, "route_templates", None)
    if templates is None:
        templates = app.state.route_templates = route_templates(app)
    method = request.method if request.method != "HEAD" else "GET"
    template = templates.get((id(request.scope.get("route")), method), request.url.path)
    return template, RULES.get((method, template))


async def _values(request: Request, place: str) -> list[str]:
    """The strings found at ``place`` in the request (none when it holds nothing)."""
    source, _, name = place.partition(".")
    name, _, segment = name.partition("/")
    found: Any
    if source == "path":
        found = request.path_params.get(name)
    elif source == "query":
        found = request.query_params.getlist(name)
    else:
        try:
            body = orjson.loads(await request.body() or b"{}")
        except orjson.JSONDecodeError:
            raise InvalidArgument("the request body is not valid JSON", field="body") from None
        listed, _, field = name.partition("[].")
        found = body.get(listed) if isinstance(body, dict) else None
        if field:  # NAME[].FIELD: FIELD of each object of the list NAME (a malformed list is the handler's to refuse)
            found = [item.get(field) for item in found if isinstance(item, dict)] if isinstance(found, list) else None
            found = [value for value in found if value is not None] if found is not None else None
    values = found if isinstance(found, list) else [] if found in (None, "") else [found]
    if not all(isinstance(value, str) for value in values):
        raise InvalidArgument(f"{name} must be a string or a list of strings", field=name)
    if segment:
        values = [value.strip("/").split("/")[0] for value in values]
    if source == "query" and name == "runs":
        values = [part.strip() for value in values for part in value.split(",") if part.strip()]
    return [value for value in values if value]


@dataclass(frozen=True)
class Named:
    """The workspace a request names, and whether naming one it may not use is an error (the header) or not (the
    UI's cookie)."""

    name: str | None
    strict: bool


def named_workspace(request: Request) -> Named:
    header = request.headers.get(WORKSPACE_HEADER)
    if header:
        return Named(header, strict=True)
    # The UI's script percent-encodes the name, so any workspace name fits in a cookie.
    return Named(unquote(request.cookies.get(WORKSPACE_COOKIE) or "") or None, strict=False)


@dataclass
class Decision:
    workspace_id: str | None
    objects: list[str]


class Authorizer:
    """Decides one request: the caller's roles, the workspaces of the objects it names, the checks."""

    def __init__(self, store: MetadataStore) -> None:
        self.store = store

    def roles(self, principal: Principal) -> dict[str, str]:
        if principal.user_id is None:
            return {}
        return {m.workspace_id: m.role for m in self.store.members.memberships(user_id=principal.user_id)}

    def current_workspace(self, principal: Principal, roles: dict[str, str], named: Named) -> str | None:
        """The request's workspace: the one it names (header, or the UI's cookie), else the caller's default, else
        their first; None when they belong to none. A header naming a workspace the caller may not use answers
        404; a cookie doing so (left by another account in the same browser) is ignored."""
        everything = principal.local or principal.system_admin
        if named.name:
            workspace = self.store.members.workspace_by_name_or_none(named.name)
            if workspace is not None and (everything or workspace.id in roles):
                return workspace.id
            if named.strict:
                raise NotFound(f"workspace {named.name!r} does not exist", field="workspace")
        if everything and principal.user_id is None:
            return DEFAULT_WORKSPACE_ID
        user = self.store.accounts.user_by_id(principal.user_id) if principal.user_id else None
        default = user.default_workspace_id if user else None
        if default and (everything or default in roles):
            return default
        if roles:
            return sorted(roles)[0] if DEFAULT_WORKSPACE_ID not in roles else DEFAULT_WORKSPACE_ID
        return DEFAULT_WORKSPACE_ID if everything else None

    def decide(
        self,
        principal: Principal,
        rule: Rule,
        values: dict[Check, list[str]],
        named_workspace: Named,
        decision: Decision | None = None,
    ) -> Decision:
        """Check ``rule``; ``decision`` (given, or a new one) collects the workspace and the objects as they are
        found, so that the audit trail can name them when a check refuses."""
        roles = self.roles(principal)
        workspace_id = self.current_workspace(principal, roles, named_workspace)
        decision = decision or Decision(None, [])
        decision.workspace_id = workspace_id
        if rule.kind == "admin" and not (principal.system_admin and principal.scope == "admin"):
            raise PermissionDenied("only administrators may do this (with a login or an admin-scoped token)")
        for check in rule.checks:
            if not scope_allows(principal.scope, check.action):
                raise PermissionDenied(f"this token's scope ({principal.scope}) does not allow {check.action.value}")
            if check.kind == "workspace":
                if workspace_id is None:
                    raise PermissionDenied("you belong to no workspace yet: ask an administrator to add you")
                self._require(principal, self._role(principal, roles, workspace_id, None), check.action)
                decision.objects.append(f"workspace:{workspace_id}")
                continue
            for object_id, (place_workspace, override) in self._places(check.kind, values[check], principal).items():
                self._require(
                    principal,
                    self._role(principal, roles, place_workspace, override),
                    check.action,
                    missing=f"{check.kind} {object_id!r} does not exist",
                )
                decision.objects.append(f"{check.kind}:{object_id}")
        return decision

    @staticmethod
    def _role(principal: Principal, roles: dict[str, str], workspace_id: str, override: str | None) -> str | None:
        if principal.local or principal.system_admin:
            return "owner"
        if override is not None and workspace_id in roles:
            return override
        return roles.get(workspace_id)

    @staticmethod
    def _require(principal: Principal, role: str | None, action: Action, missing: str | None = None) -> None:
        if role is None and missing is not None:
            # Not a member: the object's very existence is not theirs to learn.
            raise NotFound(missing)
        if not role_allows(role, action):
            shown = f"your role here is {role}" if role else "you are not a member of this workspace"
            raise PermissionDenied(f"{action.value} needs a role of at least {_least(action)}: {shown}")

    def _places(self, kind: str, ids: list[str], principal: Principal) -> dict[str, tuple[str, str | None]]:
        """object id → (its workspace id, the caller's per-project role there), for the objects that exist;
        missing ones are left to the handler, which answers its own 404."""
        members = self.store.members
        if kind == "source":
            runs, models = source_objects(ids)
            return {**self._places("run", runs, principal), **self._places("logged-model", models, principal)}
        if kind in ("run", "logged-model"):
            owners = members.run_projects(ids) if kind == "run" else members.logged_model_projects(ids)
            projects = members.project_places(owners.values(), principal.user_id)
            return {oid: projects[pid] for oid, pid in owners.items() if pid in projects}
        if kind == "project":
            return members.project_places(ids, principal.user_id)
        if kind == "workspace-name":
            found = {name: self.store.members.workspace_by_name_or_none(name) for name in ids}
            return {name: (workspace.id, None) for name, workspace in found.items() if workspace is not None}
        lookup: Callable[[list[str]], dict[str, str]] = (
            members.dataset_version_workspaces if kind == "dataset-version" else members.model_server_workspaces
        )
        return {oid: (workspace_id, None) for oid, workspace_id in lookup(ids).items()}


def _least(action: Action) -> str:
    return next(role for role in ROLES if role_allows(role, action))


async def authorize(request: Request) -> Principal:
    """The dependency of every route: identify, look up the route's rule, check it, enter the workspace."""
    state = request.app.state
    accounts: AccountService | None = state.accounts if state.settings_auth else None
    template, rule = rule_for(request)
    request.state.audit = {"template": template, "rule": rule, "actor": "anonymous", "objects": []}
    if rule is None:
        raise PermissionDenied(f"{request.method} {template} declares no permission, so nobody may call it")
    try:
        principal = await identify(request, accounts)
    except (Unauthenticated, PermissionDenied) as refused:
        if rule.kind != "public":
            # Who tried, when known (the session's user, the name sent with a password).
            request.state.audit["login"] = getattr(refused, "actor", None)
            raise
        principal = ANONYMOUS
    request.state.principal = principal
    request.state.audit["actor"] = principal.name
    if rule.kind == "public":
        return principal
    if principal is ANONYMOUS:
        raise Unauthenticated("sign in: send an API token (Authorization: Bearer …) or log in at /login")
    if rule.kind == "signed-in" and request.method not in SAFE_METHODS and principal.scope != "admin":
        raise PermissionDenied("managing an account needs a login or an admin-scoped token")
    named = named_workspace(request)
    if principal.local:
        # The local user owns everything: only the workspace is to be found (the default unless named).
        decision = Decision(DEFAULT_WORKSPACE_ID, [])
        if named.name:
            decision = await run_in_threadpool(state.authorizer.decide, principal, Rule("signed-in"), {}, named)
        request.state.audit.update(workspace_id=decision.workspace_id)
    else:
        values = {check: await _values(request, check.place) for check in rule.checks if check.place}
        for check in rule.checks:
            if check.place and not values[check] and not check.optional:
                name = check.place.split(".", 1)[1].split("/")[0]
                raise InvalidArgument(f"{name} is required", field=name)
        decision = Decision(None, [])
        try:
            await run_in_threadpool(state.authorizer.decide, principal, rule, values, named, decision)
        finally:
            request.state.audit.update(objects=decision.objects, workspace_id=decision.workspace_id)
    if decision.workspace_id is not None:
        enter_workspace(decision.workspace_id)
    request.state.workspace_id = decision.workspace_id
    return principal
