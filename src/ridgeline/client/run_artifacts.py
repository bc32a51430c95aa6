"""The artifact methods of :class:`ridgeline.Run`: files, folders and in-memory objects uploaded in the background."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ridgeline.domain.errors import InvalidArgument

if TYPE_CHECKING:
    from ridgeline.client.backend import TrackingBackend
    from ridgeline.client.model_logging import ModelInfo
    from ridgeline.client.sender import Sender
    from ridgeline.client.uploader import ArtifactUploader, PendingUpload
    from ridgeline.config import Settings
    from ridgeline.flavors.signature import Signature

log = logging.getLogger("ridgeline")


class ArtifactLogging:
    """Mixed into ``Run``: artifacts go through the run's backend and are refused, like any logging, once the
    run is finished (checked under the sender's lock, which also guards the uploader's start)."""

    # The run's state this mixin relies on; Run sets all of it.
    id: str
    _backend: TrackingBackend
    _settings: Settings
    _sender: Sender
    _finished: bool
    _refuse_finished: Callable[[], None]

    # Started by the first artifact logged: runs without artifacts have no uploader thread.
    _uploader: ArtifactUploader | None = None

    def log_artifact(self, path: str | os.PathLike[str], name: str | None = None) -> None:
        """Upload a file, or a folder with everything in it, as artifacts of the run, in the background.

        A file is stored as ``name`` (default: its file name); a folder's files under ``name/`` (default: the
        folder's name). The call only looks the files up and returns; keep them unchanged until ``flush()`` or
        the end of the run (a file changed before its upload is stored as it is then, with a warning).
        """
        from ridgeline.client.uploader import PendingUpload, file_stamp
        from ridgeline.store.artifacts.paths import check_path

        source = Path(path)
        if source.is_file():
            dest = check_path(name if name is not None else source.name, "name")
            items = [PendingUpload(dest, source, file_stamp(source))]
        elif source.is_dir():
            prefix = check_path(name if name is not None else source.resolve().name, "name")
            items = []
            for folder, _dirs, files in os.walk(source):
                for file_name in sorted(files):
                    file = Path(folder, file_name)
                    relative = file.relative_to(source).as_posix()
                    items.append(PendingUpload(check_path(f"{prefix}/{relative}", "name"), file, file_stamp(file)))
        else:
            raise InvalidArgument(f"{str(source)!r} is neither a file nor a folder", field="path")
        self._upload(items)

    def log_text(self, text: str, name: str) -> None:
        """Store ``text`` (UTF-8) as the artifact ``name``, e.g. ``"notes/summary.md"``."""
        from ridgeline.client.artifact_formats import text_bytes

        self._log_bytes(name, text_bytes(text))

    def log_dict(self, obj: Any, name: str) -> None:
        """Store a dict (or any JSON/YAML-able object) as ``name``: JSON for ``.json``, YAML for ``.yaml``/``.yml``."""
        from ridgeline.client.artifact_formats import dict_bytes

        self._log_bytes(name, dict_bytes(obj, name))

    def log_image(self, image: Any, name: str) -> None:
        """Store a PIL image, numpy array (HxW, HxWx3, HxWx4) or matplotlib figure as a PNG named ``name``."""
        from ridgeline.client.artifact_formats import image_bytes

        self._log_bytes(name, image_bytes(image))

    def log_table(self, table: Any, name: str) -> None:
        """Store a pandas DataFrame as Parquet named ``name`` (e.g. ``"predictions.parquet"``)."""
        from ridgeline.client.artifact_formats import table_bytes

        self._log_bytes(name, table_bytes(table))

    def log_figure(self, figure: Any, name: str) -> None:
        """Store a matplotlib figure (``.png``/``.svg``) or a Plotly figure (``.html``/``.json``) as ``name``."""
        from ridgeline.client.artifact_formats import figure_bytes

        self._log_bytes(name, figure_bytes(figure, name))

    def log_model(
        self,
        model: Any,
        name: str = "model",
        *,
        input_example: Any = None,
        signature: Signature | dict[str, Any] | None = None,
        register_as: str | None = None,
        flavor: str | None = None,
        serialization: str | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> ModelInfo:
        """Package ``model`` (scikit-learn, XGBoost, LightGBM, PyTorch, ONNX, or any object with ``predict``) and
        store it as the run's artifacts under ``name/``; waits for the upload. See docs/model-format.md.

        ``input_example`` (DataFrame, ndarray or list of dicts) gives the signature and is stored with the model;
        ``register_as="NAME"`` also registers it as the next version of NAME. ``serialization="pickle"`` opts in to
        pickle where a flavor offers it (loading such a package then needs ``allow_pickle=True``).
        """
        from ridgeline.client.model_logging import log_model

        return log_model(
            self,
            model,
            name,
            input_example=input_example,
            signature=signature,
            register_as=register_as,
            flavor=flavor,
            serialization=serialization,
            description=description,
            tags=tags,
        )

    def _upload_and_wait(self, items: list[PendingUpload]) -> bool:
        """Upload now and wait until these uploads ended (stored, spooled or failed); False when flush_timeout ran
        out first."""
        self._upload(items)
        assert self._uploader is not None  # started by _upload
        return self._uploader.wait(self._settings.flush_timeout)

    def _log_bytes(self, name: str, data: bytes) -> None:
        from ridgeline.client.uploader import PendingUpload
        from ridgeline.store.artifacts.paths import check_path

        self._upload([PendingUpload(check_path(name, "name"), data)])

    def _upload(self, items: list[PendingUpload]) -> None:
        from ridgeline.client.uploader import ArtifactUploader

        with self._sender.lock:
            if self._finished:
                self._refuse_finished()
            if self._uploader is None:
                self._uploader = ArtifactUploader(self._backend, self.id, self._sender, self._settings.flush_timeout)
        self._uploader.submit(items)

    def _close_uploads(self) -> None:
        """Wait for pending uploads (bounded by flush_timeout) and report the ones that failed."""
        if self._uploader is None:
            return
        failures = self._uploader.close(self._settings.flush_timeout)
        if failures:
            log.error(
                "ridgeline: run %s ended with %d artifact(s) not uploaded: %s",
                self.id,
                len(failures),
                "; ".join(failures),
            )
