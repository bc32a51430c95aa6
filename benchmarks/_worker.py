"""Run one benchmark side function in this interpreter: `python _worker.py MODULE FUNC OUT_JSON`.

Params come as JSON on stdin; the function's dict of figures is written to OUT_JSON. The
orchestrator starts this with the project venv (Ridgeline) or `benchmarks/.venv-mlflow` (MLflow),
so a benchmark module must import neither package at module level.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path


def main() -> None:
    module_name, func_name, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    params = json.loads(sys.stdin.read() or "{}")
    func = getattr(importlib.import_module(module_name), func_name)
    figures = func(params)
    out.write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
