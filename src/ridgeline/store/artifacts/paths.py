"""Artifact path safety, in one place: every path a user names is checked here before any storage sees it.

An artifact path is accepted only when it is a clean relative POSIX path: segments of printable characters,
none empty, ``.`` or ``..``, no backslash, no percent-encoding (so ``%2e%2e``, ``%252e%252e``, ``%2f`` and
``%5c`` cannot turn into traversal after some later layer decodes them), no control characters or NUL, no
segment that Unicode compatibility normalisation (NFKC) turns into a dot segment or a separator (the full-width
dot U+FF0E and solidus U+FF0F, which some tools fold into ``.`` and ``/``), and a bounded length. Local storage
additionally resolves every real path and refuses one that leaves the root (a symlink placed inside the store
cannot lead outside it): see :func:`contained`.
"""

from __future__ import annotations

import os
import re
import unicodedata

from ridgeline.domain.errors import InvalidArgument

MAX_PATH_LENGTH = 1024
MAX_SEGMENT_LENGTH = 255
# Characters refused anywhere in a path: backslash (a separator on Windows and to some object stores' tools),
# percent (encoded traversal), and every control character including NUL and DEL.
_FORBIDDEN = re.compile(r"[\\%\x00-\x1f\x7f]")


def check_path(path: object, field: str = "path") -> str:
    """The path itself when it is a clean relative POSIX path; InvalidArgument naming the rule otherwise."""
    if not isinstance(path, str) or not path:
        raise InvalidArgument("an artifact path must be a non-empty string", field=field)
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_LENGTH:
        raise InvalidArgument(f"artifact path is longer than {MAX_PATH_LENGTH} bytes", field=field)
    bad = _FORBIDDEN.search(path)
    if bad is not None:
        raise InvalidArgument(
            f"artifact path contains a forbidden character {bad.group()!r} (no backslash, %, or control characters)",
            field=field,
        )
    if any(unicodedata.category(char) in ("Cs", "Cc", "Cf", "Zl", "Zp") for char in path):
        raise InvalidArgument("artifact path contains an invisible or unpaired character", field=field)
    if path.startswith("/"):
        raise InvalidArgument("artifact path must be relative (no leading /)", field=field)
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidArgument(
                "artifact path has an empty, '.' or '..' segment; give a plain relative path like dir/file.txt",
                field=field,
            )
        if len(segment.encode()) > MAX_SEGMENT_LENGTH:
            raise InvalidArgument(f"an artifact path segment is longer than {MAX_SEGMENT_LENGTH} bytes", field=field)
        if not segment.isascii() and _folds_into_traversal(segment):
            raise InvalidArgument(
                f"artifact path segment {segment!r} reads as '.', '..' or a separator once Unicode-normalised",
                field=field,
            )
    return path


def _folds_into_traversal(segment: str) -> bool:
    """Whether NFKC (what a filesystem, an object store's tooling or a later client may apply) makes the
    segment a dot segment or gives it a separator."""
    folded = unicodedata.normalize("NFKC", segment)
    return folded in (".", "..") or "/" in folded or "\\" in folded


def check_prefix(prefix: str | None, field: str = "prefix") -> str:
    """A listing prefix: empty (everything), or a clean path, optionally ending with ``/``."""
    if not prefix:
        return ""
    check_path(prefix.removesuffix("/"), field)
    return prefix


def contained(root: str, candidate: str) -> bool:
    """True when ``candidate``, with every symlink resolved, is ``root`` or lies under it."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(candidate)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


# Percent-escapes that must never reach us encoded: a server decodes the URL once before routing, so an escape
# of one of these in the raw URL is an attempt to smuggle a separator, a dot segment or a second encoding layer.
_SMUGGLING_ESCAPE = re.compile(r"%(2e|2f|5c|25|[01][0-9a-f]|7f)", re.IGNORECASE)


def check_raw_url_path(raw: str, field: str = "path") -> None:
    """Refuse an artifact path whose raw (still percent-encoded) URL form encodes ``.``, ``/``, ``\\``, ``%``
    or a control character; ordinary escapes (spaces, accented letters) pass."""
    escape = _SMUGGLING_ESCAPE.search(raw)
    if escape is not None:
        raise InvalidArgument(
            f"artifact path contains the encoded character {escape.group()!r}; send the path unencoded",
            field=field,
        )
