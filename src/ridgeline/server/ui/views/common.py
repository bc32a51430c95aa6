"""What every page handler needs: the template renderer and the tracking service, as typed dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ridgeline.server.ui.templating import Templates


def _templates(request: Request) -> Templates:
    found: Templates = request.app.state.templates
    return found


Pages = Annotated[Templates, Depends(_templates)]
