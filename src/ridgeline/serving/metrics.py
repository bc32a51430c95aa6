"""The server's counters, rendered in Prometheus' text exposition format (version 0.0.4) on ``GET /metrics``.

Written by hand: five families do not need prometheus-client, and updating them is a few dict operations on the
request path. Every worker process counts its own requests; the ``worker`` label tells them apart.
"""

from __future__ import annotations

import bisect
import os
from collections import defaultdict

MEDIA_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds; fine-grained below 10 ms, where a one-row request should land.
BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _labels(pairs: dict[str, str]) -> str:
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for value in pairs.values())
    return "{" + ",".join(f'{key}="{value}"' for key, value in zip(pairs, escaped, strict=True)) + "}"


class Metrics:
    def __init__(self) -> None:
        self.worker = str(os.getpid())
        self.requests: defaultdict[tuple[str, str], int] = defaultdict(int)  # (version, status)
        self.errors: defaultdict[str, int] = defaultdict(int)  # error code
        self.bucket_counts = [0] * (len(BUCKETS) + 1)
        self.latency_sum = 0.0
        self.shadow: defaultdict[tuple[str, str], int] = defaultdict(int)  # (version, outcome)
        self.dropped_predictions = 0
        self.batches = 0
        self.batched_requests = 0
        self.versions: dict[str, int | None] = {}  # role -> version served

    def observe(self, version: int | None, status: int, seconds: float) -> None:
        self.requests[("" if version is None else str(version), str(status))] += 1
        self.bucket_counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.latency_sum += seconds

    def error(self, code: str) -> None:
        self.errors[code] += 1

    def batch(self, requests: int) -> None:
        self.batches += 1
        self.batched_requests += requests

    def shadow_outcome(self, version: int, outcome: str) -> None:
        self.shadow[(str(version), outcome)] += 1

    def render(self) -> bytes:
        worker = {"worker": self.worker}
        lines = [
            "# HELP ridgeline_serving_requests_total Scoring requests answered, by model version and HTTP status.",
            "# TYPE ridgeline_serving_requests_total counter",
        ]
        lines += [
            f"ridgeline_serving_requests_total{_labels({**worker, 'version': v, 'status': s})} {n}"
            for (v, s), n in sorted(self.requests.items())
        ]
        lines += [
            "# HELP ridgeline_serving_errors_total Scoring requests refused or failed, by error code.",
            "# TYPE ridgeline_serving_errors_total counter",
        ]
        lines += [
            f"ridgeline_serving_errors_total{_labels({**worker, 'code': c})} {n}"
            for c, n in sorted(self.errors.items())
        ]
        lines += [
            "# HELP ridgeline_serving_request_duration_seconds Time from request received to response sent.",
            "# TYPE ridgeline_serving_request_duration_seconds histogram",
        ]
        cumulative = 0
        for bound, count in zip((*map(str, BUCKETS), "+Inf"), self.bucket_counts, strict=True):
            cumulative += count
            lines.append(
                f"ridgeline_serving_request_duration_seconds_bucket{_labels({**worker, 'le': bound})} {cumulative}"
            )
        lines.append(f"ridgeline_serving_request_duration_seconds_sum{_labels(worker)} {self.latency_sum!r}")
        lines.append(f"ridgeline_serving_request_duration_seconds_count{_labels(worker)} {cumulative}")
        lines += [
            "# HELP ridgeline_serving_model_version The model version each role (primary, canary, shadow) serves.",
            "# TYPE ridgeline_serving_model_version gauge",
        ]
        lines += [
            f"ridgeline_serving_model_version{_labels({**worker, 'role': role})} {version}"
            for role, version in sorted(self.versions.items())
            if version is not None
        ]
        lines += [
            "# HELP ridgeline_serving_shadow_total Shadow scorings by version and outcome: ok, error, dropped.",
            "# TYPE ridgeline_serving_shadow_total counter",
        ]
        lines += [
            f"ridgeline_serving_shadow_total{_labels({**worker, 'version': v, 'outcome': o})} {n}"
            for (v, o), n in sorted(self.shadow.items())
        ]
        lines += [
            "# HELP ridgeline_serving_predictions_dropped_total Predictions not logged because the log fell behind.",
            "# TYPE ridgeline_serving_predictions_dropped_total counter",
            f"ridgeline_serving_predictions_dropped_total{_labels(worker)} {self.dropped_predictions}",
            "# HELP ridgeline_serving_batches_total Micro-batches scored (mean size: the next counter over this one).",
            "# TYPE ridgeline_serving_batches_total counter",
            f"ridgeline_serving_batches_total{_labels(worker)} {self.batches}",
            "# HELP ridgeline_serving_batched_requests_total Requests scored in micro-batches.",
            "# TYPE ridgeline_serving_batched_requests_total counter",
            f"ridgeline_serving_batched_requests_total{_labels(worker)} {self.batched_requests}",
        ]
        return ("\n".join(lines) + "\n").encode()
