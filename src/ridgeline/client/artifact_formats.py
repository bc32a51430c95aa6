"""Python objects turned into artifact files: text, JSON/YAML, PNG, Parquet, and figures.

The heavy libraries (PyYAML, Pillow, numpy, matplotlib, pandas, pyarrow, Plotly) are imported inside each
function, so ``import ridgeline`` never pays for them; a missing one is named with the extra that brings it.
"""

from __future__ import annotations

import io
import json
from typing import Any

from ridgeline.domain.errors import InvalidArgument


def _require(module: str, package: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise InvalidArgument(
            f"this needs {package}: pip install {package} (or pip install 'ridgeline[artifacts]')"
        ) from None


def _suffix(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""


def text_bytes(text: str) -> bytes:
    if not isinstance(text, str):
        raise InvalidArgument(f"log_text takes a str, got {type(text).__name__}", field="text")
    return text.encode("utf-8")


def dict_bytes(obj: Any, name: str) -> bytes:
    """JSON for ``.json``, YAML for ``.yaml``/``.yml``."""
    suffix = _suffix(name)
    if suffix == "json":
        return json.dumps(obj, indent=2, ensure_ascii=False, default=str).encode("utf-8")
    if suffix in ("yaml", "yml"):
        yaml = _require("yaml", "pyyaml")
        return str(yaml.safe_dump(obj, sort_keys=False, allow_unicode=True)).encode("utf-8")
    raise InvalidArgument(f"log_dict writes .json, .yaml or .yml files; got {name!r}", field="name")


def _is_matplotlib_figure(obj: Any) -> bool:
    return type(obj).__module__.startswith("matplotlib") and hasattr(obj, "savefig")


def _is_plotly_figure(obj: Any) -> bool:
    return type(obj).__module__.startswith("plotly") and hasattr(obj, "to_json")


def image_bytes(image: Any) -> bytes:
    """PNG bytes of a PIL image, a numpy array (HxW gray, HxWx3 RGB, HxWx4 RGBA) or a matplotlib figure."""
    if _is_matplotlib_figure(image):
        return _savefig(image, "png")
    buffer = io.BytesIO()
    if type(image).__module__.startswith("PIL"):
        image.save(buffer, format="PNG")
        return buffer.getvalue()
    if type(image).__module__ == "numpy":
        numpy = _require("numpy", "numpy")
        pil = _require("PIL.Image", "pillow")
        array = numpy.asarray(image)
        if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
            raise InvalidArgument(f"an image array is HxW, HxWx3 or HxWx4; got shape {array.shape}", field="image")
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        if array.dtype != numpy.uint8:
            # Floats are taken as 0..1 intensities (matplotlib's convention), other integers as 0..255.
            scale = 255.0 if array.dtype.kind == "f" else 1.0
            array = numpy.clip(array * scale, 0, 255).astype(numpy.uint8)
        pil.fromarray(array).save(buffer, format="PNG")
        return buffer.getvalue()
    raise InvalidArgument(
        f"log_image takes a PIL image, a numpy array or a matplotlib figure; got {type(image).__name__}",
        field="image",
    )


def table_bytes(table: Any) -> bytes:
    """Parquet bytes of a pandas DataFrame."""
    if not (type(table).__module__.startswith("pandas") and hasattr(table, "to_parquet")):
        raise InvalidArgument(f"log_table takes a pandas DataFrame; got {type(table).__name__}", field="table")
    _require("pyarrow", "pyarrow")
    buffer = io.BytesIO()
    table.to_parquet(buffer, engine="pyarrow")
    return buffer.getvalue()


def _savefig(figure: Any, fmt: str) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, bbox_inches="tight")
    return buffer.getvalue()


def figure_bytes(figure: Any, name: str) -> bytes:
    """matplotlib as .png or .svg; Plotly as .html (self-contained) or .json."""
    suffix = _suffix(name)
    if _is_matplotlib_figure(figure):
        if suffix not in ("png", "svg"):
            raise InvalidArgument(f"a matplotlib figure is saved as .png or .svg; got {name!r}", field="name")
        return _savefig(figure, suffix)
    if _is_plotly_figure(figure):
        if suffix == "json":
            return str(figure.to_json()).encode("utf-8")
        if suffix == "html":
            # Plotly.js inlined: the file opens offline, and the server never renders it inline (attachment).
            return str(figure.to_html(include_plotlyjs=True, full_html=True)).encode("utf-8")
        raise InvalidArgument(f"a Plotly figure is saved as .html or .json; got {name!r}", field="name")
    raise InvalidArgument(
        f"log_figure takes a matplotlib or Plotly figure; got {type(figure).__name__}", field="figure"
    )
