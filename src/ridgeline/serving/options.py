"""Everything ``ridgeline serve`` was asked for, in one picklable value (each worker process gets a copy)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.ids import new_id, now_ms

DEFAULT_PORT = 5180
DEFAULT_MAX_BODY = 16 * 1024**2


@dataclass(frozen=True)
class ServeOptions:
    uri: str
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    workers: int = 1
    canary: str | None = None  # ALIAS=PERCENT
    shadow: str | None = None  # ALIAS
    tracking_uri: str | None = None
    prediction_log: Path | None = None  # None: <home>/predictions, or the tracking server when it is http(s)
    log_predictions: bool = True
    batch_max: int = 0  # rows per micro-batch; 0: no batching
    batch_wait_ms: float = 0.0
    max_body_bytes: int = DEFAULT_MAX_BODY
    poll_interval: float = 2.0
    report_interval: float = 10.0
    allow_pickle: bool = False
    auth: bool = False  # callers need a token the tracking server accepts for the model (serving/access.py)
    server_id: str = field(default_factory=new_id)
    started_at: int = field(default_factory=now_ms)

    def check(self) -> None:
        """Refuse combinations that cannot work, before anything starts (InvalidArgument naming the option)."""
        from ridgeline.domain.registry import check_alias
        from ridgeline.serving.models import parse_canary, registry_uri

        if (self.canary or self.shadow) and registry_uri(self.uri) is None:
            raise InvalidArgument(
                "--canary and --shadow need a registry URI (models:/NAME@ALIAS or models:/NAME/VERSION): "
                "their aliases are the same model's",
                field="uri",
            )
        if self.canary is not None:
            check_alias(parse_canary(self.canary)[0], field="canary")
        if self.shadow is not None:
            check_alias(self.shadow, field="shadow")
            if not self.log_predictions:
                raise InvalidArgument(
                    "--shadow only logs the shadow's answers, so it needs the prediction log: drop --no-prediction-log",
                    field="shadow",
                )
        if self.batch_wait_ms and self.batch_max < 2:
            raise InvalidArgument("--batch-wait-ms needs --batch-max 2 or more", field="batch_wait_ms")

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"
