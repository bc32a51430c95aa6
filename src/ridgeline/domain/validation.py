"""Rules for every value a user can send, checked at the edge (SDK call or HTTP request).

Each check raises :class:`InvalidArgument` naming the offending field, so a caller can tell exactly which
part of a batch was wrong.
"""

from __future__ import annotations

import numbers
import re
import unicodedata
from urllib.parse import unquote

from ridgeline.domain.errors import InvalidArgument

MAX_NAME_LENGTH = 200
MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_NOTES_LENGTH = 100_000
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# Timestamps are epoch milliseconds; anything past year 9999 is a unit mistake (seconds vs ns).
MAX_TIMESTAMP_MS = 253_402_300_799_999

_KEY = re.compile(r"[A-Za-z0-9_\-./: ]+")
_ID = re.compile(r"[0-9a-f]{32}")
# A URI scheme of two letters or more: one letter before ":" is a Windows drive (C:\...), a local path.
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]+):")
# Decoding layers tried on a URI before looking for dot segments: %252e%252e is two, nobody nests deeper.
_DECODING_ROUNDS = 4


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_name(value: object, field: str, max_length: int = MAX_NAME_LENGTH) -> str:
    """A display name (project, run): printable text, no surrounding blanks."""
    if not isinstance(value, str):
        raise InvalidArgument(f"{field} must be a string, got {type(value).__name__}", field=field)
    if not value.strip():
        raise InvalidArgument(f"{field} must not be empty", field=field)
    if len(value) > max_length:
        raise InvalidArgument(f"{field} is {len(value)} characters long; the limit is {max_length}", field=field)
    if value != value.strip():
        raise InvalidArgument(f"{field} must not start or end with whitespace: {_describe(value)}", field=field)
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise InvalidArgument(f"{field} must not contain control characters: {_describe(value)}", field=field)
    return value


def check_key(value: object, field: str) -> str:
    """A metric, param or tag key: letters, digits and ``_ - . / : space``, at most 250 characters."""
    if not isinstance(value, str):
        raise InvalidArgument(f"{field} must be a string, got {type(value).__name__}", field=field)
    if not value:
        raise InvalidArgument(f"{field} must not be empty", field=field)
    if len(value) > MAX_KEY_LENGTH:
        raise InvalidArgument(f"{field} is {len(value)} characters long; the limit is {MAX_KEY_LENGTH}", field=field)
    if not _KEY.fullmatch(value) or value != value.strip():
        raise InvalidArgument(
            f"{field} {_describe(value)} may only hold letters, digits, '_', '-', '.', '/', ':' and inner spaces",
            field=field,
        )
    return value


def check_text(value: object, field: str, max_length: int) -> str:
    """A free-text value (param or tag value, notes); non-strings are turned into their ``str()``."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > max_length:
        raise InvalidArgument(f"{field} is {len(text)} characters long; the limit is {max_length}", field=field)
    if "\x00" in text:
        raise InvalidArgument(f"{field} must not contain NUL characters", field=field)
    return check_encodable(text, field)


def check_encodable(text: str, field: str) -> str:
    """Text that UTF-8 can carry: lone surrogates (from decoding odd file names) cannot be stored or sent."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidArgument(
                f"{field} holds a character that is not valid Unicode text at position {exc.start}", field=field
            ) from None
    return text


def check_source_uri(value: object, field: str = "source", max_length: int = 10_000) -> str:
    """Where a model version's files are: a URI of another store (``runs:/``, ``models:/``, ``mlflow-artifacts:/``,
    ``s3://``, ...). A local path or ``file:`` URI is refused (the server would name, and a client later fetch,
    files of the disk it runs on), and so is any ``..`` segment in any spelling: percent-encoded once or twice,
    full-width, behind a backslash, ``?``, ``#`` or ``;``.
    """
    text = check_text(value, field, max_length)
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise InvalidArgument(f"{field} must not contain control characters", field=field)
    scheme = _SCHEME.match(text)
    if scheme is None or scheme.group(1).lower() == "file":
        raise InvalidArgument(
            f"{field} {_describe(text)} is a local path; a source is a URI such as runs:/RUN_ID/PATH, "
            "models:/NAME/VERSION, mlflow-artifacts:/... or s3://bucket/path",
            field=field,
        )
    if ".." in _uri_segments(text[scheme.end() :]):
        raise InvalidArgument(f"{field} {_describe(text)} has a '..' segment", field=field)
    return text


def _uri_segments(rest: str) -> set[str]:
    """The segments of a URI's path in every decoded and normalised form it could take further down the line."""
    segments: set[str] = set()
    for _ in range(_DECODING_ROUNDS):
        folded = unicodedata.normalize("NFKC", rest)
        segments.update(re.split(r"[/\\?#;]", folded))
        decoded = unquote(folded)
        if decoded == folded:
            break
        rest = decoded
    return segments


def check_metric_value(value: object, field: str) -> float:
    """A real number; NaN and ±inf are kept as they are."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgument(f"{field} must be a number, got {_describe(value)}", field=field)
    return float(value)


def check_step(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgument(f"{field} must be an integer, got {_describe(value)}", field=field)
    step = int(value)
    if not INT64_MIN <= step <= INT64_MAX:
        raise InvalidArgument(f"{field} {step} is outside the 64-bit integer range", field=field)
    return step


def check_timestamp(value: object, field: str) -> int:
    """Epoch milliseconds, from 1970 to the year 9999."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgument(
            f"{field} must be an integer number of epoch milliseconds, got {_describe(value)}", field=field
        )
    stamp = int(value)
    if not 0 <= stamp <= MAX_TIMESTAMP_MS:
        raise InvalidArgument(
            f"{field} {stamp} is not epoch milliseconds between 1970 and 9999 (seconds or nanoseconds?)",
            field=field,
        )
    return stamp


def check_id(value: object, field: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidArgument(f"{field} must be 32 lowercase hex characters, got {_describe(value)}", field=field)
    return value


def check_batch_id(value: object, field: str = "batch_id") -> str:
    if not isinstance(value, str) or not 8 <= len(value) <= 64 or not _KEY.fullmatch(value) or " " in value:
        raise InvalidArgument(
            f"{field} must be 8 to 64 characters of [A-Za-z0-9_-.:/], got {_describe(value)}", field=field
        )
    return value


def check_limit(value: int, field: str = "limit", maximum: int = 10_000) -> int:
    if not 1 <= value <= maximum:
        raise InvalidArgument(f"{field} must be between 1 and {maximum}, got {value}", field=field)
    return value
