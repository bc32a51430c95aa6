"""``ridgeline.start_run`` and the :class:`Run` it returns: the calls a training script makes."""

from __future__ import annotations

import atexit
import logging
import sys
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ridgeline.client.backend import TrackingBackend
from ridgeline.client.identity import current_user
from ridgeline.client.replay import deliver_leftovers_in_background
from ridgeline.client.resolve import run_backend
from ridgeline.client.run_artifacts import ArtifactLogging
from ridgeline.client.sender import FLUSH_AT_POINTS, Sender, SeriesBuffer
from ridgeline.client.spool import RunSpool
from ridgeline.config import Settings
from ridgeline.domain import validation as v
from ridgeline.domain.entities import RunRecord, RunStatus
from ridgeline.domain.errors import Conflict, InvalidArgument, Unavailable
from ridgeline.domain.ids import new_id, now_ms

if TYPE_CHECKING:
    from ridgeline.client.capture.run_capture import CaptureChoice, RunCapture
    from ridgeline.client.dataset_inputs import DatasetRecorder
    from ridgeline.services.dataset_description import DatasetDescription

log = logging.getLogger("ridgeline")
_time_ns = time.time_ns


def _flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config dicts become dotted param keys: {"optimizer": {"lr": 0.1}} -> {"optimizer.lr": 0.1}."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


