"""Data of the run page's tabs beside Overview: environment facts, lineage (inputs, parent, outputs) and the
graph's nodes. The file contents (packages, diff, console) are read by the browser, a bounded head each."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ridgeline.domain.entities import ArtifactFile, RunInput, RunRecord
from ridgeline.services.datasets import DatasetService

TABS = ("overview", "artifacts", "environment", "system", "lineage")
SYSTEM_PREFIX = "system/"
# The graph stays readable: past this many output nodes, the rest are summed up in one node.
MAX_OUTPUT_NODES = 8

# (label, tag) pairs of the Environment tab's facts, in the order shown.
GIT_FACTS = (
    ("Commit", "ridgeline.git.commit"),
    ("Branch", "ridgeline.git.branch"),
    ("Remote", "ridgeline.git.remote"),
    ("Uncommitted changes", "ridgeline.git.dirty"),
    ("Diff cut at the size limit", "ridgeline.git.diff_truncated"),
    ("Repository", "ridgeline.git.root"),
)
SOURCE_FACTS = (
    ("Command", "ridgeline.source.command"),
    ("Entry point", "ridgeline.source.entry_point"),
    ("Working directory", "ridgeline.source.working_dir"),
    ("Python", "ridgeline.python.version"),
    ("Implementation", "ridgeline.python.implementation"),
    ("Interpreter", "ridgeline.python.executable"),
    ("Packages", "ridgeline.python.packages"),
)
HOST_FACTS = (
    ("Host", "ridgeline.host.name"),
    ("OS", "ridgeline.host.os"),
    ("CPU", "ridgeline.host.cpu"),
    ("CPU cores", "ridgeline.host.cpu_count"),
    ("Memory", "ridgeline.host.memory"),
    ("GPUs", "ridgeline.host.gpus"),
    ("GPU driver", "ridgeline.host.gpu_driver"),
)


def chosen_tab(tab: str) -> str:
    """Lenient like the chart controls: an unknown tab in a hand-edited link opens the overview."""
    return tab if tab in TABS else "overview"


def facts(tags: dict[str, str], pairs: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    return [(label, tags[tag]) for label, tag in pairs if tag in tags]


def human_bytes(size: int | None) -> str:
    """Decimal units, as file managers show them (the browser's artifact-links.js formats the same way)."""
    if size is None:
        return ""
    if size < 1000:
        return f"{size} B"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB", "PB"):
        value /= 1000
        if value < 1000 or unit == "PB":
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size} B"  # unreachable: the loop always returns


@dataclass(frozen=True)
class LineageView:
    inputs: list[RunInput]
    outputs: list[ArtifactFile]
    graph: dict[str, Any]


def _output_nodes(run_id: str, files: list[ArtifactFile]) -> list[dict[str, Any]]:
    """One node per top-level folder (with its file count) or top-level file, largest first."""
    sizes: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for item in files:
        top = item.path.split("/", 1)[0] + ("/" if "/" in item.path else "")
        sizes[top] += item.size
        counts[top] += 1
    names = sorted(sizes, key=lambda name: (-sizes[name], name))
    nodes: list[dict[str, Any]] = []
    for name in names[:MAX_OUTPUT_NODES]:
        detail = (
            f"{counts[name]} file{'' if counts[name] == 1 else 's'}, {human_bytes(sizes[name])}"
            if name.endswith("/")
            else human_bytes(sizes[name])
        )
        href = f"/runs/{run_id}?tab=artifacts" + ("" if name.endswith("/") else f"&file={quote(name)}")
        nodes.append({"kind": "artifact", "label": name, "detail": detail, "href": href, "title": name})
    rest = names[MAX_OUTPUT_NODES:]
    if rest:
        more = sum(counts[name] for name in rest)
        nodes.append({"kind": "more", "label": f"+{len(rest)} more", "detail": f"{more} files", "href": None})
    return nodes


def lineage_view(datasets: DatasetService, run: RunRecord, parent: RunRecord | None) -> LineageView:
    lineage = datasets.lineage(run.id)
    inputs: list[dict[str, Any]] = [
        {
            "kind": "dataset",
            "label": item.version.dataset_name,
            "detail": f"{item.context} · {item.version.digest[:12]}",
            "href": f"/datasets/{quote(item.version.dataset_name, safe='')}?version={item.version.id}",
            "title": f"{item.version.dataset_name} ({item.context}), version {item.version.digest}",
        }
        for item in lineage.inputs
    ]
    if run.parent_run_id is not None:
        inputs.append(
            {
                "kind": "run",
                "label": parent.name if parent else run.parent_run_id,
                "detail": "parent run" if parent else "parent run (not found)",
                "href": f"/runs/{parent.id}" if parent else None,
                "title": parent.name if parent else run.parent_run_id,
            }
        )
    graph = {
        "run": {"kind": "this", "label": run.name, "detail": "this run", "href": None, "title": run.name},
        "inputs": inputs,
        "outputs": _output_nodes(run.id, lineage.outputs),
    }
    return LineageView(lineage.inputs, lineage.outputs, graph)
