"""Model registry pages in a real browser: the models list with search, a model's aliases, versions, lineage,
alias history and metrics comparison, the servers serving it, keyboard use, and both colour themes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import ridgeline
from support.browser import UiServer, assert_focus_visible, navigate, open_page, tab_until, wait_ready
from support.servers import running_server


@dataclass(frozen=True)
class Seeded:
    name: str
    runs: list[str]


def seed_model(server: UiServer, name: str, tmp_path: Path, versions: int = 3) -> Seeded:
    """``versions`` versions of ``name`` from real runs (each with metrics, a dataset and a commit tag); the
    ``champion`` alias is set on version 1 then moved to 2 (when there is one), ``challenger`` on the newest."""
    frame = pd.DataFrame({"tenure": [1, 5, 9, 14], "plan": ["free", "pro", "pro", "team"]})
    weights = tmp_path / "weights.txt"
    weights.write_text("0.1 0.2 0.3\n")
    runs = []
    for index in range(versions):
        with ridgeline.start_run(project="models-ui", tracking_uri=server.url, name=f"{name}-train-{index}") as run:
            run.log_metrics({"accuracy": 0.80 + 0.05 * index, "log_loss": 0.5 - 0.1 * index})
            run.set_tags({"ridgeline.git.commit": f"{index + 1:x}" * 40})
            run.log_dataset(frame.assign(tenure=frame.tenure + index), name=f"{name}-data", context="training")
            run.log_artifact(str(weights), name="model/weights.txt")
            runs.append(run.id)
    with ridgeline.Client(tracking_uri=server.url) as client:
        client.create_model(name, description="Predicts who <b>leaves</b> next month", tags={"team": "growth"})
        for run_id in runs:
            client.create_model_version(name, f"runs:/{run_id}/model", tags={"trained_on": "weekly"})
        client.set_model_alias(name, "champion", 1)
        if versions > 1:
            client.set_model_alias(name, "champion", 2)
        client.set_model_alias(name, "challenger", versions)
    return Seeded(name, runs)


def texts(page: Any, selector: str) -> list[str]:
    return [text.strip() for text in page.locator(selector).all_inner_texts()]


def test_models_list_shows_each_model_and_searches_by_name(ui_server: UiServer, page: Any, tmp_path: Path) -> None:
    seed_model(ui_server, "churn-list", tmp_path, versions=2)
    seed_model(ui_server, "fraud-list", tmp_path, versions=1)
    open_page(page, ui_server, "/")
    navigate(page, lambda: page.locator("nav[aria-label='Main'] a", has_text="Models").click())
    row = page.locator("#models tr", has_text="churn-list")
    cells = row.locator("td").all_inner_texts()
    assert cells[1] == "2"
    assert "champion v2" in cells[2] and "challenger v2" in cells[2]
    assert "Predicts who <b>leaves</b> next month" in cells[4]
    assert page.locator("#models b").count() == 0

    page.fill("#model-search", "FRAUD")
    navigate(page, lambda: page.keyboard.press("Enter"))
    assert texts(page, "#models tbody td.name") == ["fraud-list"]
    page.fill("#model-search", "no-such-model")
    navigate(page, lambda: page.keyboard.press("Enter"))
    assert "No model matches" in page.locator("main").inner_text()

    navigate(page, lambda: page.goto(ui_server.page_url("/models?q=churn-list")))
    navigate(page, lambda: page.locator("#models a", has_text="churn-list").click())
    assert page.locator("h1").inner_text() == "churn-list"


def test_model_page_shows_aliases_versions_lineage_and_history(ui_server: UiServer, page: Any, tmp_path: Path) -> None:
    seeded = seed_model(ui_server, "churn page", tmp_path)
    open_page(page, ui_server, "/models/churn%20page")
    assert texts(page, ".crumbs li") == ["Models", "churn page"]
    assert "Predicts who <b>leaves</b> next month" in page.locator(".lead").inner_text()
    assert "team = growth" in page.locator(".tag-list").inner_text()

    aliases = {row.get_attribute("data-alias"): row for row in page.locator("#aliases tbody tr").all()}
    assert aliases["champion"].locator("td").first.inner_text() == "v2"
    assert aliases["challenger"].locator("td").first.inner_text() == "v3"

    versions = page.locator("#versions tbody tr")
    assert [row.get_attribute("data-version") for row in versions.all()] == ["3", "2", "1"]
    newest = versions.first
    headers = texts(page, "#versions thead th")
    values = [text.strip() for text in newest.locator("th, td").all_inner_texts()]
    cells = dict(zip(headers[1:], values[1:], strict=True))
    assert cells["Status"] == "ready" and cells["Aliases"] == "challenger"
    assert cells["Source run"] == "churn page-train-2" and cells["Tags"] == "trained_on=weekly"
    assert cells["accuracy"] == "0.9" and cells["log_loss"] == "0.3"
    assert newest.locator("a", has_text="churn page-train-2").get_attribute("href") == f"/runs/{seeded.runs[2]}"

    lineage = page.locator("#lineage tr[data-version='1']")
    run_link = lineage.locator("a", has_text="churn page-train-0")
    assert run_link.get_attribute("href") == f"/runs/{seeded.runs[0]}?tab=lineage"
    dataset_link = lineage.locator("a", has_text="churn page-data")
    assert dataset_link.get_attribute("href").startswith("/datasets/churn%20page-data?version=")
    assert "training" in lineage.inner_text() and lineage.locator("code").last.inner_text() == "1" * 10

    history = texts(page, "#alias-history li")
    assert len(history) == 3
    assert "challenger" in history[0] and "set to v3" in history[0]
    assert "moved v1 → v2" in history[1] and "champion" in history[1]
    assert "set to v1" in history[2]
    navigate(page, lambda: dataset_link.click())
    assert page.locator("h1").inner_text() == "churn page-data"


def test_metrics_comparison_of_chosen_versions(ui_server: UiServer, page: Any, tmp_path: Path) -> None:
    seed_model(ui_server, "compare-me", tmp_path)
    open_page(page, ui_server, "/models/compare-me")
    # By default: the newest version and the aliased ones.
    assert texts(page, "#comparison thead th.num") == ["v3", "v2"]
    page.locator("#versions input[value='2']").uncheck()
    page.locator("#versions input[value='1']").check()
    navigate(page, lambda: page.locator("#compare-form button[type='submit']").click())
    assert page.url.endswith("?compare=3&compare=1")
    assert texts(page, "#comparison thead th.num") == ["v3", "v1"]
    accuracy = page.locator("#comparison tr", has_text="accuracy")
    assert accuracy.locator("td.num").all_inner_texts() == ["0.9", "0.8"]
    assert "differs" in (accuracy.get_attribute("class") or "")
    assert accuracy.locator("svg.metric-bars rect").count() == 2


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("?compare=two", 400, "compare takes version numbers"),
        ("?compare=9", 404, "no version 9"),
        ("?" + "&".join(f"compare={n}" for n in range(1, 12)), 400, "at most 10"),
    ],
)
def test_a_bad_comparison_link_says_what_is_wrong(
    ui_server: UiServer, page: Any, console: Any, tmp_path: Path, query: str, status: int, message: str
) -> None:
    seed_model(ui_server, f"bad-compare-{status}-{len(query)}", tmp_path, versions=1)
    console.expect(str(status))
    response = page.goto(ui_server.page_url(f"/models/bad-compare-{status}-{len(query)}{query}"))
    wait_ready(page)
    assert response is not None and response.status == status
    assert message in page.locator("main").inner_text()


def test_an_unknown_model_is_the_404_page(ui_server: UiServer, page: Any, console: Any) -> None:
    console.expect("404")
    response = page.goto(ui_server.page_url("/models/no-such-model"))
    wait_ready(page)
    assert response is not None and response.status == 404


def test_served_by_lists_the_servers_that_report(ui_server: UiServer, page: Any, tmp_path: Path) -> None:
    seed_model(ui_server, "served", tmp_path, versions=2)
    open_page(page, ui_server, "/models/served")
    assert "No running model server serves this model" in page.locator("#servers-status").inner_text()
    report = {
        "model": "served",
        "uri": "models:/served@champion",
        "url": "http://10.0.0.5:8080",
        "version": 2,
        "started_at": 1_700_000_000_000,
        "canary": {"alias": "challenger", "share": 10, "version": 2},
    }
    answer = httpx.put(f"{ui_server.url}/api/v1/model-servers/{'a' * 32}", json=report)
    assert answer.status_code == 200, answer.text
    open_page(page, ui_server, "/models/served")
    row = page.locator("#servers tbody tr")
    assert row.count() == 1
    cells = row.locator("td").all_inner_texts()
    assert cells[:5] == ["http://10.0.0.5:8080", "models:/served@champion", "v2", "challenger 10% → v2", ""]
    assert "1 running server" in page.locator("#servers-status").inner_text()


def test_keyboard_reaches_every_control_with_focus_visible(ui_server: UiServer, page: Any, tmp_path: Path) -> None:
    seed_model(ui_server, "keyboard", tmp_path, versions=2)
    open_page(page, ui_server, "/models/keyboard")
    reached = tab_until(page, lambda item: item["tag"] == "BUTTON" and "Compare" in item["text"], presses=80)
    assert reached[-1]["text"] == "Compare selected"
    assert_focus_visible(reached)
    assert any(item["tag"] == "INPUT" for item in reached)
    # Space ticks a checkbox, Enter on the button submits the comparison.
    page.locator("#versions input[value='1']").focus()
    page.keyboard.press("Space")
    page.locator("#compare-form button[type='submit']").focus()
    navigate(page, lambda: page.keyboard.press("Enter"))
    assert "compare=1" in page.url


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_both_themes_render(ui_server: UiServer, page: Any, tmp_path: Path, scheme: str) -> None:
    seed_model(ui_server, f"themed-{scheme}", tmp_path, versions=2)
    page.emulate_media(color_scheme=scheme)
    open_page(page, ui_server, f"/models/themed-{scheme}")
    background = page.evaluate("() => getComputedStyle(document.documentElement).backgroundColor")
    chip = page.locator("#aliases .alias-chip").first.evaluate("(el) => getComputedStyle(el).color")
    assert (background == "rgb(255, 255, 255)") == (scheme == "light")
    assert chip != background


def record_evaluation(server: UiServer, name: str, version: int, accuracy: float, champion: int | None) -> None:
    """An evaluation of ``version`` (beside ``champion``'s version when given) through the native API."""
    body: dict[str, Any] = {
        "version": version,
        "metrics": {"accuracy": accuracy, "f1": accuracy - 0.02},
        "dataset_name": "holdout",
        "dataset_digest": "ab" * 32,
        "task": "classification",
        "rows": 1200,
    }
    if champion is not None:
        body |= {"alias": "champion", "champion_version": champion, "champion_metrics": {"accuracy": 0.85, "f1": 0.8}}
    answer = httpx.post(f"{server.url}/api/v1/models/{name}/evaluations", json=body)
    assert answer.status_code == 201, answer.text


def champion_of(server: UiServer, name: str) -> int:
    with ridgeline.Client(tracking_uri=server.url) as client:
        return client.get_model(name).aliases["champion"]


def test_evaluations_show_the_candidate_beside_the_champion(ui_server: UiServer, page: Any, tmp_path: Path) -> None:
    seed_model(ui_server, "evaluated", tmp_path)
    open_page(page, ui_server, "/models/evaluated")
    assert "No stored evaluation yet" in page.locator("#evaluations").inner_text()
    record_evaluation(ui_server, "evaluated", 3, 0.9, champion=2)
    open_page(page, ui_server, "/models/evaluated")
    article = page.locator("#evaluations article")
    assert article.count() == 1
    heading = " ".join(article.locator("h3").inner_text().split())
    assert "v3 against v2" in heading and "champion" in heading and "holdout" in heading and "1,200 rows" in heading
    accuracy = article.locator("tr", has_text="accuracy").locator("td").all_inner_texts()
    assert accuracy == ["0.9", "0.85", "+0.05"]


def test_promote_cancel_and_escape_change_nothing(ui_server: UiServer, page: Any, tmp_path: Path) -> None:
    seed_model(ui_server, "promote-cancel", tmp_path)
    open_page(page, ui_server, "/models/promote-cancel")
    opener = page.locator("#promote-open")
    dialog = page.locator("#promote-dialog")
    opener.focus()
    page.keyboard.press("Enter")
    assert dialog.is_visible()
    page.select_option("#promote-version", "3")
    assert page.locator("#promote-summary").inner_text() == "Move champion from v2 to v3."
    # Focus stays in the dialog however far Tab goes.
    for _ in range(12):
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.closest('#promote-dialog') !== null")
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert page.evaluate("() => document.activeElement.id") == "promote-open"

    opener.click()
    page.select_option("#promote-version", "3")
    dialog.locator("button", has_text="Cancel").click()
    assert not dialog.is_visible()
    assert champion_of(ui_server, "promote-cancel") == 2
    assert texts(page, "#aliases tr[data-alias='champion'] td")[0] == "v2"


def test_promote_confirmed_moves_the_alias_and_rollback_moves_it_back(
    ui_server: UiServer, page: Any, tmp_path: Path
) -> None:
    seed_model(ui_server, "promote-ok", tmp_path)
    record_evaluation(ui_server, "promote-ok", 3, 0.9, champion=2)
    open_page(page, ui_server, "/models/promote-ok")
    page.locator("#promote-open").click()
    page.select_option("#promote-version", "3")
    page.fill("#promote-rules", "accuracy >= 0.85\nf1 > champion + 0.05")
    assert page.locator("#promote-summary").inner_text().endswith("Only if all 2 rules pass.")
    navigate(page, lambda: page.locator("#promote-dialog button[type='submit']").click())
    assert champion_of(ui_server, "promote-ok") == 3
    assert texts(page, "#aliases tr[data-alias='champion'] td")[0] == "v3"
    assert "moved v2 → v3" in texts(page, "#alias-history li")[0]

    page.locator("#rollback-open").click()
    page.select_option("#rollback-alias", "champion")
    assert "back from v3" in page.locator("#rollback-summary").inner_text()
    navigate(page, lambda: page.locator("#rollback-dialog button[type='submit']").click())
    assert champion_of(ui_server, "promote-ok") == 2
    assert "moved v3 → v2" in texts(page, "#alias-history li")[0]


def test_a_refused_promotion_names_the_failed_rule(
    ui_server: UiServer, page: Any, console: Any, tmp_path: Path
) -> None:
    seed_model(ui_server, "promote-refused", tmp_path)
    record_evaluation(ui_server, "promote-refused", 3, 0.9, champion=2)
    console.expect("409")
    open_page(page, ui_server, "/models/promote-refused")
    page.locator("#promote-open").click()
    page.select_option("#promote-version", "3")
    page.fill("#promote-rules", "accuracy >= 0.99")
    page.locator("#promote-dialog button[type='submit']").click()
    error = page.locator("#promote-error")
    error.wait_for(state="visible")
    assert "rule 'accuracy >= 0.99' failed" in error.inner_text()
    assert "accuracy = 0.9" in error.inner_text()
    assert page.locator("#promote-dialog").is_visible()
    assert champion_of(ui_server, "promote-refused") == 2

    # An empty alias is refused in the page, before any request.
    page.fill("#promote-alias", "")
    page.locator("#promote-dialog button[type='submit']").click()
    assert "Name the alias" in error.inner_text()
    assert page.locator("#promote-alias").get_attribute("aria-invalid") == "true"


def test_a_fresh_server_and_a_model_without_versions(tmp_path: Path, page: Any) -> None:
    with running_server(tmp_path / "home") as url:
        server = UiServer(url, tmp_path / "home")
        open_page(page, server, "/models")
        assert "run.log_model(model" in page.locator(".empty-state").inner_text()
        assert page.locator("#model-search").count() == 0
        with ridgeline.Client(tracking_uri=url) as client:
            client.create_model("empty-model")
        open_page(page, server, "/models")
        assert texts(page, "#models tbody td")[:3] == ["empty-model", "none", ""]
        open_page(page, server, "/models/empty-model")
        assert "No version yet" in page.locator("main").inner_text()
        assert "No alias yet" in page.locator("#aliases-title + p").inner_text()
        assert page.locator("#promote-open").count() == 0 and page.locator("#comparison").count() == 0


def test_a_failed_version_shows_why_and_cannot_be_promoted(
    ui_server: UiServer, page: Any, console: Any, tmp_path: Path
) -> None:
    seed_model(ui_server, "has-failed", tmp_path, versions=2)
    failed = {"status": "FAILED", "status_message": "upload <i>interrupted</i>"}
    answer = httpx.patch(f"{ui_server.url}/api/v1/models/has-failed/versions/1", json=failed)
    assert answer.status_code == 200, answer.text
    console.expect("409")
    open_page(page, ui_server, "/models/has-failed")
    status = page.locator("#versions tr[data-version='1'] td").nth(4)
    assert status.inner_text().split(maxsplit=1) == ["failed", "upload <i>interrupted</i>"]
    assert page.locator("#versions i").count() == 0
    page.locator("#promote-open").click()
    assert page.locator("#promote-version option[value='1']").inner_text() == "v1 · failed"
    page.select_option("#promote-version", "1")
    page.locator("#promote-dialog button[type='submit']").click()
    error = page.locator("#promote-error")
    error.wait_for(state="visible")
    assert "only a READY version can be promoted" in error.inner_text()
    assert champion_of(ui_server, "has-failed") == 2
