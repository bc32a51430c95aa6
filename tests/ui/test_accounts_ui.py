"""The account pages in a real browser, on a server with accounts on and a team in it (support/accounts.py): logging
in and out, the redirect of pages to the login page, personal API tokens, invitations, disabling an account, the
workspace switcher, the audit log, and who may open the administration page. Every page must load without a
console error (a CSP violation is one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest

from ridgeline.server.ui.views.accounts import safe_next
from support.accounts import OTHER_WORKSPACE, PASSWORD, Team, team_server
from support.browser import ConsoleLog, UiServer, navigate, wait_ready

LOGIN_BUTTON = "#login-form button[type='submit']"


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    home = tmp_path_factory.mktemp("accounts-ui")
    with team_server(home, f"sqlite:///{home / 'meta.db'}") as running:
        yield running


def log_in(page: Any, team: Team, who: str, path: str = "/") -> None:
    page.goto(f"{team.url}/login?next={quote(path)}")
    page.fill("#login-name", who)
    page.fill("#login-password", PASSWORD)
    navigate(page, lambda: page.click(LOGIN_BUTTON))


def path_of(page: Any) -> str:
    parts = urlsplit(page.url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def new_tab(browser: Any, console: ConsoleLog) -> Any:
    """A page in a second browser context (its own cookies), reporting console errors like the `page` fixture."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.on("console", lambda message: console.errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: console.errors.append(f"uncaught: {error}"))
    return tab


def confirm(page: Any) -> None:
    """Press the confirmation dialog's button and wait for the page it reloads."""
    page.wait_for_selector("#confirm-dialog[open]")
    navigate(page, lambda: page.click("#confirm-ok"))


def test_a_page_sends_the_visitor_to_log_in_and_back(team: Team, page: Any, console: ConsoleLog) -> None:
    console.expect("401")  # the wrong password's answer
    response = page.goto(f"{team.url}/models?q=churn")
    assert response is not None and response.status == 200
    assert path_of(page) == "/login?next=%2Fmodels%3Fq%3Dchurn"
    wait_ready(page)
    page.fill("#login-name", "editor")
    page.fill("#login-password", "not the password at all")
    page.click(LOGIN_BUTTON)
    error = page.locator("#login-error")
    error.wait_for(state="visible")
    assert "wrong user name or password" in error.inner_text()
    page.fill("#login-password", PASSWORD)
    navigate(page, lambda: page.click(LOGIN_BUTTON))
    assert path_of(page) == "/models?q=churn"
    assert page.locator("#account-link").inner_text() == "editor"
    # Editors are no administrators: no Admin link, no audit link.
    assert page.locator(".account-nav a[href='/admin']").count() == 0
    assert page.locator("meta[name='csrf-token']").count() == 1


def test_next_is_only_ever_a_path_on_this_site(team: Team, page: Any) -> None:
    for sneaky in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        assert safe_next(sneaky) == "/"
    assert safe_next("/runs/abc?tab=artifacts") == "/runs/abc?tab=artifacts"
    log_in(page, team, "viewer", "//evil.example/steal")
    assert urlsplit(page.url).netloc == urlsplit(team.url).netloc
    assert path_of(page) == "/"


def test_a_personal_token_is_shown_once_works_and_can_be_revoked(team: Team, page: Any) -> None:
    log_in(page, team, "editor", "/account")
    assert path_of(page) == "/account"
    page.click("#token-open")
    page.fill("#token-name", "laptop")
    page.select_option("#token-scope", "read")
    page.click("#token-form button[type='submit']")
    page.wait_for_selector("#secret-dialog[open]")
    assert "won't see it again" in page.locator("#secret-warning").inner_text()
    secret = page.input_value("#secret-value")
    assert secret.startswith("rl_")
    with httpx.Client(base_url=team.url, headers={"Authorization": f"Bearer {secret}"}) as client:
        assert client.get("/api/v1/projects").status_code == 200
        # A read token writes nothing.
        assert client.post("/api/v1/projects", json={"name": "from-read-token"}).status_code == 403
        navigate(page, lambda: page.click("#secret-done"))
        assert secret not in page.content()
        row = page.locator("#tokens tr[data-token-name='laptop']")
        prefix = row.locator("td").nth(1).inner_text().removesuffix("…")
        assert len(prefix) >= 6 and secret.startswith(prefix)
        assert "active" in row.inner_text()
        row.locator("[data-revoke]").click()
        confirm(page)
        assert "revoked" in page.locator("#tokens tr[data-token-name='laptop']").inner_text()
        answer = client.get("/api/v1/projects")
        assert answer.status_code == 401


