"""Input for ``ridgeline monitors``: predictions and actuals read in chunks (Parquet batch by batch, CSV chunk by
chunk, so a file larger than memory streams through) and sent with ``ridgeline.monitoring``'s functions;
references read whole; JSON options parsed. The values the API is strict about (ids, timestamps) are checked here
so that a bad row is named by its row number in the file, not by its place in a batch."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ridgeline.cli.common import err_console
from ridgeline.domain.errors import InvalidArgument, RidgelineError

if TYPE_CHECKING:
    import pandas as pd

_KINDS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class Source:
    """A CSV or Parquet file whose header has been read."""

    path: Path
    kind: str  # csv | parquet
    columns: list[str]
    rows: int | None  # from the Parquet footer; a CSV's is unknown until it has been read

    def require(self, wanted: list[tuple[str, str | None]]) -> None:
        """Every column named by an option exists; ``wanted``: (option, the column it names) pairs."""
        for option, column in wanted:
            if column is not None and column not in self.columns:
                raise InvalidArgument(
                    f"{self.path.name} has no column {column!r} (its columns: {', '.join(self.columns)})",
                    field=option,
                )

    def chunks(self, columns: list[str], rows: int, text: tuple[str, ...] = ()) -> Iterator[pd.DataFrame]:
        """The file's ``columns`` in DataFrames of at most ``rows`` rows. ``text``: CSV columns read as text, so
        that ids like ``007`` keep their zeros and match the same ids in another file."""
        import pandas as pd

        try:
            if self.kind == "parquet":
                import pyarrow.parquet as pq  # type: ignore[import-untyped]

                with pq.ParquetFile(self.path) as file:
                    for batch in file.iter_batches(batch_size=rows, columns=columns):
                        yield batch.to_pandas()
            else:
                dtype = {name: str for name in text}
                with pd.read_csv(self.path, usecols=columns, dtype=dtype, chunksize=rows) as reader:
                    yield from reader
        except (ValueError, OSError) as why:  # pyarrow's and pandas' parse errors are ValueErrors
            raise InvalidArgument(f"{self.path} is not a readable {self.kind} file: {why}", field="input") from None

    def read(self) -> pd.DataFrame:
        """The whole file (a reference is profiled at once: its quantiles need every value)."""
        import pandas as pd

        try:
            return pd.read_parquet(self.path) if self.kind == "parquet" else pd.read_csv(self.path)
        except (ValueError, OSError) as why:
            raise InvalidArgument(f"{self.path} is not a readable {self.kind} file: {why}", field="reference") from None


def open_source(path: Path, field: str = "input") -> Source:
    """Check the file's type, existence and header before anything is sent."""
    path = path.expanduser()
    kind = _KINDS.get(path.suffix.lower())
    if kind is None:
        raise InvalidArgument(f"{path}: the file must be a .csv or .parquet file", field=field)
    if not path.is_file():
        raise InvalidArgument(f"{path}: no such file", field=field)
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            metadata = pq.read_metadata(path)
            return Source(path, kind, list(metadata.schema.to_arrow_schema().names), int(metadata.num_rows))
        import pandas as pd

        header = pd.read_csv(path, nrows=0)
    except (ValueError, OSError) as why:
        raise InvalidArgument(f"{path} is not a readable {kind} file: {why}", field=field) from None
    return Source(path, kind, [str(name) for name in header.columns], None)


def is_file_reference(value: str) -> bool:
    """A path (by its suffix, a separator, or because it exists) rather than a logged dataset's ``name[@version]``."""
    return Path(value).suffix.lower() in _KINDS or "/" in value or Path(value).expanduser().exists()


def parse_time(value: str | None, option: str) -> int | None:
    """An ISO 8601 date or date-time (UTC unless it says otherwise) or epoch milliseconds, as epoch milliseconds."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(
            f"{option} is an ISO 8601 date or time (2024-05-01, 2024-05-01T12:00:00Z) or epoch milliseconds, "
            f"not {value!r}",
            field=option.lstrip("-"),
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def epoch_ms(values: pd.Series[Any], where: str, first_row: int) -> list[int]:
    """A timestamp column as epoch milliseconds: a date-time column, ISO 8601 text, or numbers taken as epoch
    milliseconds. ``where`` names the file and column; ``first_row`` is the chunk's first row in the file."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = pd.to_datetime(values, utc=True)
    elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype("float64")
        bad = numbers.isna() | (numbers < 0) | ~numbers.map(math.isfinite)
        _refuse_first(values, bad, where, first_row)
        return [int(number) for number in numbers]
    else:
        # Strictly ISO 8601: guessing day-first or month-first would file events in the wrong windows silently.
        stamps = pd.to_datetime(values.astype("string"), utc=True, errors="coerce", format="ISO8601")
    _refuse_first(values, stamps.isna(), where, first_row)
    return [int(value) for value in stamps.dt.as_unit("ms").astype("int64")]


