"""``ridgeline users|tokens|workspaces|audit|invite`` as an operator types them, on a data folder's database (and
once on PostgreSQL, against a real server with accounts on)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from typer.testing import CliRunner, Result

from ridgeline.cli.main import app
from ridgeline.config import sqlite_uri
from ridgeline.domain.errors import Unauthenticated
from ridgeline.domain.ids import now_ms
from ridgeline.services.accounts import AccountService
from ridgeline.store.metadata import MetadataStore
from support.servers import running_server

PASSWORD = "correct horse battery staple"


def invoke(home: Path, *args: str, input: str | None = None, backend_uri: str | None = None) -> Result:
    where = ["--backend-uri", backend_uri] if backend_uri else ["--home", str(home)]
    return CliRunner().invoke(app, [*args, *where], input=input, env={"COLUMNS": "250"})


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def assert_clean_error(result: Result, *fragments: str) -> None:
    """Exit 1 with one line on stderr that starts with 'error' and names what is wrong; never a traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error")
    for fragment in fragments:
        assert fragment in lines[0]


@contextmanager
def accounts(home: Path, backend_uri: str | None = None) -> Iterator[AccountService]:
    store = MetadataStore(backend_uri or sqlite_uri(home))
    try:
        yield AccountService(store)
    finally:
        store.close()


def create_person(home: Path, name: str, *options: str) -> Result:
    return ok(invoke(home, "users", "create", name, "--password-stdin", *options, input=PASSWORD + "\n"))


def test_create_a_person_with_a_password_from_stdin(home: Path) -> None:
    result = create_person(home, "alice", "--workspace", "default", "--role", "editor", "--email", "a@x.org")
    assert result.stdout == "created user alice (system role user, editor of workspace default)\n"
    with accounts(home) as service:
        user = service.check_password("alice", PASSWORD)
        assert (user.kind, user.system_role, user.email, user.created_by[:4]) == ("user", "user", "a@x.org", "cli:")
        assert [(m.workspace_name, m.role) for m in service.store.members.memberships(user_id=user.id)] == [
            ("default", "editor")
        ]


def test_create_asks_for_the_password_twice_without_echo(home: Path) -> None:
    result = ok(invoke(home, "users", "create", "root", "--admin", input=f"{PASSWORD}\n{PASSWORD}\n"))
    assert PASSWORD not in result.output
    assert result.stdout.splitlines()[-1] == "created user root (system role admin)"
    with accounts(home) as service:
        assert service.check_password("root", PASSWORD).system_role == "admin"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "a password is required"),
        ("short pass", "at least 12 characters"),
        ("password1234", "too easy to guess"),
        ("bob-the-builder-1", "must not contain the user name"),
    ],
)
def test_a_weak_password_is_refused_and_nothing_is_created(home: Path, password: str, message: str) -> None:
    result = invoke(home, "users", "create", "bob", "--password-stdin", "--workspace", "default", "--role", "viewer",
                    input=password + "\n")  # fmt: skip
    assert_clean_error(result, "error (password):", message)
    with accounts(home) as service:
        assert service.list_users() == []
        assert service.store.members.memberships() == []


def test_bad_names_roles_and_duplicates_are_refused_before_the_password_is_asked(home: Path) -> None:
    create_person(home, "alice")
    assert_clean_error(invoke(home, "users", "create", "alice"), "error (name):", "already exists")
    assert_clean_error(invoke(home, "users", "create", "Not Valid"), "error (name):", "not valid")
    assert_clean_error(invoke(home, "users", "create", "carol", "--workspace", "default"), "error (role):")
    assert_clean_error(
        invoke(home, "users", "create", "carol", "--workspace", "default", "--role", "boss"), "error (role):", "boss"
    )
    assert_clean_error(
        invoke(home, "users", "create", "carol", "--workspace", "nowhere", "--role", "viewer"), "nowhere"
    )
    with accounts(home) as service:
        assert [user.name for user in service.list_users()] == ["alice"]


def test_a_service_account_has_no_password_and_is_pointed_to_tokens(home: Path) -> None:
    result = ok(invoke(home, "users", "create", "ci-bot", "--service", "--workspace", "default", "--role", "editor"))
    assert result.stdout.startswith("created service account ci-bot")
    assert "ridgeline tokens create --user ci-bot" in result.stderr
    with accounts(home) as service:
        assert service.get_user("ci-bot").kind == "service"
        with pytest.raises(Unauthenticated):
            service.check_password("ci-bot", "")
    assert_clean_error(
        invoke(home, "users", "create", "other", "--service", "--password-stdin", input=PASSWORD + "\n"),
        "no password",
    )
    assert_clean_error(invoke(home, "users", "set-password", "ci-bot", "--password-stdin", input=PASSWORD + "\n"))