class Run(ArtifactLogging):
    """A run being logged. Use as a context manager, or call :meth:`finish` yourself.

    Logging methods validate their arguments at once (a bad key or value raises ``InvalidArgument`` naming it)
    and return without touching the network; a background thread delivers the data.
    """

    def __init__(
        self,
        backend: TrackingBackend,
        run_id: str,
        name: str,
        project: str,
        settings: Settings,
        *,
        create_fields: dict[str, Any] | None = None,
        resumed_from: RunRecord | None = None,
        target: str | None = None,
    ) -> None:
        self.id = run_id
        self.name = name
        self.project = project
        self._backend = backend
        self._settings = settings
        self._finished = False
        self._done = False
        self._end_time: int | None = None
        self._capture: RunCapture | None = None
        self._logged_params: dict[str, str] = dict(resumed_from.params) if resumed_from else {}
        # Where undelivered data waits; ``target`` (the tracking URI) tells a later process where it goes.
        spool = RunSpool(settings.spool_location, run_id, {"target": target, "project": project, "name": name})
        self._sender = Sender(
            backend,
            run_id,
            interval=settings.flush_interval,
            max_buffered_points=settings.max_buffered_points,
            spool=spool,
            # Set when the run is not on the backend yet: the sender creates it (or spools its creation) first.
            create_fields=create_fields,
            offline=settings.mode == "offline",
        )
        if resumed_from:
            for key, point in resumed_from.latest_metrics.items():
                self._sender.series[key] = SeriesBuffer(next_step=point.step + 1)
        _active_runs.add(self)

    def __repr__(self) -> str:
        return f"<ridgeline.Run {self.name!r} id={self.id} project={self.project!r}>"

    # logging --------------------------------------------------------------------------------------------------

    def log_metric(self, key: str, value: float, step: int | None = None, timestamp: int | None = None) -> None:
        """Record one point. ``step`` defaults to one past this key's last step; ``timestamp`` (epoch ms) to now."""
        sender = self._sender
        buf = sender.series.get(key)
        if buf is None:
            buf = self._new_series(key)
        if type(value) is not float:
            value = v.check_metric_value(value, f"value of metric {key!r}")
        if step is not None and (type(step) is not int or not v.INT64_MIN <= step <= v.INT64_MAX):
            step = v.check_step(step, f"step of metric {key!r}")
        stamp = _time_ns() // 1_000_000 if timestamp is None else v.check_timestamp(timestamp, "timestamp")
        with sender.lock:
            if self._finished:
                self._refuse_finished()
            if sender.pending >= sender.max_buffered_points:
                sender.wait_for_room()
            if step is None:
                # Taken under the lock so threads sharing a key never reuse a step.
                step = buf.next_step
            buf.steps.append(step)
            buf.values.append(value)
            buf.timestamps.append(stamp)
            sender.pending += 1
            if sender.pending % FLUSH_AT_POINTS == 0:
                sender.nudge()
            buf.next_step = step + 1

    def _refuse_finished(self) -> None:
        raise Conflict(f"run {self.name!r} is finished; start or resume a run to log more")

    def _new_series(self, key: str) -> SeriesBuffer:
        v.check_key(key, "metric key")
        with self._sender.lock:
            return self._sender.series.setdefault(key, SeriesBuffer())

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None) -> None:
        """Record several metrics at the same step (each key's own next step when ``step`` is None)."""
        if not isinstance(metrics, Mapping):
            raise InvalidArgument("log_metrics takes a dict of key: value", field="metrics")
        stamp = now_ms() if timestamp is None else timestamp
        for key, value in metrics.items():
            self.log_metric(key, value, step, stamp)

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record hyperparameters. A param keeps its first value: logging another value raises ``Conflict``."""
        checked = self._checked_texts(params, "param", v.MAX_PARAM_VALUE_LENGTH)
        for key, value in checked.items():
            old = self._logged_params.get(key)
            if old is not None and old != value:
                raise Conflict(
                    f"param {key!r} is already {old!r}; params cannot change (got {value!r})",
                    field=f"params.{key}",
                )
        with self._sender.lock:
            if self._finished:
                self._refuse_finished()
            self._sender.params.update(checked)
        self._logged_params.update(checked)
        self._sender.nudge()

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set tags (mutable labels); the last value wins."""
        checked = self._checked_texts(tags, "tag", v.MAX_TAG_VALUE_LENGTH)
        with self._sender.lock:
            if self._finished:
                self._refuse_finished()
            self._sender.tags.update(checked)
        self._sender.nudge()

    @staticmethod
    def _checked_texts(values: Mapping[str, Any], kind: str, max_length: int) -> dict[str, str]:
        if not isinstance(values, Mapping):
            raise InvalidArgument(f"{kind}s must be a dict of key: value", field=f"{kind}s")
        checked = {}
        for key, value in values.items():
            v.check_key(key, f"{kind} key")
            # None is a legitimate setting (max_depth=None); it is kept as the text "None", as str() gives.
            checked[key] = v.check_text(value, f"{kind} {key!r}", max_length)
        return checked

    # datasets -----------------------------------------------------------------------------------------------

    # Started by the first dataset logged.
    _datasets: DatasetRecorder | None = None

    def log_dataset(
        self, data: Any, name: str, context: str = "training", source: str | None = None
    ) -> DatasetDescription:
        """Record that this run used ``data`` as dataset ``name`` (for ``context``: training, validation, test…).

        ``data`` is a pandas DataFrame, numpy arrays (one, or a tuple/list/dict such as ``(X, y)``), or a file or
        folder path; ``source`` says where it came from (a path or URI; files default to their own path). The
        version is the content's sha256: the same data from any run is the same version. Hashing and profiling
        happen here (the returned description has the digest); recording happens in the background.
        """
        from ridgeline.client.dataset_inputs import DatasetRecorder
        from ridgeline.services.dataset_description import describe

        v.check_name(name, "name")
        v.check_name(context, "context", 50)
        description = describe(data, source)
        with self._sender.lock:
            if self._finished:
                self._refuse_finished()
            if self._datasets is None:
                self._datasets = DatasetRecorder(self._backend, self.id, self._sender)
        self._datasets.record(name, context, description, self._settings.flush_timeout)
        return description

    # lifecycle ----------------------------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything logged so far is delivered; False when ``timeout`` (seconds) ran out."""
        return self._sender.flush(self._settings.flush_timeout if timeout is None else timeout)

    def finish(self, status: str | RunStatus = RunStatus.FINISHED) -> None:
        """Deliver what is buffered, then mark the run ended (FINISHED, FAILED or KILLED). Idempotent."""
        final = RunStatus(str(status).upper())
        if not final.is_terminal:
            raise InvalidArgument("finish() takes FINISHED, FAILED or KILLED", field="status")
        if self._capture is not None:
            # While the run still takes data: the sampler's last sample and console.log go out with the rest.
            self._capture.stop()
        with self._sender.lock:
            if self._done:
                return
            # Closed to logging from here on; _done only once the backend has the end state, so a finish cut
            # short (Ctrl-C while flushing) is completed by the exit hook.
            self._finished = True
            if self._end_time is None:
                self._end_time = now_ms()
        # What cannot be delivered within flush_timeout is spooled to disk with the run's end, and logged.
        self._close_uploads()
        if self._datasets is not None:
            self._datasets.close(self._settings.flush_timeout)
        self._sender.finish(final.value, self._end_time, self._settings.flush_timeout)
        self._done = True
        _active_runs.discard(self)
        self._backend.close()

    @property
    def finished(self) -> bool:
        return self._finished

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None or (issubclass(exc_type, SystemExit) and _clean_exit(exc)):
            self.finish(RunStatus.FINISHED)
        elif issubclass(exc_type, KeyboardInterrupt):
            self.finish(RunStatus.KILLED)
        else:
            self.finish(RunStatus.FAILED)


