"""Monitoring pages: every monitor (/monitors) and one monitor's dashboard (/monitors/{name}) with its periods,
drift heatmap, distributions, data quality, performance, dataset verdicts and alerts. The charts are drawn by
static/js/monitor-page.js, which asks /monitors/{name}/distribution.json for the distribution it shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.monitors import Monitor, Period
from ridgeline.server.deps import Monitoring
from ridgeline.server.responses import JSON
from ridgeline.server.ui.views import monitor_data
from ridgeline.server.ui.views.common import Pages

router = APIRouter()

ALERTS_SHOWN = 200
# Open alerts are few (one per rule and segment at most), so counting them all on the list page stays cheap.
OPEN_ALERTS_COUNTED = 10_000
_NAME = Query(min_length=1, max_length=1000)
_TIME = Query(max_length=40)


@dataclass(frozen=True)
class MonitorRow:
    monitor: Monitor
    window: str
    latest: monitor_data.WindowVerdict | None
    open_alerts: int


@router.get("/monitors")
def monitors_page(request: Request, pages: Pages, monitoring: Monitoring) -> HTMLResponse:
    rows = [
        MonitorRow(
            monitor,
            monitor_data.window_text(monitor),
            monitor_data.latest_verdict(monitor_data.recent_rows(monitoring, monitor, None, 2)),
            len(monitoring.alerts(monitor.name, status="raised", limit=OPEN_ALERTS_COUNTED)),
        )
        for monitor in monitoring.find()
    ]
    return pages.render(request, "monitors.html", title="Monitors", rows=rows)


# Before the dashboard's route: a monitor's name may hold "/", so that route takes the rest of the path.
@router.get("/monitors/{name:path}/distribution.json")
def distribution(
    name: str,
    monitoring: Monitoring,
    feature: Annotated[str, _NAME],
    window_start: Annotated[int, Query(ge=0)],
    segment: Annotated[str, Query(max_length=1000)] = "",
    period: Annotated[int | None, Query(ge=1)] = None,
) -> JSON:
    """The reference's and one window's counts of a feature, side by side (the service's shape)."""
    found = monitoring.distribution(name, feature, window_start, segment=segment, period=period)
    return JSON(found)


@router.get("/monitors/{name:path}")
def monitor_page(
    name: str,
    request: Request,
    pages: Pages,
    monitoring: Monitoring,
    segment: Annotated[str, Query(max_length=1000)] = "",
    start: Annotated[str, _TIME] = "",
    end: Annotated[str, _TIME] = "",
) -> HTMLResponse:
    monitor = monitoring.get(name)
    segments = monitoring.segments(monitor.name)
    chosen = monitor_data.check_segment(segment, segments)
    start_ms = monitor_data.parse_time(start, "start")
    end_ms = monitor_data.parse_time(end, "end")
    if start_ms is not None and end_ms is not None and start_ms >= end_ms:
        raise InvalidArgument("start must come before end", field="end")
    if start_ms is None and end_ms is None:
        rows = monitor_data.recent_rows(monitoring, monitor, chosen, monitor_data.MAX_WINDOWS)
    else:
        rows = monitoring.report(monitor.name, start=start_ms, end=end_ms, segment=chosen)
    board = monitor_data.dashboard(monitor, rows, segment)
    alerts = monitoring.alerts(monitor.name, limit=ALERTS_SHOWN)
    return pages.render(
        request,
        "monitor.html",
        title=monitor.name,
        charts=bool(board.windows),
        monitor=monitor,
        window=monitor_data.window_text(monitor),
        periods=_periods(monitoring.periods(monitor.name)),
        segment=segment,
        segment_groups=monitor_data.segment_groups(segments),
        has_events=bool(segments),
        start=monitor_data.time_input(start_ms),
        end=monitor_data.time_input(end_ms),
        filtered=bool(chosen or start_ms is not None or end_ms is not None),
        board=board,
        max_windows=monitor_data.MAX_WINDOWS,
        alerts=alerts,
        open_alerts=sum(1 for alert in alerts if alert.status == "raised"),
        alerts_capped=len(alerts) == ALERTS_SHOWN,
    )


def _periods(periods: list[Period]) -> list[Period]:
    """Newest first, as the page lists them."""
    return sorted(periods, key=lambda period: period.number, reverse=True)