def test_list_as_a_table_and_as_json(home: Path) -> None:
    create_person(home, "alice", "--workspace", "default", "--role", "maintainer")
    ok(invoke(home, "users", "create", "ci", "--service"))
    ok(invoke(home, "workspaces", "create", "team", "--owner", "alice"))
    with accounts(home) as service:
        service.start_session(service.get_user("alice"), "127.0.0.1")
    table = ok(invoke(home, "users", "list")).stdout
    alice = next(line for line in table.splitlines() if "alice" in line)
    assert "default (maintainer), team (owner)" in alice
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", alice)  # the last login
    assert "service" in next(line for line in table.splitlines() if " ci " in line)
    body = json.loads(ok(invoke(home, "users", "list", "--json")).stdout)
    by_name = {user["name"]: user for user in body["users"]}
    assert by_name["alice"]["workspaces"] == [
        {"workspace": "default", "user": "alice", "role": "maintainer"},
        {"workspace": "team", "user": "alice", "role": "owner"},
    ]
    assert by_name["alice"]["last_login_at"] is not None
    assert (by_name["ci"]["kind"], by_name["ci"]["disabled"], by_name["ci"]["workspaces"]) == ("service", False, [])


def test_disable_and_enable(home: Path) -> None:
    ok(invoke(home, "users", "create", "ci", "--service"))
    secret = ok(invoke(home, "tokens", "create", "--user", "ci", "--name", "ci")).stdout.strip()
    assert ok(invoke(home, "users", "disable", "ci")).stdout == "ci: disabled\n"
    with accounts(home) as service, pytest.raises(Unauthenticated, match="disabled"):
        service.verify_token(secret)
    assert json.loads(ok(invoke(home, "users", "list", "--json")).stdout)["users"][0]["disabled"] is True
    assert ok(invoke(home, "users", "enable", "ci")).stdout == "ci: enabled\n"
    with accounts(home) as service:
        assert service.verify_token(secret)[0].name == "ci"
    assert_clean_error(invoke(home, "users", "disable", "nobody"), "nobody")


def test_set_role_system_and_workspace(home: Path) -> None:
    create_person(home, "alice")
    create_person(home, "bob")
    assert ok(invoke(home, "users", "set-role", "alice", "admin")).stdout == "alice: system role admin\n"
    result = ok(invoke(home, "users", "set-role", "bob", "viewer", "--workspace", "default"))
    assert result.stdout == "bob: role in workspace default viewer\n"
    ok(invoke(home, "users", "set-role", "bob", "owner", "--workspace", "default"))
    with accounts(home) as service:
        assert service.get_user("alice").system_role == "admin"
        assert [(m.user_name, m.role) for m in service.store.members.memberships()] == [("bob", "owner")]
    members = json.loads(ok(invoke(home, "workspaces", "members", "default", "--json")).stdout)
    assert members == {"members": [{"user": "bob", "role": "owner"}]}
    assert_clean_error(invoke(home, "users", "set-role", "alice", "user"), "last active admin")
    assert_clean_error(invoke(home, "users", "set-role", "bob", "viewer", "--workspace", "default"), "keep an owner")
    assert_clean_error(invoke(home, "users", "set-role", "bob", "root"), "error (system_role):")
    assert_clean_error(invoke(home, "users", "set-role", "bob", "boss", "--workspace", "default"), "error (role):")


def test_set_password(home: Path) -> None:
    create_person(home, "alice")
    new = "a much longer passphrase now"
    assert_clean_error(invoke(home, "users", "set-password", "alice", "--password-stdin", input="tiny\n"), "12")
    ok(invoke(home, "users", "set-password", "alice", input=f"{new}\n{new}\n"))
    with accounts(home) as service:
        assert service.check_password("alice", new).name == "alice"
        with pytest.raises(Unauthenticated):
            service.check_password("alice", PASSWORD)