def _clean_exit(exc: BaseException | None) -> bool:
    """``sys.exit()`` / ``sys.exit(0)`` end a script successfully."""
    return isinstance(exc, SystemExit) and exc.code in (None, 0)


# Strong references: a run whose Run object the script dropped must still be finished at exit.
_active_runs: set[Run] = set()
_uncaught: list[type[BaseException]] = []
_previous_excepthook = sys.excepthook


def _excepthook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    _uncaught.append(exc_type)
    _previous_excepthook(exc_type, exc, tb)


sys.excepthook = _excepthook


@atexit.register
def _finish_active_runs() -> None:
    """Runs still open at interpreter exit are delivered and closed: FAILED after an uncaught exception, KILLED
    after Ctrl-C."""
    status = RunStatus.FINISHED
    if _uncaught:
        status = RunStatus.KILLED if issubclass(_uncaught[-1], KeyboardInterrupt) else RunStatus.FAILED
    for run in list(_active_runs):
        try:
            run.finish(status)
        except Exception:
            log.exception("ridgeline: could not finish run %s at exit", run.id)


def start_run(
    project: str = "default",
    *,
    name: str | None = None,
    config: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    parent: Run | str | None = None,
    tracking_uri: str | None = None,
    mode: str | None = None,
    capture: CaptureChoice = None,
) -> Run:
    """Start a run (or resume one with ``run_id``) and return it.

    ``config`` is logged as params (nested dicts become dotted keys). Usable as ``with start_run(...) as run:``
    (an exception inside ends the run as FAILED) or as a plain call followed by ``run.finish()``.
    ``capture`` chooses what of the environment is recorded (default: the ``capture`` setting), e.g.
    ``"git,python"``, ``["console"]``, ``False``.
    """
    settings = Settings.load(mode=mode)
    if settings.mode not in ("online", "offline"):
        raise InvalidArgument(f"mode must be 'online' or 'offline', got {settings.mode!r}", field="mode")
    # Loaded here, not at import: reaching ridgeline.start_run costs nothing for subprocess, platform, socket.
    from ridgeline.client.capture.run_capture import RESUME_PARTS, RunCapture, parse_parts

    parts = parse_parts(capture, settings.capture)
    params = Run._checked_texts(_flatten(config), "param", v.MAX_PARAM_VALUE_LENGTH) if config else {}
    labels = Run._checked_texts(tags, "tag", v.MAX_TAG_VALUE_LENGTH) if tags else {}
    if run_id is not None:
        v.check_id(run_id, "run_id")
    else:
        v.check_name(project, "project")
        if name is not None:
            v.check_name(name, "name", v.MAX_KEY_LENGTH)
    backend, target = run_backend(tracking_uri, settings)
    if target is not None:
        deliver_leftovers_in_background(settings)  # what earlier processes left in the spool
    try:
        if run_id is not None:
            run = _resume(backend, run_id, settings, target)
        else:
            parent_id = parent.id if isinstance(parent, Run) else parent
            run = _create(backend, project, name, parent_id, settings, target)
    except BaseException:
        backend.close()
        raise
    if params:
        run.log_params(params)
    if labels:
        run.set_tags(labels)
    if run_id is not None:
        parts &= RESUME_PARTS
    if parts:
        run._capture = RunCapture(
            run, parts, git_diff_limit=settings.git_diff_limit, interval=settings.system_metrics_interval
        )
    return run


def _resume(backend: TrackingBackend, run_id: str, settings: Settings, target: str | None) -> Run:
    record = backend.resume_run(run_id)
    project = backend.get_project_by_id(record.project_id)
    return Run(backend, record.id, record.name, project.name, settings, resumed_from=record, target=target)


def _create(
    backend: TrackingBackend,
    project: str,
    name: str | None,
    parent_id: str | None,
    settings: Settings,
    target: str | None,
) -> Run:
    from ridgeline.services.names import random_run_name

    fields: dict[str, Any] = {
        "project": project,
        "run_id": new_id(),
        "name": name or random_run_name(),
        "user": current_user(),
        "start_time": now_ms(),
        "parent_run_id": parent_id,
    }
    if target is None:
        # Offline: the run goes to the spool with its client-made id; `ridgeline sync` creates it later.
        return Run(backend, fields["run_id"], fields["name"], project, settings, create_fields=fields)
    try:
        backend.create_run(**fields)
        deferred = None
    except Unavailable as exc:
        log.warning("ridgeline: tracking backend unavailable (%s); the run will be created once it is back", exc)
        deferred = fields
    return Run(backend, fields["run_id"], fields["name"], project, settings, create_fields=deferred, target=target)