def _refuse_first(values: pd.Series[Any], bad: pd.Series[bool], where: str, first_row: int) -> None:
    if bool(bad.any()):
        index = int(bad.to_numpy().argmax())
        raise InvalidArgument(
            f"{where}, row {first_row + index}: {_shown(values.iloc[index])} is not a date and time (ISO 8601 such "
            "as 2024-05-01T12:00:00Z) nor epoch milliseconds",
            field="timestamp-column",
        )


def keys(values: pd.Series[Any], where: str, first_row: int) -> list[str]:
    """An id column as text; an empty id cannot be matched with its actual, so it is refused with its row."""
    missing = values.isna() | (values.astype("string").str.len() == 0)
    if bool(missing.any()):
        index = int(missing.to_numpy().argmax())
        raise InvalidArgument(f"{where}, row {first_row + index}: the id is empty", field="id-column")
    return [_key(value) for value in values.tolist()]


def _key(value: Any) -> str:
    # A float id column (a Parquet column with nulls elsewhere, say) holds whole numbers: 12.0 is the id "12".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def plain(values: pd.Series[Any]) -> list[Any]:
    """JSON-ready cells: list cells (class probabilities in Parquet) arrive as numpy arrays, dates as Timestamps."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return list(values.tolist())  # numbers are JSON already; the SDK turns NaN into None
    out: list[Any] = []
    for value in values.tolist():
        if hasattr(value, "tolist"):
            value = value.tolist()
        elif value is pd.NaT:
            value = None  # a missing date, not the text "NaT"
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        if isinstance(value, float) and not math.isfinite(value):
            value = None  # JSON has no NaN: a missing value
        out.append(value)
    return out


def _shown(value: Any) -> str:
    import pandas as pd

    if pd.api.types.is_scalar(value) and pd.isna(value):
        return "an empty cell"
    text = repr(value.item() if hasattr(value, "item") else value)  # 3.5, not np.float64(3.5)
    return text if len(text) <= 60 else text[:57] + "..."


def print_json(data: Any) -> None:
    """Strict JSON on stdout, as the server sends it (orjson writes NaN as null): ``json.loads`` and ``jq`` read it."""
    import typer

    typer.echo(json.dumps(_finite(data), indent=2, allow_nan=False))


def _finite(data: Any) -> Any:
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(value) for value in data]
    return data


def read_reference(value: str | None) -> Any:
    """``--reference``: a file's content as a DataFrame, or a logged dataset's name (or None) as it is."""
    if value is not None and is_file_reference(value):
        return open_source(Path(value), "reference").read()
    return value


def rule_options(values: list[str] | None) -> list[Any]:
    """``--rule`` values: rule text, or the rule's JSON form (which can also carry a name and a severity)."""
    example = '{"statistic": "psi", "op": ">", "threshold": 0.2, "severity": "critical"}'
    return [
        json_objects([text], "--rule", example)[0] if text.lstrip().startswith("{") else text for text in values or []
    ]


def json_objects(values: list[str] | None, option: str, example: str) -> list[dict[str, Any]]:
    """Options whose values are JSON objects, each checked, so that a typo is named before anything is created."""
    parsed = []
    for text in values or []:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as why:
            raise InvalidArgument(
                f"{option} {text!r} is not JSON ({why.msg}); e.g. {example}", field=option.lstrip("-")
            ) from None
        if not isinstance(value, dict):
            raise InvalidArgument(
                f"{option} is a JSON object such as {example}, not {text!r}", field=option.lstrip("-")
            )
        parsed.append(value)
    return parsed


@dataclass(frozen=True)
class PredictionColumns:
    prediction: str
    id: str | None = None
    timestamp: str | None = None
    score: str | None = None
    tags: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)  # empty: every column not named above

    def checked(self, source: Source) -> tuple[list[str], list[str]]:
        """(features, every column to read), after checking that each named column exists."""
        source.require(
            [
                ("prediction-column", self.prediction),
                ("id-column", self.id),
                ("timestamp-column", self.timestamp),
                ("score-column", self.score),
                *(("tag-column", tag) for tag in self.tags),
                *(("feature-column", name) for name in self.features),
            ]
        )
        special = {self.prediction, self.id, self.timestamp, self.score, *self.tags} - {None}
        features = self.features or [column for column in source.columns if column not in special]
        if not features:
            raise InvalidArgument(f"{source.path.name} has no feature columns", field="feature-column")
        return features, [column for column in source.columns if column in {*features, *special}]


