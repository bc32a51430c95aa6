"""Model servers report what they serve; the UI and API list them (issue 6: which version each server serves)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ridgeline.domain.errors import InvalidArgument, Unavailable
from ridgeline.domain.ids import now_ms
from ridgeline.domain.registry import check_alias, check_model_name
from ridgeline.domain.validation import check_id, check_text, check_timestamp
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.model_servers import ModelServer, ModelServerStore

# A server reports every REPORT_INTERVAL_S; one silent for STALE_AFTER_MS is taken for gone (crashed or killed:
# a clean shutdown deletes its row).
REPORT_INTERVAL_S = 10.0
STALE_AFTER_MS = 60_000
_MAX_URI = 2000
MAX_PREDICTION_ROWS = 10_000
PREDICTION_ROLES = ("primary", "canary", "shadow")


@dataclass(frozen=True, slots=True)
class ServerReport:
    """What a running server says about itself."""

    model_name: str
    uri: str
    url: str
    version: int | None
    started_at: int
    canary: dict[str, Any] | None = None
    shadow: dict[str, Any] | None = None


def _check_policy(value: object, field: str, *, with_share: bool) -> dict[str, Any] | None:
    if value is None:
        return None
    allowed = {"alias", "version", "share"} if with_share else {"alias", "version"}
    if not isinstance(value, dict) or not set(value) <= allowed or "alias" not in value:
        raise InvalidArgument(f"{field} is an object with keys {sorted(allowed)} (alias required)", field=field)
    check_alias(value["alias"], field=f"{field}.alias")
    version = value.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
        raise InvalidArgument("a version is a positive integer or null", field=f"{field}.version")
    share = value.get("share")
    if with_share and (not isinstance(share, int | float) or isinstance(share, bool) or not 0 < share < 100):
        raise InvalidArgument("a canary share is a percentage between 0 and 100 (exclusive)", field=f"{field}.share")
    return dict(value)


class ModelServerService:
    def __init__(self, store: MetadataStore, predictions_folder: Path | None = None) -> None:
        self.store = store
        self.servers = ModelServerStore(store.database)
        self.predictions_folder = predictions_folder

    def report(self, server_id: str, report: ServerReport) -> ModelServer:
        check_id(server_id, "server_id")
        model = self.store.registry.get_model(check_model_name(report.model_name, field="model"))
        if report.version is not None and (isinstance(report.version, bool) or report.version < 1):
            raise InvalidArgument("a version is a positive integer or null", field="version")
        server = ModelServer(
            id=server_id,
            model_name=model.name,
            uri=check_text(report.uri, "uri", _MAX_URI),
            url=check_text(report.url, "url", _MAX_URI),
            version=report.version,
            canary=_check_policy(report.canary, "canary", with_share=True),
            shadow=_check_policy(report.shadow, "shadow", with_share=False),
            started_at=check_timestamp(report.started_at, "started_at"),
            last_seen_at=now_ms(),
        )
        self.servers.save(server, model.id)
        return self.servers.get(server_id)

    def remove(self, server_id: str) -> None:
        self.servers.delete(check_id(server_id, "server_id"))

    def log_predictions(self, server_id: str, rows: list[dict[str, Any]]) -> int:
        """Append a reported server's prediction rows (store/prediction_log.py's columns) to the Parquet log."""
        server = self.servers.get(check_id(server_id, "server_id"))
        if self.predictions_folder is None:
            raise Unavailable("this tracking backend keeps no prediction log", field="server_id")
        if not 0 < len(rows) <= MAX_PREDICTION_ROWS:
            raise InvalidArgument(f"send 1 to {MAX_PREDICTION_ROWS} rows at a time, not {len(rows)}", field="rows")
        for index, row in enumerate(rows):
            if row["model"] != server.model_name:
                raise InvalidArgument(
                    f"rows[{index}] is for model {row['model']!r}; this server serves {server.model_name!r}",
                    field=f"rows[{index}].model",
                )
            if row["role"] not in PREDICTION_ROLES:
                raise InvalidArgument(
                    f"rows[{index}].role is one of {', '.join(PREDICTION_ROLES)}", field=f"rows[{index}].role"
                )
            check_timestamp(row["timestamp"], f"rows[{index}].timestamp")
        try:
            from ridgeline.store import prediction_log

            prediction_log.write(self.predictions_folder, rows, writer=f"{server_id[:8]}-server")
        except ImportError:
            raise Unavailable(
                "the tracking server needs pyarrow to keep prediction logs: pip install 'ridgeline[serve]'"
            ) from None
        return len(rows)

    def list(self, model_name: str | None = None, *, include_stale: bool = False) -> list[ModelServer]:
        """Servers that reported lately (all of them with ``include_stale``), most recently seen first."""
        model_id = None if model_name is None else self.store.registry.get_model(check_model_name(model_name)).id
        seen_since = 0 if include_stale else now_ms() - STALE_AFTER_MS
        return self.servers.select(model_id=model_id, seen_since=seen_since)
