"""The artifact service of a data folder or database, for the CLI commands that work on it directly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ridgeline.config import Settings
from ridgeline.services.artifacts import ArtifactService


@contextmanager
def artifact_service(
    home: Path | None, backend_uri: str | None, artifacts_uri: str | None
) -> Iterator[ArtifactService]:
    from ridgeline.store.artifacts.storage import open_storage
    from ridgeline.store.metadata import MetadataStore

    settings = Settings.load(home=home, backend_uri=backend_uri, artifacts_uri=artifacts_uri)
    store = MetadataStore(settings.metadata_uri)
    try:
        yield ArtifactService(store, open_storage(settings.artifacts_location), settings.max_artifact_size)
    finally:
        store.close()
