"""Helpers for the runs-table browser tests: the shared 240-run project and readers of what the page shows.

The fixtures that serve them (``runs_server``, ``runs_reader``, ``runs_table``) live in tests/ui/conftest.py.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx

import ridgeline
from ridgeline import RunRecord
from support.browser import UiServer, navigate

T0 = 1_700_000_000_000
RUN_COUNT = 240
MODELS = ("rf", "sgd", "mlp")
DASH = "\u2013"  # the en dash between the numbers of "1-100 of 240 runs"


class ConsoleLog(Protocol):
    """The ``console`` fixture: the errors the page logged (checked when the test ends)."""

    errors: list[str]


@dataclass
class Table:
    """The shared project: its name and id, and every run as the Client reads it, newest first."""

    name: str
    project_id: str
    runs: list[RunRecord]

    @property
    def by_id(self) -> dict[str, RunRecord]:
        return {run.id: run for run in self.runs}

    @property
    def path(self) -> str:
        return f"/projects/{self.project_id}"


def build_table(server: UiServer, reader: Any) -> Table:
    """240 runs: model rf/sgd/mlp (missing on every tenth run), lr, "batch size", team; distinct accuracies."""
    name = f"table-{uuid.uuid4().hex[:8]}"
    rng = random.Random(3)
    accuracies = [value / 100_000 for value in rng.sample(range(100_000), RUN_COUNT)]
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=30) as http:
        for index in range(RUN_COUNT):
            params = {"lr": str((index % 7 + 1) / 1000), "batch size": str(2 ** (4 + index % 4))}
            if index % 10 != 9:
                params["model"] = MODELS[index % 3]
            body = {
                "project": name,
                "name": f"run-{index:03d}",
                "start_time": T0 + 1000 * index,
                "params": params,
                "tags": {"team": ("vision", "nlp")[index % 2]},
            }
            created = http.post("/runs", json=body)
            created.raise_for_status()
            run_id = created.json()["id"]
            accuracy = accuracies[index]
            metrics = {"accuracy": accuracy, "loss": round(1 - accuracy, 6), "val/loss": (index % 13) / 10}
            batch = {
                "batch_id": uuid.uuid4().hex,
                "metrics": [
                    {"key": key, "steps": [0, 1], "values": [0.0, value], "timestamps": [T0, T0 + 1]}
                    for key, value in metrics.items()
                ],
            }
            http.post(f"/runs/{run_id}/batches", json=batch).raise_for_status()
    runs = reader.search_runs(name, limit=1000).runs
    assert len(runs) == RUN_COUNT
    return Table(name, runs[0].project_id, runs)


def row_ids(page: Any) -> list[str]:
    ids: list[str] = page.locator("#runs tbody tr[data-run-id]").evaluate_all("rows => rows.map(r => r.dataset.runId)")
    return ids


def header_fields(page: Any) -> list[str]:
    """The field of every sortable column, left to right (each header links to "Sort by FIELD")."""
    titles: list[str] = page.locator("#runs thead th a[title]").evaluate_all("links => links.map(a => a.title)")
    return [title.removeprefix("Sort by ") for title in titles]


def column(page: Any, field: str) -> list[dict[str, str]]:
    """The cells of one column: their text, title (the exact value) and class, top to bottom."""
    cells: list[dict[str, str]] = page.evaluate(
        """field => {
          const headers = [...document.querySelectorAll("#runs thead th")];
          const index = headers.findIndex(th => th.querySelector(`a[title="Sort by ${field}"]`));
          if (index < 0) throw new Error(`no column ${field}`);
          return [...document.querySelectorAll("#runs tbody tr[data-run-id]")].map(row => {
            const cell = row.cells[index];
            return {text: cell.innerText.trim(), title: cell.title, cls: cell.className,
                    align: getComputedStyle(cell).textAlign};
          });
        }""",
        field,
    )
    return cells


def page_summary(page: Any) -> str:
    text: str = page.locator("#page-summary").inner_text()
    return text


def span(first: int, last: int, total: int) -> str:
    return f"{first}{DASH}{last} of {total} runs"


def url_query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def group_rows(page: Any) -> list[str]:
    texts: list[str] = page.locator("#runs tr.group-row th").all_inner_texts()
    return [" ".join(text.split()) for text in texts]


def apply_filter(page: Any, text: str) -> None:
    page.fill("#filter", text)
    navigate(page, lambda: page.get_by_role("button", name="Apply").click())


def project_id_of(server: UiServer, name: str) -> str:
    with ridgeline.Client(tracking_uri=server.url) as client:
        return client.get_project(name).id


def sdk_runs(server: UiServer, project: str, count: int) -> list[str]:
    ids = []
    for index in range(count):
        with ridgeline.start_run(
            project=project, name=f"run-{index}", config={"index": index}, tracking_uri=server.url
        ) as run:
            run.log_metric("loss", 1 / (index + 1))
        ids.append(run.id)
    return ids