def test_an_invitation_link_creates_a_member_who_lands_signed_in(
    team: Team, page: Any, browser: Any, console: ConsoleLog
) -> None:
    log_in(page, team, "admin", "/admin?tab=invitations")
    page.click("#invitation-open")
    page.select_option("#invitation-workspace", "default")
    page.select_option("#invitation-role", "maintainer")
    page.fill("#invitation-note", "for dana")
    page.click("#invitation-form button[type='submit']")
    page.wait_for_selector("#secret-dialog[open]")
    link = page.input_value("#secret-value")
    assert link.startswith(f"{team.url}/invitation?token=")
    navigate(page, lambda: page.click("#secret-done"))
    assert "for dana" in page.locator("#invitations").inner_text()

    guest = new_tab(browser, console)
    try:
        guest.goto(link)
        wait_ready(guest)
        assert "default" in guest.locator("#invitation-offer").inner_text()
        assert "maintainer" in guest.locator("#invitation-offer").inner_text()
        guest.fill("#invite-name", "dana")
        guest.fill("#invite-display", "Dana Scully")
        guest.fill("#invite-password", "trust no one, ever")
        guest.fill("#invite-repeat", "trust no one, ever!")
        guest.click("#invitation-form button[type='submit']")
        guest.locator("#invitation-error").wait_for(state="visible")
        assert "differ" in guest.locator("#invitation-error").inner_text()
        guest.fill("#invite-repeat", "trust no one, ever")
        navigate(guest, lambda: guest.click("#invitation-form button[type='submit']"))
        assert path_of(guest) == "/"
        assert guest.locator("#account-link").inner_text() == "dana"
        assert guest.locator("#workspace-switch").input_value() == "default"
        # Maintainers see their workspace's audit log.
        assert guest.locator(".account-nav a[href='/admin/audit']").count() == 1
    finally:
        guest.context.close()
    members = team.client("admin").get("/api/v1/workspaces/default/members").json()["members"]
    assert {"workspace": "default", "user": "dana", "role": "maintainer"} in members
    # The link worked once.
    page.goto(link)
    assert "can't be used" in page.locator("main").inner_text()
    console.expect("404")


def test_disabling_an_account_ends_its_session(team: Team, page: Any, browser: Any, console: ConsoleLog) -> None:
    admin = team.client("admin")
    created = admin.post(
        "/api/v1/users",
        json={"name": "temp", "password": PASSWORD, "workspace": "default", "role": "viewer"},
    )
    assert created.status_code == 201, created.text
    other = new_tab(browser, console)
    try:
        log_in(other, team, "temp", "/models")
        assert path_of(other) == "/models"

        log_in(page, team, "admin", "/admin")
        row = page.locator("#users tr[data-user='temp']")
        row.locator("[data-action='disable']").click()
        confirm(page)
        assert "disabled" in page.locator("#users tr[data-user='temp']").inner_text()

        other.goto(f"{team.url}/models")
        assert path_of(other) == "/login?next=%2Fmodels"
        wait_ready(other)
        other.fill("#login-name", "temp")
        other.fill("#login-password", PASSWORD)
        other.click(LOGIN_BUTTON)
        other.locator("#login-error").wait_for(state="visible")
        console.expect("401")

        # Enabled again, the account can log in again.
        navigate(page, lambda: page.locator("#users tr[data-user='temp'] [data-action='enable']").click())
        assert "active" in page.locator("#users tr[data-user='temp']").inner_text()
        other.fill("#login-password", PASSWORD)
        navigate(other, lambda: other.click(LOGIN_BUTTON))
        assert path_of(other) == "/models"
    finally:
        other.context.close()


def test_the_workspace_switcher_changes_what_is_listed(team: Team, page: Any) -> None:
    outsider = team.client("outsider", **{"X-Ridgeline-Workspace": OTHER_WORKSPACE})
    assert outsider.post("/api/v1/projects", json={"name": "far-away"}).status_code == 201
    assert outsider.put(f"/api/v1/workspaces/{OTHER_WORKSPACE}/members/editor", json={"role": "viewer"}).is_success
    team.client("editor").post("/api/v1/projects", json={"name": "close-by"}).raise_for_status()

    log_in(page, team, "editor")
    switch = page.locator("#workspace-switch")
    assert switch.input_value() == "default"
    assert page.locator("#projects a", has_text="close-by").count() == 1
    assert page.locator("#projects a", has_text="far-away").count() == 0

    navigate(page, lambda: switch.select_option(OTHER_WORKSPACE))
    assert page.locator("#workspace-switch").input_value() == OTHER_WORKSPACE
    assert page.locator("#projects a", has_text="far-away").count() == 1
    assert page.locator("#projects a", has_text="close-by").count() == 0
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["ridgeline_workspace"]["value"] == OTHER_WORKSPACE
    assert cookies["ridgeline_workspace"]["sameSite"] == "Lax"
    # Viewers there: the project's page opens, no audit link.
    assert page.locator(".account-nav a[href='/admin/audit']").count() == 0


