"""Monitor pages in a real browser: the monitors list, a monitor's dashboard (periods, drift heatmap, the
distribution of a clicked or chosen cell, data quality, performance, window verdicts, alerts), the segment picker,
the model page's link, empty states, escaping of user text, and the distribution endpoint's errors. The data folder
is filled before the server starts (support/monitors.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.browser import UiServer, navigate, open_page, wait_ready
from support.monitors import (
    DRIFT_FROM,
    HOUR,
    ROWS,
    T0,
    WINDOWS,
    XSS_FEATURE,
    XSS_MESSAGE,
    XSS_MONITOR,
    XSS_SEGMENT,
    seed,
)
from support.servers import running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    home = tmp_path_factory.mktemp("monitor-home")
    seed(home)
    # No periodic monitoring pass: the seeded windows and alerts stay exactly as written.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RIDGELINE_MONITORING_INTERVAL", "0")
        with running_server(home) as url:
            yield UiServer(url, home)


def heatmap_marks(page: Any) -> dict[str, list[int]]:
    """Feature → the columns (window indexes) the heatmap marks as drifted, read from the drawn figure."""
    return dict(
        page.locator("#heatmap").evaluate(
            """(el) => {
              const [heatmap, marks] = el.data;
              const found = {};
              marks.y.forEach((name, k) => {
                const feature = el.closest("main").querySelector("#dist-feature").options[heatmap.y.indexOf(name)].text;
                (found[feature] ??= []).push(heatmap.x.indexOf(marks.x[k]));
              });
              return found;
            }"""
        )
    )


def click_cell(page: Any, row: int, column: int) -> None:
    """Click the heatmap cell of feature ``row`` in window ``column`` where Plotly drew it."""
    spot = page.locator("#heatmap").evaluate(
        """(el, [i, j]) => {
          const { xaxis, yaxis } = el._fullLayout;
          const box = el.getBoundingClientRect();
          return { x: box.left + xaxis._offset + xaxis.l2p(j), y: box.top + yaxis._offset + yaxis.l2p(i) };
        }""",
        [row, column],
    )
    page.mouse.click(spot["x"], spot["y"])


def shown_distribution(page: Any, feature: str) -> None:
    page.wait_for_selector(f"#distribution[data-feature='{feature}']", state="attached")


def test_monitors_list_shows_each_monitor_with_its_latest_verdict(server: UiServer, page: Any) -> None:
    open_page(page, server, "/models")
    navigate(page, lambda: page.locator("nav[aria-label='Main'] a", has_text="Monitors").click())
    assert page.locator("h1").inner_text() == "Monitors"
    live = page.locator("#monitors tr[data-monitor='churn-live'] td").all_inner_texts()
    assert live[0].startswith("churn-live") and "Production traffic" in live[0]
    assert live[1:3] == ["churn@champion", "1h"]
    assert live[3].startswith("drift") and live[4] == "1"
    hostile = page.locator("#monitors tr").filter(has_text="evil").locator("td").all_inner_texts()
    assert hostile[3].startswith("drift") and hostile[4] == "1"
    quiet = page.locator("#monitors tr[data-monitor='churn-quiet'] td").all_inner_texts()
    assert quiet[1:5] == ["churn/2", "1d", "no events yet", "0"]
    for name, href in (("churn-live", "/models/churn"), ("churn-quiet", "/models/churn#v2")):
        assert page.locator(f"#monitors tr[data-monitor='{name}'] .target-link").get_attribute("href") == href
    navigate(page, lambda: page.locator("#monitors a", has_text="churn-live").click())
    assert page.locator("h1").inner_text() == "churn-live"


def test_dashboard_shows_periods_and_marks_the_drifted_features(server: UiServer, page: Any) -> None:
    open_page(page, server, "/monitors/churn-live")
    assert page.locator(".crumbs li").all_inner_texts() == ["Monitors", "churn-live"]
    head = page.locator(".page-head").inner_text()
    assert "Watches churn@champion" in head and "windows of 1h" in head and "1 open alert" in head
    periods = page.locator("#periods tbody tr")
    assert [row.get_attribute("data-period") for row in periods.all()] == ["2", "1"]
    assert periods.nth(1).locator("td").all_inner_texts()[:2] == ["v1", "dataset churn-train@2024-04"]
    assert "kept from period 1" in periods.nth(0).inner_text()

    assert page.locator("#heatmap .heatmaplayer image").count() == 1
    marks = heatmap_marks(page)
    assert marks["income"] == [3, 4, 5] and marks["plan"] == [3, 4, 5]
    # The colour is the score against its threshold: a cell is marked exactly when it reaches 1.
    severities = page.locator("#heatmap").evaluate("(el) => el.data[0].z")
    names = ["age", "income", "plan", "prediction"]
    for name, row in zip(names, severities, strict=True):
        assert all(0 <= value <= 3 for value in row)
        assert [j for j, value in enumerate(row) if value >= 1] == marks.get(name, []), name
    assert severities[1][DRIFT_FROM:] == [3, 3, 3]
    assert page.locator("#dist-feature option").all_inner_texts() == ["age", "income", "plan", "prediction"]
    # The model's output is the bottom row, named as such.
    rows = ["age", "income", "plan", "prediction (output)"]
    assert page.locator("#heatmap").evaluate("(el) => el.data[0].y") == rows
    assert sorted(page.locator("#heatmap .yaxislayer-above .ytick text").all_text_contents()) == rows

    verdicts = page.locator("#verdicts tbody tr")
    assert verdicts.count() == WINDOWS
    newest = verdicts.first.locator("td").all_inner_texts()
    # IT's incomes beyond the reference's range also fail the out-of-range allowance.
    assert newest[1:5] == ["v2", "400", "drift quality", "2 / 3"]
    oldest = verdicts.last.locator("td").all_inner_texts()
    assert oldest[1] == "v1" and oldest[3] == "no drift" and oldest[5] == "400"


def test_a_clicked_cell_or_the_selects_choose_the_distribution(server: UiServer, page: Any) -> None:
    open_page(page, server, "/monitors/churn-live")
    # The most severe cell is shown first: income or plan in the latest window.
    first = page.locator("#distribution").get_attribute("data-feature")
    assert first in ("income", "plan")
    assert page.locator("#distribution .barlayer .trace").count() == 2
    assert page.locator("#distribution .legendtext").all_text_contents() == ["reference", "window"]

    click_cell(page, 0, 1)
    shown_distribution(page, "age")
    assert page.locator("#dist-feature").input_value() == "0"
    assert page.locator("#dist-window").input_value() == "1"
    assert page.locator("#distribution").get_attribute("data-window-start") == str(T0 + HOUR)

    page.select_option("#dist-feature", label="plan")
    shown_distribution(page, "plan")
    ticks = page.locator("#distribution .xtick").all_text_contents()
    assert set(ticks) == {"basic", "pro", "team"}
    page.select_option("#dist-window", "0")
    page.wait_for_selector(f"#distribution[data-window-start='{T0}']", state="attached")
    assert page.locator("#distribution-status").inner_text() == ""


def test_quality_and_performance_charts_render(server: UiServer, page: Any) -> None:
    open_page(page, server, "/monitors/churn-live")
    for rate in ("missing_rate", "out_of_range_rate", "invalid_rate"):
        card = page.locator(f"#quality [data-rate='{rate}']")
        assert card.locator(".scatterlayer .trace").count() == 4, rate
    assert card.locator(".legendtext").all_text_contents() == ["age", "income", "plan", "prediction"]
    metrics = page.locator("#performance [data-metric]")
    assert [item.get_attribute("data-metric") for item in metrics.all()] == [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "log_loss",
    ]
    accuracy = page.locator("#performance [data-metric='accuracy'] .chart").evaluate("(el) => el.data[0].y")
    assert accuracy == pytest.approx([0.8, 0.81, 0.7775])
    labelled = page.locator("#labelled .chart").evaluate("(el) => el.data[0].y")
    assert labelled == [400, 400, 400, 0, 0, 0]


def test_the_segment_picker_changes_the_data(server: UiServer, page: Any) -> None:
    open_page(page, server, "/monitors/churn-live")
    options = page.locator("#segment option").all_inner_texts()
    assert options == ["Whole population", "country = FR", "country = IT"]
    navigate(page, lambda: page.select_option("#segment", "country=FR"))
    assert "segment=country%3DFR" in page.url
    assert page.locator("#drift-title").inner_text() == "Drift country=FR"
    rows = [int(text) for text in page.locator("#verdicts tbody td:nth-child(3)").all_inner_texts()]
    assert all(0 < count < ROWS for count in rows)
    assert "income" not in heatmap_marks(page)
    navigate(page, lambda: page.select_option("#segment", "country=IT"))
    assert heatmap_marks(page)["income"] == [3, 4, 5]
    # The distribution endpoint is asked for the same segment.
    assert page.locator("#distribution").get_attribute("data-feature") in ("income", "plan")
    navigate(page, lambda: page.locator("#monitor-filter a", has_text="Reset").click())
    assert page.locator("#segment").input_value() == ""


def test_the_alert_list_and_its_empty_state(server: UiServer, page: Any) -> None:
    open_page(page, server, "/monitors/churn-live")
    alerts = page.locator("#alerts tbody tr")
    assert [row.get_attribute("data-status") for row in alerts.all()] == ["raised", "resolved"]
    raised = alerts.first.locator("td").all_inner_texts()
    assert raised[0].startswith("raised") and raised[1:3] == ["dataset drift", "country=IT"]
    assert raised[4] == "dataset drift in country=IT: 2 of 3 features" and raised[6] == "open"
    resolved = alerts.last.locator("td").all_inner_texts()
    assert resolved[2] == "whole population" and resolved[6] != "open"
    navigate(page, lambda: alerts.first.locator("a", has_text="country=IT").click())
    assert page.locator("#segment").input_value() == "country=IT"

    open_page(page, server, "/monitors/churn-quiet")
    assert "No alerts: this monitor has no alert rules" in page.locator("#no-alerts").inner_text()


def test_empty_states_read_well(server: UiServer, page: Any) -> None:
    open_page(page, server, "/monitors/churn-quiet")
    assert "No events yet" in page.locator("#no-events").inner_text()
    assert 'log_actuals("churn-quiet"' in page.locator("#no-events").inner_text()
    assert page.locator("#heatmap, #monitor-filter").count() == 0
    assert page.locator("#periods tbody tr").count() == 1

    open_page(page, server, "/monitors/churn-live?start=2030-01-01T00:00")
    assert "No events fall in this range" in page.locator("#no-windows").inner_text()
    assert page.locator("#start").input_value() == "2030-01-01T00:00"

    open_page(page, server, f"/monitors/{XSS_MONITOR}")
    assert "No actuals yet" in page.locator("#no-actuals").inner_text()


def test_the_model_page_links_to_its_monitors(server: UiServer, page: Any) -> None:
    open_page(page, server, "/models/churn")
    links = page.locator("#model-monitors li")
    assert [" ".join(text.split()) for text in links.all_inner_texts()] == [
        "churn-live watches @champion",
        "churn-quiet watches v2",
    ]
    navigate(page, lambda: links.first.locator("a").click())
    assert page.locator("h1").inner_text() == "churn-live"
    open_page(page, server, "/models/xss-model")
    assert page.locator("#model-monitors a").inner_text() == XSS_MONITOR


def test_user_text_is_shown_as_text_in_the_browser(server: UiServer, page: Any) -> None:
    dialogs: list[str] = []

    def record(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    open_page(page, server, f"/monitors/{XSS_MONITOR}")
    assert page.locator("h1").inner_text() == XSS_MONITOR
    assert page.locator(".lead").inner_text() == "<em>described</em>"
    assert page.locator("#periods .reference-source").inner_text() == "<i>hand-made</i>"
    assert page.locator("#segment option").last.inner_text() == "team = <img src=y onerror=alert(2)>"
    assert XSS_FEATURE in page.locator("#heatmap .yaxislayer-above .ytick text").all_text_contents()
    assert page.locator("#alerts td.message").inner_text() == XSS_MESSAGE
    page.select_option("#dist-feature", label="plan")
    shown_distribution(page, "plan")
    assert "<b>c</b>" in page.locator("#distribution .xtick").all_text_contents()
    navigate(page, lambda: page.select_option("#segment", XSS_SEGMENT))
    assert page.locator("#drift-title code").inner_text() == XSS_SEGMENT
    assert page.locator("main img, main b, main em, main i, main script").count() == 0
    assert dialogs == []


def test_no_content_security_policy_violation(server: UiServer, page: Any) -> None:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    for path in ("/monitors", "/monitors/churn-quiet", "/monitors/churn-live?segment=country%3DIT"):
        open_page(page, server, path)
    open_page(page, server, "/monitors/churn-live")
    click_cell(page, 1, 5)
    shown_distribution(page, "income")
    page.locator("#heatmap").hover()
    assert not [text for text in messages if "Content Security Policy" in text]


def test_an_unknown_monitor_is_the_404_page(server: UiServer, page: Any, console: Any) -> None:
    console.expect("404")
    response = page.goto(server.page_url("/monitors/no-such-monitor"))
    wait_ready(page)
    assert response is not None and response.status == 404
    assert "no-such-monitor" in page.locator("main").inner_text()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?segment=country%3DDE", "this monitor has no segment 'country=DE'"),
        ("?segment=country", "this monitor has no segment 'country'"),
        ("?start=yesterday", "start is a date or date-time"),
        ("?start=2024-05-02&end=2024-05-01", "start must come before end"),
    ],
)
def test_bad_dashboard_parameters_say_what_is_wrong(server: UiServer, query: str, message: str) -> None:
    answer = httpx.get(server.page_url(f"/monitors/churn-live{query}"), headers={"Accept": "text/html"})
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert message in answer.text.replace("&#39;", "'")


def test_the_distribution_endpoint_answers_json(server: UiServer) -> None:
    url = server.page_url("/monitors/churn-live/distribution.json")
    latest: dict[str, str | int] = {"feature": "income", "window_start": T0 + 5 * HOUR, "segment": "country=IT"}
    numeric = httpx.get(url, params=latest).json()
    assert numeric["kind"] == "numeric" and numeric["period"] == 2
    assert len(numeric["edges"]) == len(numeric["reference"]) + 1 == len(numeric["window"]) + 1
    assert numeric["edges"][0] is None and numeric["edges"][-1] is None
    categorical = httpx.get(url, params={"feature": "plan", "window_start": T0, "period": 1}).json()
    assert categorical["categories"] == ["basic", "pro", "team"] and sum(categorical["window"]) == ROWS


@pytest.mark.parametrize(
    ("name", "query", "status", "field"),
    [
        ("no-such-monitor", {"feature": "age", "window_start": T0}, 404, "monitor"),
        ("churn-live", {"window_start": T0}, 400, "feature"),
        ("churn-live", {"feature": "age", "window_start": "noon"}, 400, "window_start"),
        ("churn-live", {"feature": "age", "window_start": T0, "period": 0}, 400, "period"),
        ("churn-live", {"feature": "height", "window_start": T0}, 400, "feature"),
        ("churn-live", {"feature": "age", "window_start": T0 + 1}, 400, "window_start"),
    ],
)
def test_distribution_errors_have_the_error_shape(
    server: UiServer, name: str, query: dict[str, Any], status: int, field: str
) -> None:
    answer = httpx.get(server.page_url(f"/monitors/{name}/distribution.json"), params=query)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] == ("NOT_FOUND" if status == 404 else "INVALID_ARGUMENT") and error["message"]
    assert error.get("field") == field


def test_user_text_is_escaped_in_the_html(server: UiServer) -> None:
    html = httpx.get(server.page_url(f"/monitors/{XSS_MONITOR}"), params={"segment": XSS_SEGMENT}).text
    for payload in (XSS_FEATURE, "<img src=y", "<script>alert(3)", "<b>evil</b>", "<em>", "<i>hand-made"):
        assert payload not in html, payload
    assert "&lt;b&gt;evil&lt;/b&gt; &#34;monitor&#34; &amp; co" in html
    assert "&lt;script&gt;alert(3)&lt;/script&gt; drifted" in html
    assert "team = &lt;img src=y onerror=alert(2)&gt;" in html
    listing = httpx.get(server.page_url("/monitors")).text
    assert "<b>evil</b>" not in listing and "&lt;b&gt;evil&lt;/b&gt;" in listing
