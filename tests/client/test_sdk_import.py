"""``import ridgeline`` stays light: training scripts pay for no web framework, ORM or dataframe library."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("fastapi", "sqlalchemy", "pandas", "numpy", "httpx", "starlette", "pydantic", "uvicorn", "alembic")

_PROBE = """
import json, sys
heavy = {heavy!r}
def loaded():
    return sorted(name for name in heavy if name in sys.modules)
import ridgeline
after_import = loaded()
ridgeline.start_run, ridgeline.Run, ridgeline.Client, ridgeline.RunRecord, ridgeline.RunStatus
print(json.dumps({{"import": after_import, "names": loaded()}}))
"""


def _probe() -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY)], capture_output=True, text=True, timeout=60, check=True
    )
    data: dict[str, list[str]] = json.loads(result.stdout)
    return data


def test_import_ridgeline_loads_no_heavy_library() -> None:
    loaded = _probe()
    assert loaded["import"] == []
    # Even reaching for the SDK's names only loads what a training script needs.
    assert loaded["names"] == []