def test_a_workspace_choice_that_is_not_the_users_is_dropped(team: Team, page: Any, console: ConsoleLog) -> None:
    """A workspace chosen in this browser by another account: the server ignores the choice (the user's own
    workspace answers) and the page drops it."""
    log_in(page, team, "viewer")
    page.context.add_cookies([{"name": "ridgeline_workspace", "value": OTHER_WORKSPACE, "url": team.url}])
    response = page.goto(f"{team.url}/")
    assert response is not None and response.status == 200
    page.wait_for_selector("main h1:text-is('Projects')")
    wait_ready(page)
    assert page.locator("#workspace-switch").input_value() == "default"
    assert "ridgeline_workspace" not in {cookie["name"] for cookie in page.context.cookies()}


def test_logging_out_ends_the_session(team: Team, page: Any) -> None:
    log_in(page, team, "owner", "/account")
    cookie = next(c for c in page.context.cookies() if c["name"] == "ridgeline_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    with page.expect_navigation(url="**/login"):
        page.click("#logout")
    wait_ready(page)
    assert page.locator("#login-form").count() == 1
    page.goto(f"{team.url}/account")
    assert path_of(page) == "/login?next=%2Faccount"
    # The old cookie is worth nothing now.
    with httpx.Client(base_url=team.url, cookies={"ridgeline_session": cookie["value"]}) as client:
        assert client.get("/api/v1/account").status_code == 401


def test_the_audit_log_lists_logins_and_changes(team: Team, page: Any) -> None:
    team.client("editor").post("/api/v1/projects", json={"name": "audited-project"}).raise_for_status()
    log_in(page, team, "admin", "/admin/audit")
    assert path_of(page) == "/admin/audit"
    table = page.locator("#audit")
    assert table.locator("tr[data-action='accounts.log_in']").count() >= 1
    created = table.locator("tr[data-action='projects.create_project']", has_text="editor")
    assert created.count() >= 1
    # Local time, in full.
    assert "UTC" not in created.first.locator("time").inner_text()
    page.fill("input[name='actor']", "admin")
    page.fill("input[name='action']", "accounts.log_in")
    navigate(page, lambda: page.click("#audit-filters button[type='submit']"))
    rows = page.locator("#audit tbody tr")
    assert rows.count() >= 1
    assert set(rows.evaluate_all("rows => rows.map(row => row.dataset.action)")) == {"accounts.log_in"}
    assert "tz=" not in page.url  # no date: no time zone either


def test_a_refused_change_is_colored_in_the_audit_log(team: Team, page: Any) -> None:
    assert team.client("viewer").post("/api/v1/projects", json={"name": "not-allowed"}).status_code == 403
    log_in(page, team, "admin", "/admin/audit?actor=viewer")
    refused = page.locator("#audit tr[data-action='projects.create_project'] .http-status")
    assert refused.first.inner_text() == "403"
    assert "status-4xx" in (refused.first.get_attribute("class") or "")


def test_only_administrators_open_the_administration_page(team: Team, page: Any, console: ConsoleLog) -> None:
    console.expect("403")
    log_in(page, team, "maintainer")
    response = page.goto(f"{team.url}/admin")
    assert response is not None and response.status == 403
    assert "only administrators" in page.locator("main").inner_text()
    # A maintainer reads their workspace's audit log, nobody else's.
    response = page.goto(f"{team.url}/admin/audit")
    assert response is not None and response.status == 200
    assert "workspace default" in page.locator(".lead").inner_text()


def test_administrators_manage_workspaces_and_members(team: Team, page: Any, console: ConsoleLog) -> None:
    console.expect("409")  # the refused removal of the last owner
    log_in(page, team, "admin", "/admin?tab=workspaces")
    page.fill("#workspace-name", "lab")
    page.select_option("#workspace-owner", "owner")
    navigate(page, lambda: page.click("#workspace-form button[type='submit']"))
    assert path_of(page) == "/admin?tab=workspaces&workspace=lab"
    assert page.locator("#member-table tr[data-member='owner'] select").input_value() == "owner"

    page.select_option("#member-user", "viewer")
    page.select_option("#member-role", "editor")
    navigate(page, lambda: page.click("#member-form button[type='submit']"))
    navigate(page, lambda: page.select_option("#member-table tr[data-member='viewer'] select", "maintainer"))
    assert page.locator("#member-table tr[data-member='viewer'] select").input_value() == "maintainer"
    members = team.client("admin").get("/api/v1/workspaces/lab/members").json()["members"]
    assert {"workspace": "lab", "user": "viewer", "role": "maintainer"} in members

    # The last owner can't go: the refusal is shown and nothing changes.
    page.locator("#member-table tr[data-member='owner'] [data-remove]").click()
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-ok")
    page.locator("#admin-error").wait_for(state="visible")
    assert "must keep an owner" in page.locator("#admin-error").inner_text()

    page.locator("#member-table tr[data-member='viewer'] [data-remove]").click()
    confirm(page)
    assert page.locator("#member-table tr[data-member='viewer']").count() == 0


def test_administrators_create_a_service_account_and_its_token(team: Team, page: Any) -> None:
    log_in(page, team, "admin", "/admin")
    page.click("#user-open")
    page.check("#user-form input[name='kind'][value='service']")
    assert page.locator("#user-password-fields").is_hidden()
    page.fill("#user-name", "ci-bot")
    page.select_option("#user-workspace", "default")
    page.select_option("#user-role", "editor")
    navigate(page, lambda: page.click("#user-form button[type='submit']"))
    row = page.locator("#users tr[data-user='ci-bot']")
    assert "service" in row.inner_text() and "default (editor)" in row.inner_text()
    row.locator("[data-action='token']").click()
    page.fill("#token-name", "ci")
    page.click("#token-form button[type='submit']")
    page.wait_for_selector("#secret-dialog[open]")
    secret = page.input_value("#secret-value")
    with httpx.Client(base_url=team.url, headers={"Authorization": f"Bearer {secret}"}) as client:
        assert client.post("/api/v1/projects", json={"name": "from-ci"}).status_code == 201


@pytest.mark.parametrize(
    "path",
    [
        "/account",
        "/admin",
        "/admin?tab=tokens",
        "/admin?tab=invitations",
        "/admin?tab=workspaces&workspace=default",
        "/admin/audit",
        "/signup",
        "/",
    ],
)
def test_every_account_page_loads_cleanly(team: Team, page: Any, path: str) -> None:
    """The page fixture fails the test on any console error: a CSP violation, a script error, a failed request."""
    log_in(page, team, "admin", path)
    assert path_of(page) == path
    assert page.locator("main h1").count() == 1
    assert page.locator("#account-link").inner_text() == "admin"
    assert page.locator(".account-nav a[href='/admin']").count() == 1


def test_signup_is_off_unless_the_server_allows_it(team: Team, page: Any) -> None:
    page.goto(f"{team.url}/signup")
    wait_ready(page)
    assert "Sign-up is off" in page.locator("main h1").inner_text()
    assert page.locator("#signup-form").count() == 0


def test_signing_up_where_it_is_allowed(tmp_path: Path, page: Any) -> None:
    with team_server(tmp_path, f"sqlite:///{tmp_path / 'meta.db'}", signup=True) as open_team:
        page.goto(f"{open_team.url}/signup")
        wait_ready(page)
        page.fill("#signup-name", "newcomer")
        page.fill("#signup-password", PASSWORD)
        page.fill("#signup-repeat", PASSWORD)
        navigate(page, lambda: page.click("#signup-form button[type='submit']"))
        assert path_of(page) == "/account"
        assert page.locator("#account-link").inner_text() == "newcomer"
        assert "no workspace yet" in page.locator("main").inner_text()


def test_local_mode_shows_no_account_bar(ui_server: UiServer, page: Any) -> None:
    page.goto(ui_server.page_url("/"))
    wait_ready(page)
    assert page.locator(".mode-badge").inner_text() == "local mode"
    assert page.locator("#logout").count() == 0
    assert page.locator("meta[name='csrf-token']").count() == 0
    page.goto(ui_server.page_url("/login"))
    wait_ready(page)
    assert "No accounts on this server" in page.locator("main h1").inner_text()
