"""Everything ``ridgeline serve`` was asked for, in one picklable value (each worker process gets a copy)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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
    server_id: str = field(default_factory=new_id)
    started_at: int = field(default_factory=now_ms)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"
