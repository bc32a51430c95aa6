"""The SDK's two ways to a monitor: in-process over the data folder, or the REST API of a server. Both speak the
REST API's JSON, so ``ridgeline.monitoring``'s functions read the same whichever is used."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import quote

from ridgeline.domain.monitors_wire import alert_to_json, monitor_to_json, period_to_json


class MonitoringTransport(Protocol):
    def create(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def get(self, name: str) -> dict[str, Any]: ...

    def find(self, model: str | None) -> list[dict[str, Any]]: ...

    def update(self, name: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def delete(self, name: str) -> None: ...

    def log_predictions(self, name: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def log_actuals(self, name: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def set_reference(self, name: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def report(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]: ...

    def alerts(self, name: str, status: str | None, limit: int) -> list[dict[str, Any]]: ...

    def evaluate(self, name: str) -> list[dict[str, Any]]: ...

    def ingest(self) -> dict[str, int]: ...


class LocalMonitoring:
    """Over the data folder: the same service the server runs, with the caller as the user."""

    def __init__(self, service: Any, prediction_log: str, user: str) -> None:
        from ridgeline.services.monitoring.service import MonitoringService

        self.service: MonitoringService = service
        self.prediction_log = prediction_log
        self.user = user

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        from ridgeline.services.monitoring.spec import MonitorSpec

        monitor = self.service.create(MonitorSpec(**body), user=self.user)
        return monitor_to_json(monitor, self.service.periods(monitor.name))

    def get(self, name: str) -> dict[str, Any]:
        return monitor_to_json(self.service.get(name), self.service.periods(name))

    def find(self, model: str | None) -> list[dict[str, Any]]:
        return [monitor_to_json(monitor) for monitor in self.service.find(model)]

    def update(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        self.service.update(name, **body)
        return self.get(name)

    def delete(self, name: str) -> None:
        self.service.delete(name)

    def log_predictions(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        from ridgeline.services.monitoring.spec import PredictionBatch

        done = self.service.log_predictions(name, PredictionBatch(**body))
        return {"rows": done.rows, "windows": done.windows, "periods": done.periods}

    def log_actuals(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        done = self.service.log_actuals(name, body["ids"], body["values"], body.get("timestamps"))
        return {"rows": done.rows, "matched": done.matched, "windows": done.windows}

    def set_reference(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        period = self.service.set_reference(name, body["reference"], body.get("source", ""), body.get("version"))
        return period_to_json(period)

    def report(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.service.report(name, **params)

    def alerts(self, name: str, status: str | None, limit: int) -> list[dict[str, Any]]:
        return [alert_to_json(alert) for alert in self.service.alerts(name, status=status, limit=limit)]

    def evaluate(self, name: str) -> list[dict[str, Any]]:
        return [alert_to_json(alert) for alert in self.service.evaluate_alerts(name)]

    def ingest(self) -> dict[str, int]:
        return self.service.run_pass(self.prediction_log)


Call = Callable[..., Any]


class HttpMonitoring:
    """Over a server's /api/v1/monitors."""

    def __init__(self, call: Call) -> None:
        self._call = call

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = self._call("POST", "/monitors", json=body)
        return found

    def get(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self._call("GET", _path(name))
        return found

    def find(self, model: str | None) -> list[dict[str, Any]]:
        params = None if model is None else {"model": model}
        found: list[dict[str, Any]] = self._call("GET", "/monitors", params=params)["monitors"]
        return found

    def update(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = self._call("PATCH", _path(name), json=body)
        return found

    def delete(self, name: str) -> None:
        self._call("DELETE", _path(name))

    def log_predictions(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = self._call("POST", _path(name, "predictions"), json=body)
        return found

    def log_actuals(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = self._call("POST", _path(name, "actuals"), json=body)
        return found

    def set_reference(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = self._call("PUT", _path(name, "reference"), json=body)
        return found

    def report(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        given = {key: value for key, value in params.items() if value is not None}
        found: list[dict[str, Any]] = self._call("GET", _path(name, "report"), params=given)["rows"]
        return found

    def alerts(self, name: str, status: str | None, limit: int) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit} if status is None else {"limit": limit, "status": status}
        found: list[dict[str, Any]] = self._call("GET", _path(name, "alerts"), params=params)["alerts"]
        return found

    def evaluate(self, name: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._call("POST", _path(name, "evaluate"))["alerts"]
        return found

    def ingest(self) -> dict[str, int]:
        found: dict[str, int] = self._call("POST", "/monitors/ingest")["ingested"]
        return found


def _path(name: str, *rest: str) -> str:
    return "/".join(["/monitors", quote(name, safe=""), *rest])