def test_a_token_is_printed_once_alone_on_stdout_and_works(home: Path) -> None:
    ok(invoke(home, "users", "create", "ci", "--service"))
    result = ok(invoke(home, "tokens", "create", "--user", "ci", "--name", "github actions", "--scope", "read"))
    secret = result.stdout.strip()
    assert result.stdout == secret + "\n"
    assert secret.startswith("rl_")
    assert "RIDGELINE_TRACKING_TOKEN" in result.stderr and "MLFLOW_TRACKING_TOKEN" in result.stderr
    assert secret not in result.stderr
    with accounts(home) as service:
        user, token = service.verify_token(secret)
    assert (user.name, token.name, token.scope) == ("ci", "github actions", "read")
    assert token.expires_at is not None and 89 < (token.expires_at - now_ms()) / 86_400_000 <= 90
    forever = ok(invoke(home, "tokens", "create", "--user", "ci", "--name", "forever", "--no-expiry")).stdout.strip()
    short = ok(invoke(home, "tokens", "create", "--user", "ci", "--name", "short", "--expires-days", "1")).stdout
    with accounts(home) as service:
        assert service.verify_token(forever)[1].expires_at is None
        expires = service.verify_token(short.strip())[1].expires_at
        assert expires is not None and expires - now_ms() <= 86_400_000
    assert_clean_error(
        invoke(home, "tokens", "create", "--user", "ci", "--name", "x", "--no-expiry", "--expires-days", "3"),
        "not both",
    )
    assert_clean_error(invoke(home, "tokens", "create", "--user", "ci", "--name", "x", "--scope", "all"), "scope")
    assert_clean_error(invoke(home, "tokens", "create", "--user", "ghost", "--name", "x"), "ghost")


def test_list_never_shows_a_token_and_revoke_stops_it(home: Path) -> None:
    create_person(home, "alice")
    ok(invoke(home, "users", "create", "ci", "--service"))
    secret = ok(invoke(home, "tokens", "create", "--user", "ci", "--name", "deploy")).stdout.strip()
    ok(invoke(home, "tokens", "create", "--user", "alice", "--name", "laptop"))
    table = ok(invoke(home, "tokens", "list")).stdout
    raw = ok(invoke(home, "tokens", "list", "--json")).stdout
    assert secret not in table and secret not in raw
    assert secret[:10] in table
    tokens = json.loads(raw)["tokens"]
    assert {token["name"] for token in tokens} == {"deploy", "laptop"}
    assert all("token" not in token for token in tokens)
    only_ci = json.loads(ok(invoke(home, "tokens", "list", "--user", "ci", "--json")).stdout)["tokens"]
    assert [(token["user"], token["prefix"], token["revoked_at"]) for token in only_ci] == [("ci", secret[:10], None)]
    result = ok(invoke(home, "tokens", "revoke", only_ci[0]["id"]))
    assert result.stdout.startswith(f"token {only_ci[0]['id']} (deploy, of ci): revoked")
    with accounts(home) as service, pytest.raises(Unauthenticated, match="revoked"):
        service.verify_token(secret)
    after = json.loads(ok(invoke(home, "tokens", "list", "--user", "ci", "--json")).stdout)["tokens"]
    assert after[0]["revoked_at"] is not None
    assert_clean_error(invoke(home, "tokens", "revoke", "0" * 32), "does not exist")


def test_workspaces_create_list_members_delete(home: Path) -> None:
    create_person(home, "alice")
    assert ok(invoke(home, "workspaces", "create", "vision", "--owner", "alice")).stdout == (
        "created workspace vision, owned by alice\n"
    )
    ok(invoke(home, "workspaces", "create", "empty"))
    listed = json.loads(ok(invoke(home, "workspaces", "list", "--json")).stdout)["workspaces"]
    assert [(w["name"], w["members"]) for w in listed] == [("default", 0), ("empty", 0), ("vision", 1)]
    assert "vision" in ok(invoke(home, "workspaces", "list")).stdout
    assert "alice" in ok(invoke(home, "workspaces", "members", "vision")).stdout
    assert_clean_error(invoke(home, "workspaces", "create", "vision"), "already exists")
    assert_clean_error(invoke(home, "workspaces", "create", "x", "--owner", "ghost"), "ghost")
    assert_clean_error(invoke(home, "workspaces", "delete", "default"), "cannot be deleted")
    ok(invoke(home, "workspaces", "delete", "vision"))
    assert_clean_error(invoke(home, "workspaces", "members", "vision"), "does not exist")
    with accounts(home) as service:
        assert service.store.members.memberships() == []


