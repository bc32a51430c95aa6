"""Run Ridgeline's benchmarks beside their peer (MLflow; Evidently for monitoring) and print ours, theirs and
the ratio.

    .venv/bin/python benchmarks/run.py [--quick] [--only NAME ...] [--reuse-mlflow] [--plain]

MLflow runs in its own venv (`benchmarks/.venv-mlflow`, created on first use with the latest 3.x), Evidently in
`benchmarks/.venv-evidently` (created when a benchmark first needs it); a benchmark module names its peer in
`PEER` (default MLflow). Every measurement runs in a fresh subprocess, servers on 127.0.0.1 only. Results go to
`benchmarks/.work/results.json` (entries for benchmarks not run this time are kept).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    MLFLOW,
    PEER_VENV,
    ROOT,
    TIMES,
    WORK_DIR,
    Context,
    Peer,
    Report,
    Row,
    ensure_peer_venv,
    fmt_number,
    installed_version,
    load_average,
    load_json,
    machine_info,
    ours_python,
    save_json,
)

MODULES = [
    "bench_log_metric",
    "bench_ingest",
    "bench_search",
    "bench_history",
    "bench_startup",
    "bench_ui",
    "bench_artifacts",
    "bench_mlflow_api",
    "bench_serving",
    "bench_monitoring",
]
RESULTS = WORK_DIR / "results.json"
HEADERS = ["benchmark", "measure", "unit", "Ridgeline", "MLflow", "ratio", "target", "met"]  # "MLflow": the peer


def load_benchmarks() -> dict[str, ModuleType]:
    modules = [importlib.import_module(name) for name in MODULES]
    return {m.NAME: m for m in modules}


def peer_of(module: ModuleType) -> Peer:
    peer: Peer = getattr(module, "PEER", MLFLOW)
    return peer


def parse_args(names: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a few minutes in all)")
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME", help=f"any of: {', '.join(names)}")
    parser.add_argument(
        "--reuse-mlflow",
        action="store_true",
        help="reuse peer figures (MLflow's, Evidently's) measured earlier with the same sizes and peer version",
    )
    parser.add_argument("--skip-ours", action="store_true", help="measure MLflow only")
    parser.add_argument("--skip-mlflow", action="store_true", help="measure Ridgeline only")
    parser.add_argument("--upgrade-mlflow", action="store_true", help="pip-upgrade MLflow in its venv first")
    parser.add_argument("--plain", action="store_true", help="plain-text table even if rich is installed")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    return parser.parse_args()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cells(row: Row) -> list[str]:
    ratio = f"{row.ratio:,.1f}{TIMES}" if row.ratio is not None else "—"
    met = {True: "yes", False: "NO", None: "—" if row.target else ""}[row.met]
    return [
        row.benchmark,
        row.label,
        row.unit,
        fmt_number(row.ours),
        fmt_number(row.theirs),
        ratio,
        row.target,
        met,
    ]


def print_table(rows: list[Row], plain: bool, peer: str = MLFLOW.name) -> None:
    """`peer`: the peer column's header (what the selected benchmarks compare with)."""
    headers = [peer if header == MLFLOW.name else header for header in HEADERS]
    table = [cells(r) for r in rows]
    notes = [f"[{r.benchmark}] {note}" for r in rows for note in r.notes]
    if not plain:
        try:
            from rich.console import Console
            from rich.table import Table
        except ImportError:
            plain = True
    if plain:
        widths = [max(len(h), *(len(c[i]) for c in table)) for i, h in enumerate(headers)]
        numeric = {3, 4, 5}
        for line in [headers, ["-" * w for w in widths], *table]:
            print(
                "  ".join(
                    c.rjust(w) if i in numeric else c.ljust(w)
                    for i, (c, w) in enumerate(zip(line, widths, strict=True))
                )
            )
    else:
        rich_table = Table(title=f"Ridgeline vs {peer} (ratio = how many {TIMES} better Ridgeline is)")
        for i, header in enumerate(headers):
            rich_table.add_column(header, justify="right" if i in {3, 4, 5} else "left", no_wrap=i != 1)
        for line in table:
            style = "red" if line[-1] == "NO" else None
            rich_table.add_row(*line, style=style)
        console = Console()
        if not console.is_terminal:  # piped or logged: do not wrap at rich's default 80 columns
            console = Console(width=220)
        console.print(rich_table)
    for note in dict.fromkeys(notes):
        print(f"  - {note}")


def main() -> int:
    benchmarks = load_benchmarks()
    args = parse_args(list(benchmarks))
    selected = args.only or list(benchmarks)
    ctx = Context(
        quick=args.quick,
        reuse_peer=args.reuse_mlflow,
        skip_ours=args.skip_ours,
        skip_peer=args.skip_mlflow,
        log=log,
    )
    peers = {peer_of(benchmarks[name]) for name in selected}
    mlflow_version = None
    if not args.skip_mlflow and MLFLOW in peers:
        try:
            mlflow_version = ensure_peer_venv(upgrade=args.upgrade_mlflow, log=log)
        except Exception as exc:
            log(f"MLflow venv unavailable ({exc}); measuring Ridgeline only")
            ctx.skip_peer = True
        ctx.versions[MLFLOW.dist] = mlflow_version
    ours_version = installed_version(ours_python(), "ridgeline")
    compared = f", MLflow {mlflow_version or '—'} ({PEER_VENV})" if MLFLOW in peers else ""
    log(f"Ridgeline {ours_version or '?'} ({ours_python()}){compared}")

    results = load_json(args.json)
    results.update(
        machine=machine_info(),
        ridgeline_version=ours_version,
        mlflow_version=mlflow_version,
        updated=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    entries: dict[str, Any] = results.setdefault("benchmarks", {})
    rows: list[Row] = []
    for name in selected:
        log(f"[{name}] {benchmarks[name].TITLE}{' (quick)' if args.quick else ''}")
        t0 = time.perf_counter()
        load_before = load_average()
        try:
            report: Report = benchmarks[name].run(ctx)
        except Exception:
            log(traceback.format_exc())
            report = Report([Row(name, "benchmark crashed (see log)", "", None, None)], {})
        elapsed = time.perf_counter() - t0
        log(f"[{name}] done in {elapsed:.0f}s")
        rows.extend(report.rows)
        peer = peer_of(benchmarks[name])
        entries[name] = {
            **report.to_json(),
            "quick": args.quick,
            f"{peer.dist}_version": ctx.versions.get(peer.dist),
            "ridgeline_version": ours_version,
            "elapsed_s": elapsed,
            "loadavg_1m": {"before": load_before, "after": load_average()},
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        save_json(args.json, results)  # after each benchmark, so an interrupted run keeps its figures

    names = sorted({peer_of(benchmarks[name]).name for name in selected})
    print_table(rows, args.plain, names[0] if len(names) == 1 else "peer")
    print(f"\nresults: {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")
    missed = [r for r in rows if r.met is False]
    unmeasured = [r for r in rows if r.ours is None and r.target]
    if missed:
        log(f"{len(missed)} of {len(rows)} rows miss their target")
    if unmeasured and not args.skip_ours:
        log(f"{len(unmeasured)} rows have no Ridgeline figure (see the notes)")
        missed += unmeasured
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
