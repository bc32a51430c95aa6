import httpx


def test_server_answers_health_on_both_backends(server: str) -> None:
    assert httpx.get(f"{server}/healthz").json()["status"] == "ok"
