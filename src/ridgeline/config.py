"""Every setting Ridgeline reads, declared once: name, environment variable, default and help.

The CLI options default to these, the docs list them (a test checks each one is documented), and nothing reads
``os.environ`` anywhere else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "home",
        "RIDGELINE_HOME",
        "~/.ridgeline",
        "Data folder: the SQLite metadata database, artifacts and the SDK spool live here.",
    ),
    Setting(
        "tracking_uri",
        "RIDGELINE_TRACKING_URI",
        None,
        "Where the SDK and CLI send and read runs: http(s)://HOST:PORT for a server, a folder path, or a "
        "database URI. Unset: the data folder, in-process.",
    ),
    Setting(
        "backend_uri",
        "RIDGELINE_BACKEND_URI",
        None,
        "Metadata database of the server: sqlite:///PATH or postgresql+psycopg://USER:PASS@HOST/DB. "
        "Unset: sqlite in the data folder.",
    ),
    Setting("host", "RIDGELINE_HOST", "127.0.0.1", "Address `ridgeline server` binds to."),
    Setting("port", "RIDGELINE_PORT", 5170, "Port `ridgeline server` listens on."),
    Setting(
        "flush_interval",
        "RIDGELINE_FLUSH_INTERVAL",
        0.5,
        "Seconds between the SDK's background sends of buffered params, tags and metrics.",
    ),
    Setting(
        "max_buffered_points",
        "RIDGELINE_MAX_BUFFERED_POINTS",
        2_000_000,
        "Metric points the SDK buffers per run before logging calls wait for the sender to catch up.",
    ),
    Setting(
        "flush_timeout",
        "RIDGELINE_FLUSH_TIMEOUT",
        120.0,
        "Seconds `finish()` and interpreter exit wait for buffered data to be delivered.",
    ),
    Setting("http_timeout", "RIDGELINE_HTTP_TIMEOUT", 30.0, "Seconds the SDK waits for one HTTP request."),
    Setting(
        "artifacts_uri",
        "RIDGELINE_ARTIFACTS_URI",
        None,
        "Where the server (or an embedded run) keeps artifacts: a folder, file:///PATH, or s3://BUCKET/PREFIX "
        "(other fsspec schemes where installed). Unset: the `artifacts` folder inside the data folder.",
    ),
    Setting(
        "max_artifact_size",
        "RIDGELINE_MAX_ARTIFACT_SIZE",
        10 * 1024**3,
        "Largest artifact file accepted, in bytes.",
    ),
    Setting(
        "mode",
        "RIDGELINE_MODE",
        "online",
        "`online`: the SDK sends to the tracking URI, spooling to disk while it cannot. `offline`: runs are "
        "written to the spool folder only, for `ridgeline sync` to upload later.",
    ),
    Setting(
        "spool_dir",
        "RIDGELINE_SPOOL_DIR",
        None,
        "Folder where the SDK keeps batches it could not deliver yet (and offline runs). Unset: `spool` inside "
        "the data folder.",
    ),
    Setting(
        "capture",
        "RIDGELINE_CAPTURE",
        "git,command,python,packages,host,console,system",
        "What a run records about its environment at start: a comma-separated choice of git, command, python, "
        "packages, host, console, system; `none` for nothing.",
    ),
    Setting(
        "system_metrics_interval",
        "RIDGELINE_SYSTEM_METRICS_INTERVAL",
        15.0,
        "Seconds between samples of system metrics (CPU, memory, disk, network, GPU) logged as system/*; 0 stops.",
    ),
    Setting(
        "git_diff_limit",
        "RIDGELINE_GIT_DIFF_LIMIT",
        1_000_000,
        "Largest uncommitted git diff a run keeps, in bytes (a larger one is recorded as truncated).",
    ),
    Setting(
        "allow_pickle",
        "RIDGELINE_ALLOW_PICKLE",
        False,
        "`true`: `ridgeline.load_model` (and what calls it) loads pickle-based model packages without "
        "`allow_pickle=True`. Unpickling runs the file's code: only for packages from sources you trust.",
    ),
    Setting(
        "monitoring_interval",
        "RIDGELINE_MONITORING_INTERVAL",
        30.0,
        "Seconds between the server's passes over `ridgeline serve`'s prediction log (`predictions/` in the data "
        "folder) into the monitors of the served models, each followed by their alert rules. 0: no passes "
        "(`ridgeline monitors ingest` runs one).",
    ),
    Setting(
        "auth",
        "RIDGELINE_AUTH",
        False,
        "`true`: `ridgeline server` requires accounts (a login or an API token), on loopback too. Beyond loopback "
        "the server refuses to start without it, unless `insecure_no_auth` is set.",
    ),
    Setting(
        "insecure_no_auth",
        "RIDGELINE_INSECURE_NO_AUTH",
        False,
        "`true`: let `ridgeline server` bind a non-loopback address without accounts, so that anyone who reaches it "
        "can read and change everything. Only behind an authenticating proxy on a trusted network.",
    ),
    Setting(
        "allowed_hosts",
        "RIDGELINE_ALLOWED_HOSTS",
        None,
        "Comma-separated host names (or addresses) clients use to reach the server, beside loopback names, the "
        "bind address and this machine's name. A request whose Host or Origin names another host is refused "
        "(DNS rebinding). `*` accepts any.",
    ),
    Setting(
        "signup",
        "RIDGELINE_SIGNUP",
        False,
        "`true`: anyone who reaches the server may create an account at /signup (it joins no workspace). Off: "
        "accounts come from invitations, the CLI or an admin.",
    ),
    Setting(
        "session_hours",
        "RIDGELINE_SESSION_HOURS",
        12.0,
        "Hours a web UI login lasts without use before it must be repeated.",
    ),
    Setting(
        "tracking_token",
        "RIDGELINE_TRACKING_TOKEN",
        None,
        "API token the SDK, CLI and `ridgeline serve` send to a tracking server that has accounts (`ridgeline "
        "tokens create`).",
    ),
    Setting(
        "workspace",
        "RIDGELINE_WORKSPACE",
        None,
        "Workspace the SDK and CLI work in on a tracking server with accounts (sent as X-Ridgeline-Workspace). "
        "Unset: the account's default workspace.",
    ),
    Setting(
        "outbound_allow",
        "RIDGELINE_OUTBOUND_ALLOW",
        None,
        "Comma-separated hosts, addresses or CIDR ranges that outbound requests (alert webhooks, Slack, email, "
        "MLflow import) may reach although they are loopback, private, link-local or cloud-metadata addresses, "
        "which are refused otherwise.",
    ),
)
SETTINGS_BY_NAME = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class Settings:
    home: Path
    tracking_uri: str | None
    backend_uri: str | None
    host: str
    port: int
    flush_interval: float
    max_buffered_points: int
    flush_timeout: float
    http_timeout: float
    artifacts_uri: str | None
    max_artifact_size: int
    mode: str
    spool_dir: Path | None
    capture: str
    system_metrics_interval: float
    git_diff_limit: int
    allow_pickle: bool
    monitoring_interval: float
    auth: bool
    insecure_no_auth: bool
    allowed_hosts: str | None
    signup: bool
    session_hours: float
    tracking_token: str | None
    workspace: str | None
    outbound_allow: str | None

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Explicit overrides (None means "not given") win over environment variables, which win over defaults."""
        values: dict[str, Any] = {}
        for field in fields(cls):
            setting = SETTINGS_BY_NAME[field.name]
            value = overrides.get(field.name)
            if value is None:
                value = os.environ.get(setting.env) or setting.default
            values[field.name] = _convert(field.type, value, setting)
        return cls(**values)

    @property
    def artifacts_location(self) -> str:
        """The artifact store: the explicit URI, or the ``artifacts`` folder inside the data folder."""
        return self.artifacts_uri or str(self.home / "artifacts")

    @property
    def prediction_log(self) -> Path:
        """Where ``ridgeline serve`` writes its prediction log by default, and the tracking server appends the
        predictions model servers send it."""
        return self.home / "predictions"

    @property
    def spool_location(self) -> Path:
        return self.spool_dir or self.home / "spool"

    @property
    def metadata_uri(self) -> str:
        """The metadata database: the explicit backend URI, or SQLite inside the data folder."""
        return self.backend_uri or sqlite_uri(self.home)


def sqlite_uri(home: Path) -> str:
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'ridgeline.db'}"


def _convert(kind: Any, value: Any, setting: Setting) -> Any:
    if value is None:
        return None
    try:
        if kind in ("Path", "Path | None", Path):
            return Path(str(value)).expanduser()
        if kind in ("int", int):
            return int(value)
        if kind in ("float", float):
            return float(value)
        if kind in ("bool", bool):
            return _boolean(value)
    except ValueError:
        raise ValueError(f"{setting.env}={value!r} is not a valid {kind}") from None
    return str(value)


def _boolean(value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{value!r} is not true or false")
