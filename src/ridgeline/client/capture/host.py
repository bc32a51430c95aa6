"""The host part of capture: machine name, OS, CPU, memory and the NVIDIA GPUs."""

from __future__ import annotations

import logging
import os
import platform
import socket
import subprocess
import sys
from typing import Any

from ridgeline.client.capture.record import TAG_PREFIX, Environment, clip

log = logging.getLogger("ridgeline")


def _cpu_model() -> str:
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
                for line in cpuinfo:
                    # x86 says "model name"; some ARM kernels only "Model" or "Hardware".
                    key, _, value = line.partition(":")
                    if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                        return value.strip()
        except OSError:
            pass
    elif sys.platform == "darwin":
        try:
            return subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, timeout=2, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine()


def _total_memory() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except ImportError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def gib(size: float) -> str:
    return f"{size / 1024**3:.1f} GiB"


def gpu_inventory() -> list[dict[str, Any]]:
    """The NVIDIA GPUs, through nvidia-ml-py when it is installed; empty when it or a GPU driver is absent."""
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return []  # no driver, or no GPU: a CPU machine, nothing to report
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            gpus.append(
                {"index": index, "name": _text(pynvml.nvmlDeviceGetName(handle)), "memory": int(memory.total)}
                | {"driver": driver}
            )
        return gpus
    finally:
        pynvml.nvmlShutdown()


def _text(value: str | bytes) -> str:
    """nvidia-ml-py returned bytes before version 11.5 and str since."""
    return value.decode() if isinstance(value, bytes) else value


def capture_host(env: Environment) -> None:
    tags = env.tags
    info: dict[str, Any] = {
        "name": socket.gethostname(),
        "os": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory": _total_memory(),
    }
    tags[TAG_PREFIX + "host.name"] = clip(info["name"])
    tags[TAG_PREFIX + "host.os"] = clip(info["os"])
    tags[TAG_PREFIX + "host.cpu"] = clip(info["cpu"] or "unknown")
    if info["cpu_count"]:
        tags[TAG_PREFIX + "host.cpu_count"] = str(info["cpu_count"])
    if info["memory"]:
        tags[TAG_PREFIX + "host.memory"] = gib(info["memory"])
    try:
        gpus = gpu_inventory()
    except Exception as exc:  # a broken driver must not cost the host facts gathered above
        log.warning("ridgeline: could not list GPUs: %s", exc)
        gpus = []
    info["gpus"] = gpus
    if gpus:
        tags[TAG_PREFIX + "host.gpu_count"] = str(len(gpus))
        tags[TAG_PREFIX + "host.gpus"] = clip(", ".join(f"{g['name']} ({gib(g['memory'])})" for g in gpus))
        tags[TAG_PREFIX + "host.gpu_driver"] = gpus[0]["driver"]
    env.details["host"] = info
