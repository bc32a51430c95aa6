"""``ridgeline quickstart``: train real scikit-learn models on bundled data sets, log them, then serve."""

from __future__ import annotations

import dataclasses
import itertools
import os
import shutil
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress

from ridgeline.cli.common import HomeOption, console, setting_help, shown_uri, user_errors
from ridgeline.cli.quickstart_monitoring import MONITOR, monitor_demo
from ridgeline.config import Settings

DATASETS = ("iris", "wine", "breast_cancer")
Grid = dict[str, list[Any]]
MODEL_GRIDS: dict[str, Grid] = {
    "gradient_boosting": {"learning_rate": [0.05, 0.1, 0.3], "max_depth": [2, 3]},
    "random_forest": {"n_estimators": [50, 150], "max_depth": [4, None]},
    "logistic_regression": {"C": [0.1, 1.0, 10.0]},
}


def _grid(grid: Grid) -> Iterator[dict[str, Any]]:
    keys = list(grid)
    for combo in itertools.product(*(grid[k] for k in keys)):
        yield dict(zip(keys, combo, strict=True))


def _load(name: str) -> tuple[Any, Any, Any, Any]:
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    loader: Callable[..., Any] = getattr(datasets, f"load_{name}")
    # Frames, so the packaged models get a signature with the real column names.
    x, y = loader(return_X_y=True, as_frame=True)
    return tuple(train_test_split(x, y, test_size=0.3, random_state=0, stratify=y))


def _build(family: str, params: dict[str, Any]) -> Any:
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if family == "gradient_boosting":
        return GradientBoostingClassifier(n_estimators=60, random_state=0, **params)
    if family == "random_forest":
        return RandomForestClassifier(random_state=0, **params)
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, **params))


def _train_one(run: Any, family: str, model: Any, data: tuple[Any, Any, Any, Any], dataset: str) -> None:
    from sklearn.metrics import (
        accuracy_score,
        classification_report,
        confusion_matrix,
        f1_score,
        log_loss,
        roc_auc_score,
    )

    x_train, x_val, y_train, y_val = data
    # The same split in every run of a data set: one dataset version, used by all of them.
    source = f"sklearn.datasets.load_{dataset}"
    run.log_dataset(x_train.assign(target=y_train), name=f"{dataset}-train", context="training", source=source)
    run.log_dataset(x_val.assign(target=y_val), name=f"{dataset}-validation", context="validation", source=source)
    model.fit(x_train, y_train)
    if family == "gradient_boosting":
        # One point per boosting stage: the learning curve the run page charts.
        for stage, (p_train, p_val) in enumerate(
            zip(model.staged_predict_proba(x_train), model.staged_predict_proba(x_val), strict=True)
        ):
            run.log_metrics(
                {
                    "train/log_loss": log_loss(y_train, p_train, labels=model.classes_),
                    "val/log_loss": log_loss(y_val, p_val, labels=model.classes_),
                    "val/accuracy": accuracy_score(y_val, model.classes_[p_val.argmax(axis=1)]),
                },
                step=stage,
            )
    proba = model.predict_proba(x_val)
    predicted = model.classes_[proba.argmax(axis=1)]
    multi = len(model.classes_) > 2
    run.log_metrics(
        {
            "accuracy": accuracy_score(y_val, predicted),
            "f1_macro": f1_score(y_val, predicted, average="macro"),
            "roc_auc": roc_auc_score(y_val, proba if multi else proba[:, 1], multi_class="ovr" if multi else "raise"),
            "log_loss": log_loss(y_val, proba, labels=model.classes_),
        }
    )
    run.log_text(classification_report(y_val, predicted), "evaluation/classification_report.txt")
    run.log_dict(
        {"labels": [int(label) for label in model.classes_], "matrix": confusion_matrix(y_val, predicted).tolist()},
        "evaluation/confusion_matrix.json",
    )
    run.log_model(model, name="model", input_example=x_val.head(5))


def model_name(dataset: str) -> str:
    return f"{dataset.replace('_', '-')}-classifier"


def _register(tracking_uri: str, loaded: dict[str, tuple[Any, Any, Any, Any]]) -> None:
    """Fill the registry as a team would: the three best runs of each data set become versions 1 to 3 (best last),
    the runner-up is the champion and the best the challenger; the best is then evaluated against the champion
    on the validation split and promoted through the validation gate, leaving an alias history to look at."""
    import ridgeline
    from ridgeline import registry

    with ridgeline.Client(tracking_uri) as client:
        for dataset in DATASETS:
            name = model_name(dataset)
            best = client.search_runs(_project(dataset), order_by="metrics.accuracy desc", limit=3).runs
            client.create_model(name, description=f"Classifies the {dataset.replace('_', ' ')} data set.")
            versions = [
                client.create_model_version(name, f"runs:/{run.id}/model", run_id=run.id) for run in reversed(best)
            ]
            client.set_model_alias(name, "champion", versions[1].version)
            client.set_model_alias(name, "challenger", versions[2].version)
            _, x_val, _, y_val = loaded[dataset]
            registry.evaluate(
                f"models:/{name}@challenger",
                x_val.assign(target=y_val),
                target="target",
                dataset_name=f"{dataset}-validation",
                tracking_uri=tracking_uri,
            )
            registry.promote(name, versions[2].version, require=["accuracy >= champion"], tracking_uri=tracking_uri)


