"""Artifact path safety (store/artifacts/paths.py): every traversal form refused, ordinary names accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from ridgeline.domain.errors import InvalidArgument
from ridgeline.store.artifacts.paths import MAX_PATH_LENGTH, check_path, check_raw_url_path, contained

# Every form a path could take to leave a run's folder, or to become such a path after decoding.
TRAVERSALS = [
    "..",
    "../canary.txt",
    "a/../../canary.txt",
    "a/..",
    "/etc/passwd",
    "//server/share",
    "%2e%2e/canary.txt",
    "%2E%2E/canary.txt",
    "%252e%252e/canary.txt",
    "a%2f..%2fcanary.txt",
    "..%2fcanary.txt",
    "..%5ccanary.txt",
    "..\\canary.txt",
    "a\\b",
    "C:\\windows",
    "a\x00b",
    "a\nb",
    "a\x7fb",
    "a//b",
    "a/",
    "./a",
    "a/./b",
    ".",
    "",
    "a" * (MAX_PATH_LENGTH + 1),
    "a/" + "b" * 256,
    "a\u202eb",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_forms_are_refused(path: str) -> None:
    with pytest.raises(InvalidArgument):
        check_path(path)


@pytest.mark.parametrize(
    "path",
    ["model.pkl", "a/b/c.txt", "plots/loss curve.png", "données/été.csv", ".hidden", "a..b", "...", "x" * 255],
)
def test_ordinary_paths_are_accepted(path: str) -> None:
    assert check_path(path) == path


@pytest.mark.parametrize("raw", ["%2e%2e/x", "a%2Fb", "a%5cb", "%252e", "a%00b", "a%7f"])
def test_encoded_separators_and_dots_in_the_raw_url_are_refused(raw: str) -> None:
    with pytest.raises(InvalidArgument):
        check_raw_url_path(raw)


def test_ordinary_escapes_in_the_raw_url_pass() -> None:
    check_raw_url_path("plots/loss%20curve.png")
    check_raw_url_path("donn%C3%A9es/%C3%A9t%C3%A9.csv")


def test_contained_resolves_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "out").symlink_to(tmp_path)
    assert contained(str(root), str(root / "a" / "b"))
    assert not contained(str(root), str(root / "out" / "x"))
    assert not contained(str(root), str(tmp_path / "rootx"))