def check_target(name: str, tracking_uri: str | None) -> None:
    """Before a file is read: ``name`` is a monitor, or the ``NAME@ALIAS`` / ``NAME/VERSION`` of some monitor.
    (The SDK finds out on the first batch, and for a mistyped monitor name complains about the target's syntax.)"""
    import ridgeline
    from ridgeline.domain.errors import NotFound
    from ridgeline.domain.monitors import parse_target

    with ridgeline.Client(tracking_uri) as client:
        monitoring = client._backend.monitoring
        try:
            monitoring.get(name)
            return
        except NotFound:
            try:
                target = parse_target(name)
            except InvalidArgument:
                raise NotFound(f"no monitor named {name!r}", field="monitor") from None
        if not any(found["target"] == str(target) for found in monitoring.find(target.model_name)):
            raise NotFound(f"no monitor named or watching {name!r}", field="monitor")


def send_predictions(
    source: Source, name: str, columns: PredictionColumns, chunking: tuple[int, int], tracking_uri: str | None
) -> tuple[int, dict[str, int]]:
    import ridgeline.monitoring

    features, wanted = columns.checked(source)
    check_target(name, tracking_uri)
    where = source.path.name

    def send(frame: pd.DataFrame, first: int) -> dict[str, int]:
        done: dict[str, int] = ridgeline.monitoring.log_predictions(
            name,
            {feature: plain(frame[feature]) for feature in features},
            plain(frame[columns.prediction]),
            ids=None if columns.id is None else keys(frame[columns.id], where, first),
            timestamps=None if columns.timestamp is None else epoch_ms(frame[columns.timestamp], where, first),
            scores=None if columns.score is None else plain(frame[columns.score]),
            tags={tag: plain(frame[tag]) for tag in columns.tags} or None,
            tracking_uri=tracking_uri,
        )
        return done

    text = () if columns.id is None else (columns.id,)
    return _stream(source, wanted, chunking, text, "predictions", send)


def send_actuals(
    source: Source,
    name: str,
    id_column: str,
    value_column: str,
    timestamp_column: str | None,
    chunking: tuple[int, int],
    tracking_uri: str | None,
) -> tuple[int, dict[str, int]]:
    import ridgeline.monitoring

    source.require([("id-column", id_column), ("value-column", value_column), ("timestamp-column", timestamp_column)])
    wanted = [column for column in source.columns if column in (id_column, value_column, timestamp_column)]
    check_target(name, tracking_uri)
    where = source.path.name

    def send(frame: pd.DataFrame, first: int) -> dict[str, int]:
        done: dict[str, int] = ridgeline.monitoring.log_actuals(
            name,
            keys(frame[id_column], where, first),
            plain(frame[value_column]),
            None if timestamp_column is None else epoch_ms(frame[timestamp_column], where, first),
            tracking_uri=tracking_uri,
        )
        return done

    return _stream(source, wanted, chunking, (id_column,), "actuals", send)


def _stream(
    source: Source,
    columns: list[str],
    chunking: tuple[int, int],
    text: tuple[str, ...],
    what: str,
    send: Callable[[pd.DataFrame, int], dict[str, int]],
) -> tuple[int, dict[str, int]]:
    """Read ``source`` in chunks of ``chunking`` = (batch size, rows to skip) and ``send(frame, first_row)`` each,
    with a progress bar; returns (rows sent, the answers summed).

    A bad row stops the command with its row number in the file. The chunks before it stay logged (they are valid
    data), and the error gives the ``--skip-rows`` that sends the rest without sending those twice.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    batch_size, skip = chunking
    position = 0  # data rows of the file passed so far, skipped ones included
    totals: dict[str, int] = {}
    # On a terminal only, and transient: the summary line replaces the bar, an error stays the one line on stderr,
    # and a log file gets no bar drawn once at the end.
    with Progress(
        TextColumn(f"logging {what}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as bar:
        task = bar.add_task(what, total=source.rows)
        try:
            for frame in source.chunks(columns, batch_size, text):
                if position < skip:
                    dropped = min(skip - position, len(frame))
                    frame, position = frame.iloc[dropped:], position + dropped
                if frame.empty:
                    continue
                done = send(frame, position + 1)
                position += len(frame)
                for key, value in done.items():
                    totals[key] = totals.get(key, 0) + value
                bar.update(task, completed=position)
        except RidgelineError as why:
            if position > skip:
                why.message += (
                    f" (rows {skip + 1} to {position} were logged: once the file is fixed, "
                    f"--skip-rows {position} sends the rest)"
                )
            raise
    if position <= skip:
        after = f" after the {skip} skipped" if skip else ""
        raise InvalidArgument(f"{source.path.name} has no rows{after}", field="input")
    return position - skip, totals