def test_audit_lists_entries_newest_first_with_filters(home: Path) -> None:
    base = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    entry = {"method": "POST", "path": "/api/v1/projects", "workspace_id": None, "remote_addr": "10.0.0.7",
             "status": 201}  # fmt: skip
    with accounts(home) as service:
        service.store.audit.append(
            [
                {**entry, "at": base, "actor": "alice", "action": "projects.create_project", "object": "project:p1"},
                {**entry, "at": base + 3_600_000, "actor": "bob", "action": "runs.create_run", "object": "project:p1"},
                {**entry, "at": base + 7_200_000, "actor": "alice", "action": "runs.delete_run", "object": "run:r9"},
            ]
        )
    create_person(home, "carol")  # recorded by the command itself

    def actions(*options: str) -> list[str]:
        body = json.loads(ok(invoke(home, "audit", "--json", *options)).stdout)
        return [entry["action"] for entry in body["entries"]]

    assert actions() == ["cli.create_user", "runs.delete_run", "runs.create_run", "projects.create_project"]
    assert actions("--actor", "alice") == ["runs.delete_run", "projects.create_project"]
    assert actions("--action", "runs.create_run") == ["runs.create_run"]
    assert actions("--object", "p1") == ["runs.create_run", "projects.create_project"]
    assert actions("--since", "2026-01-01T01:00", "--until", str(base + 7_200_000)) == ["runs.create_run"]
    # 02:00 at +01:00 is 01:00 UTC; a date alone is its midnight (UTC)
    assert actions("--since", "2026-01-01T02:00:00+01:00", "--until", "2026-01-02") == [
        "runs.delete_run",
        "runs.create_run",
    ]
    assert actions("--limit", "1") == ["cli.create_user"]
    mine = json.loads(ok(invoke(home, "audit", "--json", "--limit", "1")).stdout)["entries"][0]
    assert (mine["method"], mine["path"], mine["object"]) == ("CLI", "ridgeline users create", "user:carol")
    assert mine["actor"].startswith("cli:")
    table = ok(invoke(home, "audit", "--actor", "bob")).stdout
    assert "2026-01-01 01:00:00" in table and "10.0.0.7" in table and "201" in table
    assert_clean_error(invoke(home, "audit", "--since", "last week"), "error (since):")


def test_invite_prints_a_link_whose_token_works(home: Path) -> None:
    ok(invoke(home, "workspaces", "create", "vision"))
    result = ok(invoke(home, "invite", "--workspace", "vision", "--role", "editor", "--days", "2",
                       "--url", "https://ml.example.org/"))  # fmt: skip
    link = result.stdout.strip()
    assert result.stdout == link + "\n"
    assert link.startswith("https://ml.example.org/invitation?token=")
    assert "editor" in result.stderr
    token = parse_qs(urlsplit(link).query)["token"][0]
    with accounts(home) as service:
        invitation = service.invitation(token)
        assert (invitation.role, invitation.system_role) == ("editor", "user")
        assert invitation.workspace_id == service.store.members.workspace_by_name("vision").id
        assert invitation.expires_at - now_ms() <= 2 * 86_400_000
        service.accept(token, "dana", PASSWORD)
        assert [m.workspace_name for m in service.store.members.memberships(user_id=service.get_user("dana").id)] == [
            "vision"
        ]
    admin_link = ok(invoke(home, "invite", "--admin")).stdout.strip()
    assert admin_link.startswith("http://127.0.0.1:5170/invitation?token=")
    with accounts(home) as service:
        assert service.invitation(parse_qs(urlsplit(admin_link).query)["token"][0]).system_role == "admin"
    assert_clean_error(invoke(home, "invite", "--role", "editor"), "error (role):")
    assert_clean_error(invoke(home, "invite", "--days", "100"), "90 days")


def test_a_token_from_the_cli_opens_a_real_server(home: Path, backend_uri: str) -> None:
    """On SQLite and PostgreSQL: a CI service account and its token, made by the CLI, against a server with accounts."""
    with running_server(home, backend_uri, auth=True) as url:
        ok(invoke(home, "users", "create", "ci", "--service", "--workspace", "default", "--role", "editor",
                  backend_uri=backend_uri))  # fmt: skip
        secret = ok(invoke(home, "tokens", "create", "--user", "ci", "--name", "ci", backend_uri=backend_uri)).stdout
        bearer = {"Authorization": f"Bearer {secret.strip()}"}
        assert httpx.get(f"{url}/api/v1/projects", headers=bearer).status_code == 200
        assert httpx.get(f"{url}/api/v1/projects").status_code == 401
        mlflow = httpx.post(f"{url}/api/2.0/mlflow/experiments/search", headers=bearer, json={"max_results": 10})
        assert mlflow.status_code == 200, mlflow.text
        token_id = json.loads(ok(invoke(home, "tokens", "list", "--json", backend_uri=backend_uri)).stdout)["tokens"]
        ok(invoke(home, "tokens", "revoke", token_id[0]["id"], backend_uri=backend_uri))
        assert httpx.get(f"{url}/api/v1/projects", headers=bearer).status_code == 401
