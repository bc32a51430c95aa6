"""The system-metrics sampler: a daemon thread that logs machine and process load as ``system/*`` metrics.

Every ``interval`` seconds it logs one sample, all keys at the same step (the sample number), through the run's
ordinary ``log_metrics``, so samples are batched and delivered like any other metric. Counters (disk and network
I/O) are turned into rates over the time since the previous sample. GPU figures come from nvidia-ml-py when it
is installed and a GPU is present.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger("ridgeline")

MIB = 1024 * 1024


class _Gpus:
    """Per-GPU utilisation and memory through NVML; no GPU or no nvidia-ml-py means no GPU keys."""

    def __init__(self) -> None:
        self._nvml: Any = None
        self._handles: list[Any] = []
        try:
            import pynvml

            pynvml.nvmlInit()
        except Exception:  # ImportError, or NVMLError on a machine without a driver: nothing to sample
            return
        self._nvml = pynvml
        try:
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
        except pynvml.NVMLError:
            self.close()

    def sample(self, values: dict[str, float]) -> None:
        nvml = self._nvml
        for index, handle in enumerate(self._handles):
            prefix = f"system/gpu{index}/"
            utilisation = nvml.nvmlDeviceGetUtilizationRates(handle)
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            values[prefix + "utilization_percent"] = float(utilisation.gpu)
            values[prefix + "memory_used_mib"] = memory.used / MIB
            values[prefix + "memory_percent"] = 100.0 * memory.used / memory.total if memory.total else 0.0
            try:
                values[prefix + "power_watts"] = nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0
                values[prefix + "temperature_c"] = float(
                    nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)
                )
            except nvml.NVMLError:
                pass  # not every board reports power or temperature

    def close(self) -> None:
        if self._nvml is not None:
            self._nvml.nvmlShutdown()
            self._nvml = None
            self._handles = []


class SystemSampler:
    """Reads the figures of one sample; :meth:`sample` returns ``system/*`` key → value."""

    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        self._process = psutil.Process(os.getpid())
        # cpu_percent measures since the previous call: prime both so the first sample covers one interval.
        psutil.cpu_percent(None)
        self._process.cpu_percent(None)
        self._last_time = time.monotonic()
        self._last_disk = psutil.disk_io_counters()
        self._last_net = psutil.net_io_counters()
        self._gpus = _Gpus()

    def sample(self) -> dict[str, float]:
        psutil = self._psutil
        now = time.monotonic()
        elapsed = max(now - self._last_time, 1e-6)
        self._last_time = now
        memory = psutil.virtual_memory()
        with self._process.oneshot():
            rss = self._process.memory_info().rss
            values = {
                "system/cpu_percent": float(psutil.cpu_percent(None)),
                "system/memory_percent": float(memory.percent),
                "system/memory_used_mib": (memory.total - memory.available) / MIB,
                "system/process_cpu_percent": float(self._process.cpu_percent(None)),
                "system/process_memory_rss_mib": rss / MIB,
                "system/process_memory_percent": 100.0 * rss / memory.total,
            }
        # Containers and some platforms have no disk or network counters: those keys are simply absent.
        disk = psutil.disk_io_counters()
        if disk is not None and self._last_disk is not None:
            values["system/disk_read_mib_per_s"] = max(disk.read_bytes - self._last_disk.read_bytes, 0) / MIB / elapsed
            values["system/disk_write_mib_per_s"] = (
                max(disk.write_bytes - self._last_disk.write_bytes, 0) / MIB / elapsed
            )
        self._last_disk = disk
        net = psutil.net_io_counters()
        if net is not None and self._last_net is not None:
            values["system/network_sent_mib_per_s"] = max(net.bytes_sent - self._last_net.bytes_sent, 0) / MIB / elapsed
            values["system/network_received_mib_per_s"] = (
                max(net.bytes_recv - self._last_net.bytes_recv, 0) / MIB / elapsed
            )
        self._last_net = net
        try:
            self._gpus.sample(values)
        except Exception as exc:  # a GPU falling off the bus must not end CPU sampling
            log.warning("ridgeline: GPU sampling stopped: %s", exc)
            self._gpus.close()
        return values

    def close(self) -> None:
        self._gpus.close()


class SamplerThread:
    """Samples every ``interval`` seconds on a daemon thread and hands each sample to ``log`` with its step."""

    def __init__(
        self,
        log_metrics: Callable[[Mapping[str, float], int], None],
        interval: float,
        *,
        first_step: int = 0,
        name: str = "ridgeline-system",
    ) -> None:
        self._log = log_metrics
        self._interval = interval
        self._step = first_step
        self._stop = threading.Event()
        self._sampler = SystemSampler()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self._interval):
                values = self._sampler.sample()
                if self._stop.is_set():
                    break  # the run is finishing: it no longer takes metrics
                self._log(values, self._step)
                self._step += 1
        except Exception:
            log.exception("ridgeline: system metrics sampling stopped")
        finally:
            self._sampler.close()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)
