import httpx
import pytest


@pytest.mark.parametrize("i", range(8))
def test_t(server: str, i: int) -> None:
    assert httpx.get(f"{server}/healthz").status_code == 200
