"""Offset page tokens for the MLflow searches that page over a list already filtered in memory (experiments,
registered models, model versions, logged models). Run search pages with keyset cursors instead."""

from __future__ import annotations

import base64
import json
from typing import Any, TypeVar

from ridgeline.domain.errors import InvalidArgument
from ridgeline.server.mlflow.messages import Message

T = TypeVar("T")


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument("page_token is not one this server issued", field="page_token") from None
    if not isinstance(offset, int) or offset < 0:
        raise InvalidArgument("page_token is not one this server issued", field="page_token")
    return offset


def page(items: list[T], msg: Message, *, default: int, maximum: int) -> tuple[list[T], dict[str, Any]]:
    """The page of ``items`` that ``msg``'s ``page_token`` and ``max_results`` ask for, and the response fields
    that go with it (``next_page_token`` unless it is the last page)."""
    max_results = msg.integer("max_results") or default
    if not 1 <= max_results <= maximum:
        raise InvalidArgument(f"max_results must be between 1 and {maximum}", field="max_results")
    start = _offset(msg.text("page_token"))
    extra = {"next_page_token": _token(start + max_results)} if start + max_results < len(items) else {}
    return items[start : start + max_results], extra
