"""Throwaway PostgreSQL clusters for tests.

Each :class:`PostgresCluster` is a private ``initdb`` in a temporary directory, listening only on
loopback with trust authentication and durability switched off: it is fast to start, isolated from
any system instance, and leaves nothing behind. Use :func:`require_postgres` before starting one so
every test module applies the same skip-or-fail rule.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
import weakref
from pathlib import Path
from types import TracebackType

import pytest

__all__ = [
    "PostgresCluster",
    "PostgresError",
    "find_postgres_bindir",
    "postgres_available",
    "require_postgres",
]

REQUIRE_ENV = "RIDGELINE_REQUIRE_POSTGRES"
BINDIR_ENV = "RIDGELINE_PG_BINDIR"
SERVICE_USER = "postgres"
SUPERUSER = "postgres"
_SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
# sun_path is 108 bytes on Linux (104 on macOS); a longer socket path makes postgres refuse to start
# with a message that does not mention the length, so it is checked up front.
_MAX_SOCKET_PATH = 103
_PORT_ATTEMPTS = 5


class PostgresError(RuntimeError):
    """A throwaway cluster could not be created, started or used."""


def _has_server_programs(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in _SERVER_PROGRAMS)


def _version_key(path: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin: compare "15" and "9.6" numerically, not as strings.
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (-1,)


def find_postgres_bindir() -> Path | None:
    """Directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or ``None``.

    ``pg_config`` may belong to a client-only install (libpq-dev), so its answer is only trusted
    when the server programs are really there.
    """
    override = os.environ.get(BINDIR_ENV)
    if override:
        path = Path(override)
        return path if _has_server_programs(path) else None

    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out and _has_server_programs(Path(out)):
                return Path(out)

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    for candidate in candidates:
        if _has_server_programs(candidate):
            return candidate

    initdb = shutil.which("initdb")
    if initdb and _has_server_programs(Path(initdb).resolve().parent):
        return Path(initdb).resolve().parent
    if initdb and _has_server_programs(Path(initdb).parent):
        return Path(initdb).parent
    return None


def _privilege_drop_prefix() -> list[str] | None:
    """Command prefix that runs a program as the ``postgres`` user; ``[]`` when not root.

    initdb and postgres refuse to run as root, which is how CI containers usually run.
    """
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", SERVICE_USER, "--"]
    setpriv = shutil.which("setpriv")
    if setpriv:
        return [setpriv, f"--reuid={SERVICE_USER}", f"--regid={SERVICE_USER}", "--init-groups", "--"]
    return None


def _unavailable_reason() -> str | None:
    bindir = find_postgres_bindir()
    if bindir is None:
        return (
            "PostgreSQL server programs (initdb, pg_ctl, postgres) not found via "
            f"${BINDIR_ENV}, pg_config --bindir, /usr/lib/postgresql/*/bin or PATH"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVICE_USER)
        except KeyError:
            return (
                f"running as root and there is no {SERVICE_USER!r} system user to run "
                "initdb/postgres as (they refuse to run as root)"
            )
        if _privilege_drop_prefix() is None:
            return "running as root and neither runuser nor setpriv is available to drop privileges"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed"
    return None


def postgres_available() -> bool:
    """Whether a throwaway cluster can be started here (cheap check; starts nothing)."""
    return _unavailable_reason() is None


def require_postgres() -> None:
    """Skip the calling test/fixture when PostgreSQL is missing, or fail if it is required.

    Set ``RIDGELINE_REQUIRE_POSTGRES=1`` in CI so a broken install cannot silently turn the whole
    PostgreSQL suite into skips.
    """
    reason = _unavailable_reason()
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"PostgreSQL is required ({REQUIRE_ENV}=1) but unavailable: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable: {reason}")


def _free_port() -> int:
    # The port is released before postgres binds it, so another process could take it meanwhile;
    # start() retries with a fresh port when that happens.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pg_ctl_stop(prefix: list[str], pg_ctl: Path, datadir: Path, root: Path) -> None:
    # Best effort: the server may never have come up, or may already be gone.
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            [*prefix, str(pg_ctl), "stop", "-D", str(datadir), "-m", "immediate", "-w", "-t", "30"],
            capture_output=True,
            cwd=root,
            timeout=60,
            check=False,
        )


def _cleanup(prefix: list[str], pg_ctl: Path, datadir: Path, root: Path) -> None:
    """Stop the server (if any) and delete its files; runs at most once per cluster."""
    if (datadir / "postmaster.pid").exists():
        _pg_ctl_stop(prefix, pg_ctl, datadir, root)
    shutil.rmtree(root, ignore_errors=True)


class PostgresCluster:
    """A private PostgreSQL server in a temporary directory.

    >>> with PostgresCluster() as pg:          # doctest: +SKIP
    ...     engine = create_engine(pg.create_database("t1"))
    """

    def __init__(
        self,
        dbname: str = "ridgeline",
        *,
        start_timeout: float = 60.0,
        base_dir: str | os.PathLike[str] | None = None,
        bindir: Path | None = None,
    ) -> None:
        self.dbname = dbname
        self.start_timeout = start_timeout
        self._base_dir = base_dir
        self._bindir = bindir
        self.port: int | None = None
        self.root: Path | None = None
        self._prefix: list[str] = []
        self._finalizer: weakref.finalize[..., PostgresCluster] | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> PostgresCluster:
        if self._finalizer is not None and self._finalizer.alive:
            raise PostgresError("cluster already started")
        bindir = self._bindir or find_postgres_bindir()
        if bindir is None:
            raise PostgresError(_unavailable_reason() or "PostgreSQL server programs not found")
        prefix = _privilege_drop_prefix()
        if prefix is None:
            raise PostgresError(_unavailable_reason() or "cannot drop root privileges")

        root = Path(tempfile.mkdtemp(prefix="ridgeline-pg-", dir=self._base_dir))
        datadir = root / "data"
        # Registered before anything can fail so a half-built cluster is still cleaned up, including
        # when the test process exits without calling stop().
        self._finalizer = weakref.finalize(self, _cleanup, prefix, bindir / "pg_ctl", datadir, root)
        self.root = root
        self._prefix = prefix
        self._bindir = bindir
        try:
            if len(str(root / ".s.PGSQL.65535")) > _MAX_SOCKET_PATH:
                raise PostgresError(
                    f"temporary directory path {root} is too long for a unix socket; "
                    "pass a shorter base_dir or set TMPDIR"
                )
            if prefix:
                self._hand_over_to_service_user(root)
            self._initdb(datadir)
            self._launch(datadir)
            self.create_database(self.dbname)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server immediately (no checkpoint: the data is thrown away) and delete it."""
        if self._finalizer is not None:
            self._finalizer()
        self._finalizer = None
        self.port = None

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- use ------------------------------------------------------------------------------------

    def url(self, dbname: str | None = None) -> str:
        """SQLAlchemy URL for ``dbname`` (default: the database created by :meth:`start`)."""
        port = self._require_port()
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/{dbname or self.dbname}"

    def conninfo(self, dbname: str | None = None) -> str:
        """libpq connection string, for talking to the server with psycopg directly."""
        port = self._require_port()
        return f"host=127.0.0.1 port={port} user={SUPERUSER} dbname={dbname or self.dbname} connect_timeout=10"

    def create_database(self, name: str | None = None) -> str:
        """Create a fresh, empty database and return its SQLAlchemy URL.

        Without a name a unique one is generated, which is what per-test fixtures want.
        """
        import psycopg
        from psycopg import sql

        name = name or f"test_{uuid.uuid4().hex[:16]}"
        # CREATE DATABASE cannot run inside a transaction block, hence autocommit.
        try:
            with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise PostgresError(f"could not create database {name!r}: {exc}\n{self._log_tail()}") from exc
        return self.url(name)

    # -- internals ------------------------------------------------------------------------------

    def _require_port(self) -> int:
        if self.port is None:
            raise PostgresError("cluster is not running; call start() first")
        return self.port

    def _run(self, args: list[str], what: str, timeout: float) -> subprocess.CompletedProcess[str]:
        assert self.root is not None
        cmd = [*self._prefix, *args]
        try:
            # cwd inside the cluster directory: the service user may not be able to enter the
            # caller's cwd (e.g. /root), which makes the PostgreSQL programs complain.
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PostgresError(
                f"{what} timed out after {timeout:.0f}s: {' '.join(cmd)}\n"
                f"{_decode(exc.stdout)}{_decode(exc.stderr)}\n{self._log_tail()}"
            ) from exc
        if proc.returncode != 0:
            raise PostgresError(
                f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
                f"--- stdout ---\n{proc.stdout}--- stderr ---\n{proc.stderr}{self._log_tail()}"
            )
        return proc

    def _hand_over_to_service_user(self, root: Path) -> None:
        entry = pwd.getpwnam(SERVICE_USER)
        os.chown(root, entry.pw_uid, entry.pw_gid)
        # The service user also needs to traverse every parent; a private TMPDIR under /root would
        # otherwise surface later as a confusing initdb permission error.
        probe = subprocess.run([*self._prefix, "test", "-w", str(root)], capture_output=True, cwd="/", check=False)
        if probe.returncode != 0:
            raise PostgresError(
                f"user {SERVICE_USER!r} cannot write to {root}; pass a base_dir it can reach (e.g. /tmp) or set TMPDIR"
            )

    def _initdb(self, datadir: Path) -> None:
        assert self._bindir is not None
        self._run(
            [
                str(self._bindir / "initdb"),
                "-D",
                str(datadir),
                "-A",
                "trust",
                "-U",
                SUPERUSER,
                "--locale=C",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            "initdb",
            timeout=120,
        )
        assert self.root is not None
        # Durability is pointless for a cluster that is deleted afterwards and costs seconds per run.
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "100",
            "log_min_messages": "warning",
        }
        with (datadir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# ridgeline test cluster\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def _launch(self, datadir: Path) -> None:
        assert self._bindir is not None and self.root is not None
        last_error: PostgresError | None = None
        for _ in range(_PORT_ATTEMPTS):
            port = _free_port()
            try:
                self._run(
                    [
                        str(self._bindir / "pg_ctl"),
                        "start",
                        "-D",
                        str(datadir),
                        "-l",
                        str(self._logfile),
                        "-o",
                        f"-p {port}",
                        "-w",
                        "-t",
                        str(int(self.start_timeout)),
                    ],
                    "pg_ctl start",
                    timeout=self.start_timeout + 30,
                )
            except PostgresError as exc:
                # pg_ctl may give up while the postmaster is still coming up; make sure it is down
                # before retrying or cleaning up.
                _pg_ctl_stop(self._prefix, self._bindir / "pg_ctl", datadir, self.root)
                log = self._log_tail()
                if "could not bind" in log or "already in use" in log:
                    last_error = exc
                    self._truncate_log()
                    continue
                raise
            self.port = port
            return
        assert last_error is not None
        raise last_error

    @property
    def _logfile(self) -> Path:
        assert self.root is not None
        return self.root / "server.log"

    def _truncate_log(self) -> None:
        with contextlib.suppress(OSError):
            self._logfile.write_text("")

    def _log_tail(self, lines: int = 40) -> str:
        if self.root is None:
            return ""
        try:
            text = self._logfile.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        tail = "".join(text.splitlines(keepends=True)[-lines:])
        return f"--- server log ({self._logfile}) ---\n{tail}" if tail else ""


def _decode(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")
