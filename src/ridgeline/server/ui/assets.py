"""The UI's static files and the Plotly.js bundle, served from memory under a content-versioned prefix.

Only files found under ``static/`` at start-up (plus Plotly's two files) can be requested: a fixed table, so no
path a client sends is ever joined onto the file system. URLs carry a digest of the content, so browsers may
cache them forever and an upgrade is picked up at once.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import mimetypes
import re
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

STATIC_ROOT = Path(__file__).resolve().parent / "static"
PLOTLY_JS = "vendor/plotly.min.js"
PLOTLY_CSS = "vendor/plotly.css"
# `import … from "./name.js"` (static imports of our own modules; dynamic import() is left to run time).
_STATIC_IMPORT = re.compile(r'^import\s[^;]*?\sfrom\s+"\./([\w./-]+\.js)";', re.MULTILINE)
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}


@dataclass
class Asset:
    body: bytes
    media_type: str
    _gzipped: bytes | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def gzipped(self) -> bytes:
        """Compressed once, when first needed (not at start-up: Plotly alone takes a noticeable moment).

        The lock makes a request that arrives mid-compression wait for it rather than compress a second time.
        """
        with self._lock:
            if self._gzipped is None:
                self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
            return self._gzipped


class Assets:
    def __init__(self, root: Path = STATIC_ROOT) -> None:
        self.files: dict[str, Asset] = {}
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                name = path.relative_to(root).as_posix()
                media_type = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                self.files[name] = Asset(path.read_bytes(), media_type)
        digest = hashlib.sha256()
        for name, asset in self.files.items():
            digest.update(name.encode() + b"\0" + asset.body)
        digest.update(_plotly_version().encode())
        self.build = digest.hexdigest()[:12]
        self._warming = threading.Lock()
        self._warmed = False

    def warm_in_background(self) -> None:
        """Compress Plotly in a worker thread, once: the first chart page then need not wait for it (~0.3 s).

        Started by the first page served, not at start-up, so servers that only answer the API never pay for it.
        """
        with self._warming:
            if self._warmed:
                return
            self._warmed = True
        threading.Thread(target=self.plotly.script.gzipped, name="ridgeline-assets", daemon=True).start()

    def url(self, name: str) -> str:
        if name not in self.files and name not in (PLOTLY_JS, PLOTLY_CSS):
            raise KeyError(f"no static file {name!r}")
        return f"/static/{self.build}/{name}"

    def module_imports(self, name: str) -> list[str]:
        """Every module ``js/NAME`` imports statically, directly or not (for ``<link rel="modulepreload">``)."""
        found: dict[str, None] = {}
        pending = [f"js/{name}"]
        while pending:
            asset = self.files[pending.pop()]
            for imported in _STATIC_IMPORT.findall(asset.body.decode()):
                path = f"js/{imported}"
                if path not in found and path in self.files:
                    found[path] = None
                    pending.append(path)
        return [path.removeprefix("js/") for path in found]

    def get(self, name: str) -> Asset | None:
        if name == PLOTLY_JS:
            return self.plotly.script
        if name == PLOTLY_CSS:
            return self.plotly.stylesheet
        return self.files.get(name)

    @cached_property
    def plotly(self) -> PlotlyBundle:
        return PlotlyBundle.load()


def _plotly_version() -> str:
    from importlib.metadata import version

    return version("plotly")


@dataclass(frozen=True)
class PlotlyBundle:
    """Plotly.js from the ``plotly`` package, made to live under a strict Content-Security-Policy.

    Plotly injects its stylesheet rules into a ``<style>`` element at run time, which the policy blocks. We
    read those rules out of the bundle and serve them as a stylesheet; the page names that stylesheet with the
    id Plotly looks for and the ``no-inline-styles`` class that tells Plotly not to inject. Bundled libraries
    (MapLibre) inject their own CSS unless an element with a given id exists; ``guard_ids`` lists those ids, and
    the page carries empty elements with them (we draw no maps).
    """

    script: Asset
    stylesheet: Asset
    guard_ids: tuple[str, ...]

    @classmethod
    def load(cls) -> PlotlyBundle:
        package = importlib.util.find_spec("plotly")
        if package is None or not package.submodule_search_locations:
            raise RuntimeError("the plotly package is missing; reinstall ridgeline")
        folder = Path(next(iter(package.submodule_search_locations)))
        source = (folder / "package_data" / "plotly.min.js").read_text(encoding="utf-8")
        return cls(
            Asset(source.encode(), "text/javascript"),
            Asset(plotly_rules(source).encode(), "text/css"),
            tuple(dict.fromkeys(re.findall(r'getElementById\("([0-9a-f]{64})"\)', source))),
        )


_RULE = re.compile(r'"([^"]+)":(?:\'([^\']*)\'|"([^"]*)")')


def plotly_rules(source: str) -> str:
    """Plotly's own stylesheet (the selector → declarations table it would inject), as CSS text."""
    start = source.find('{"X,X div":')
    if start < 0:
        raise RuntimeError("this Plotly.js bundle has no style table where Ridgeline expects one")
    table = source[start + 1 : source.index("}", start)]
    rules = []
    for selector, single, double in _RULE.findall(table):
        # The same placeholders Plotly expands when it injects the rules itself.
        expanded = selector.replace("X", ".js-plotly-plot .plotly").replace("Y", ".plotly-notifier")
        rules.append(f"{expanded}{{{single or double}}}")
    return "\n".join(rules) + "\n"
