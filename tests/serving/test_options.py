"""What ``ridgeline serve`` refuses before it starts anything."""

from __future__ import annotations

import pytest

from ridgeline.domain.errors import InvalidArgument
from ridgeline.serving.options import ServeOptions


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"canary": "challenger"}, "canary", "ALIAS=PERCENT"),
        ({"canary": "challenger=0"}, "canary", "0 < PERCENT < 100"),
        ({"canary": "challenger=100"}, "canary", "0 < PERCENT < 100"),
        ({"canary": "challenger=ten"}, "canary", "ALIAS=PERCENT"),
        ({"canary": "bad alias=10"}, "canary", "must start with a letter"),
        ({"shadow": "bad alias"}, "shadow", "must start with a letter"),
        ({"shadow": "challenger", "log_predictions": False}, "shadow", "--no-prediction-log"),
        ({"uri": "runs:/0123456789abcdef0123456789abcdef/model", "canary": "b=5"}, "uri", "registry URI"),
        ({"uri": "/models/house", "shadow": "challenger"}, "uri", "registry URI"),
        ({"batch_wait_ms": 2.0}, "batch_wait_ms", "--batch-max"),
    ],
    ids=[
        "canary-no-share",
        "canary-zero",
        "canary-all",
        "canary-words",
        "canary-alias",
        "shadow-alias",
        "shadow-unlogged",
        "canary-on-run",
        "shadow-on-folder",
        "wait-without-batch",
    ],
)
def test_refused(changes: dict[str, object], field: str, says: str) -> None:
    options = ServeOptions(**{"uri": "models:/house@champion", **changes})
    with pytest.raises(InvalidArgument) as refused:
        options.check()
    assert refused.value.field == field
    assert says in refused.value.message


def test_accepted() -> None:
    ServeOptions(uri="models:/house/3", canary="challenger=12.5", shadow="shadow_2", batch_max=32).check()
    ServeOptions(uri="runs:/0123456789abcdef0123456789abcdef/model", batch_max=8, batch_wait_ms=1).check()
