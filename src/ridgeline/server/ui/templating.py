"""Jinja2 rendering for the UI: autoescaping always on, one page helper that also sets the security headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ridgeline import __version__
from ridgeline.server.ui import format as fmt
from ridgeline.server.ui.assets import PLOTLY_CSS, PLOTLY_JS, Assets

TEMPLATES = Path(__file__).resolve().parent / "templates"

# No inline scripts, styles or event handlers anywhere: every page holds to this policy.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class Templates:
    def __init__(self, assets: Assets) -> None:
        self.assets = assets
        # Autoescaping for every template, whatever its file name: user text must never become markup.
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            number=fmt.number,
            timestamp=fmt.timestamp,
            clock=fmt.clock,
            duration=fmt.duration,
        )
        self.env.tests["numeric"] = fmt.is_numeric
        self.env.globals.update(
            static=assets.url,
            module_imports=assets.module_imports,
            plotly_js=lambda: assets.url(PLOTLY_JS),
            plotly_css=lambda: assets.url(PLOTLY_CSS),
            plotly_guard_ids=lambda: assets.plotly.guard_ids,
            version=__version__,
        )

    def render(self, request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        self.assets.warm_in_background()
        html = self.env.get_template(name).render(request=request, **context)
        return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def templates(request: Request) -> Templates:
    return request.app.state.templates  # type: ignore[no-any-return]
