"""The package manifest, ``ridgeline-model.json``: what a model package is and how to load it (docs/model-format.md).

Reading needs nothing but the standard library, so the registry can read a package's flavor and signature without
importing numpy, pandas or a framework.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ridgeline.domain.errors import InvalidArgument
from ridgeline.store.artifacts.paths import check_path, contained

MANIFEST_NAME = "ridgeline-model.json"
FORMAT_VERSION = 1
INPUT_EXAMPLE_NAME = "input_example.json"
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Manifest:
    flavor: str
    flavor_version: str
    serialization: str
    requirements: list[str]
    files: dict[str, dict[str, Any]]
    flavor_options: dict[str, Any] = field(default_factory=dict)
    signature: dict[str, Any] | None = None
    input_example: str | None = None
    python_version: str = field(default_factory=platform.python_version)
    ridgeline_version: str = ""
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    format_version: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "flavor": self.flavor,
            "flavor_version": self.flavor_version,
            "serialization": self.serialization,
            "python_version": self.python_version,
            "ridgeline_version": self.ridgeline_version,
            "requirements": self.requirements,
            "signature": self.signature,
            "input_example": self.input_example,
            "flavor_options": self.flavor_options,
            "files": self.files,
            "created_at": self.created_at,
        }

    def write(self, folder: Path) -> None:
        (folder / MANIFEST_NAME).write_text(json.dumps(self.to_json(), indent=2, sort_keys=False) + "\n")


def parse_manifest(data: bytes | str) -> Manifest:
    """A manifest from its JSON; a missing or malformed field is an ``InvalidArgument`` naming it."""
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise InvalidArgument(f"{MANIFEST_NAME} is not JSON: {exc}", field="manifest") from None
    if not isinstance(raw, dict):
        raise InvalidArgument(f"{MANIFEST_NAME} is not a JSON object", field="manifest")
    version = raw.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise InvalidArgument(
            f"model package format {version!r} is not one this Ridgeline reads (up to {FORMAT_VERSION}); "
            "upgrade ridgeline",
            field="format_version",
        )
    for name, kind in (("flavor", str), ("serialization", str), ("requirements", list), ("files", dict)):
        if not isinstance(raw.get(name), kind):
            raise InvalidArgument(f"{MANIFEST_NAME}: {name!r} is missing or not a {kind.__name__}", field=name)
    # Names of files in the package: clean relative paths, so none is read from outside the package folder.
    for name in raw["files"]:
        check_path(name, "files")
    if raw.get("input_example") is not None:
        check_path(raw["input_example"], "input_example")
    known = {name for name in Manifest.__dataclass_fields__}
    return Manifest(**{key: value for key, value in raw.items() if key in known})


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise InvalidArgument(f"{folder} is not a Ridgeline model package (no {MANIFEST_NAME})", field="uri")
    return parse_manifest(path.read_bytes())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def describe_files(folder: Path) -> dict[str, dict[str, Any]]:
    """Every file of the package but the manifest: relative path → sha256 and size."""
    return {
        path.relative_to(folder).as_posix(): {"sha256": file_sha256(path), "size": path.stat().st_size}
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST_NAME
    }


def verify_files(folder: Path, manifest: Manifest) -> None:
    """Refuse a package whose files are missing or differ from what the manifest recorded; a file reached
    through a symlink that leads out of the package is refused unread. The input example, read when loading,
    must be one of those files."""
    if manifest.input_example is not None and manifest.input_example not in manifest.files:
        raise InvalidArgument(
            f"the input example {manifest.input_example!r} is not one of the package's recorded files",
            field="input_example",
        )
    for name, info in manifest.files.items():
        path = folder / name
        if not contained(str(folder), str(path)):
            raise InvalidArgument(f"model package file {name!r} leads outside {folder}", field="files")
        if not path.is_file():
            raise InvalidArgument(f"model package {folder} lacks its file {name!r}", field="files")
        if file_sha256(path) != info.get("sha256"):
            raise InvalidArgument(
                f"model package file {name!r} does not match the sha256 its manifest recorded (altered or corrupt)",
                field="files",
            )