def _project(dataset: str) -> str:
    return f"quickstart-{dataset.replace('_', '-')}"


def populate(tracking_uri: str) -> int:
    """Log the whole grid; returns the number of runs."""
    import ridgeline

    plan = [
        (dataset, family, params)
        for dataset in DATASETS
        for family, grid in MODEL_GRIDS.items()
        for params in _grid(grid)
    ]
    loaded = {name: _load(name) for name in DATASETS}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("training", total=len(plan))
        for dataset, family, params in plan:
            progress.update(task, description=f"{dataset}: {family} {params}")
            with ridgeline.start_run(
                project=_project(dataset),
                config={"model": family, **params},
                tracking_uri=tracking_uri,
                tags={"dataset": dataset, "family": family, "source": "quickstart"},
            ) as run:
                _train_one(run, family, _build(family, params), loaded[dataset], dataset)
            progress.advance(task)
        progress.update(task, description="registering the best models")
        _register(tracking_uri, loaded)
        progress.update(task, description="two weeks of production traffic for the wine model's monitor")
        monitor_demo(tracking_uri, loaded["wine"])
    return len(plan)


def _own_command() -> str:
    """How the user can run this same ``ridgeline`` again: its bare name only when that is on PATH."""
    running = Path(sys.argv[0]).resolve()
    on_path = shutil.which("ridgeline")
    if on_path and Path(on_path).resolve() == running:
        return "ridgeline"
    return os.path.relpath(running) if running.is_relative_to(Path.cwd()) else str(running)


def _has_display() -> bool:
    """A desktop session where a browser can open (not SSH, CI or a container without one)."""
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _demo_runs(tracking_uri: str) -> int:
    import ridgeline

    with ridgeline.Client(tracking_uri) as client:
        names = {_project(dataset) for dataset in DATASETS}
        return sum(project.run_count for project in client.list_projects() if project.name in names)


def quickstart(
    home: Path = HomeOption,
    port: int | None = typer.Option(None, "--port", help=setting_help("port", 5170), show_default=False),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Start the server once the runs are logged."),
    again: bool = typer.Option(False, "--again", help="Log the demo runs again even if the data folder has them."),
    open_browser: bool = typer.Option(
        True, "--open/--no-open", help="Open the web UI in a browser once the server is up (desktop sessions only)."
    ),
) -> None:
    """Train scikit-learn models on data sets bundled with scikit-learn, log every run, then start the server."""
    with user_errors():
        settings = Settings.load(home=home, port=port)
        # Log into the database the server will serve (RIDGELINE_BACKEND_URI included).
        target = settings.metadata_uri
        existing = _demo_runs(target)
        if existing and not again:
            console.print(f"{shown_uri(target)} already holds {existing} demo runs (--again logs another set).")
        else:
            started = time.perf_counter()
            count = populate(target)
            console.print(f"Logged {count} runs to {shown_uri(target)} in {time.perf_counter() - started:.1f}s.")
    base = f"http://127.0.0.1:{settings.port}"
    tracking = "" if home is None and settings.backend_uri is None else f" --tracking-uri {shown_uri(target)}"
    console.print(
        f"[bold]Open {base}/ in your browser[/bold]: the projects, their runs table, run pages and comparisons, "
        f"the registered models (/models) and the monitor of the wine model in production (/monitors/{MONITOR}).\n"
        "Try, in another terminal:\n"
        f"  {_own_command()} runs list -p quickstart-wine -o 'metrics.accuracy desc' -c metrics.accuracy"
        f" -c params.model{tracking}\n"
        f"  {_own_command()} models show iris-classifier{tracking}\n"
        f"  {_own_command()} monitors report {MONITOR} --segment region=south{tracking}\n"
        f"  {_own_command()} serve models:/iris-classifier@champion --port {settings.port + 1}"
        f" --tracking-uri {base}   # then POST rows to http://127.0.0.1:{settings.port + 1}/invocations\n"
        f"  curl -s {base}/api/v1/projects\n"
        f"  curl -s -X POST {base}/api/v1/runs/search -H 'content-type: application/json' \\\n"
        '       -d \'{"projects": ["quickstart-wine"], "filter": "metrics.accuracy > 0.95", '
        '"order_by": ["metrics.log_loss"], "limit": 5}\'\n'
        f"  open {base}/docs for the interactive API reference",
        highlight=False,
        soft_wrap=True,
    )
    if serve:
        from ridgeline.cli.server import run_server

        if open_browser and _has_display():
            # The server blocks this thread; the browser asks for the page once it is up.
            threading.Timer(1.5, webbrowser.open, args=[f"{base}/"]).start()

        run_server(dataclasses.replace(settings, host="127.0.0.1"), log_level="warning")
