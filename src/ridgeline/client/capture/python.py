"""The python and packages parts of capture: the interpreter, and what is installed in it as requirements.txt."""

from __future__ import annotations

import json
import platform
import re
import sys
from typing import Any

from ridgeline.client.capture.git import strip_credentials
from ridgeline.client.capture.record import REQUIREMENTS_FILE, TAG_PREFIX, Environment, clip


def capture_python(env: Environment) -> None:
    version = platform.python_version()
    implementation = platform.python_implementation()
    env.tags[TAG_PREFIX + "python.version"] = version
    env.tags[TAG_PREFIX + "python.implementation"] = implementation
    env.tags[TAG_PREFIX + "python.executable"] = clip(sys.executable)
    env.details["python"] = {
        "version": version,
        "implementation": implementation,
        "executable": sys.executable,
        "prefix": sys.prefix,
        "virtualenv": sys.prefix != sys.base_prefix,
    }


def _requirement(dist: Any, name: str, version: str) -> str:
    """One line of requirements.txt for an installed distribution, installable where it can be.

    A package installed from a VCS is pinned to its commit; one installed from a local folder (an editable
    install of the project itself, usually) cannot be fetched elsewhere, so it is listed as a comment.
    """
    pinned = f"{name}=={version}"
    direct = dist.read_text("direct_url.json")
    if not direct:
        return pinned
    try:
        origin = json.loads(direct)
    except ValueError:
        return pinned
    url = strip_credentials(str(origin.get("url", "")))
    vcs = origin.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("commit_id"):
        return f"{name} @ {vcs.get('vcs', 'git')}+{url}@{vcs['commit_id']}"
    if url.startswith("file:"):
        return f"# {pinned} (installed from {url})"
    return f"{name} @ {url}"


def capture_packages(env: Environment) -> None:
    from importlib.metadata import distributions

    lines: dict[str, str] = {}
    for dist in distributions():
        metadata = dist.metadata  # parsed once: it is most of this part's cost
        name, version = metadata["Name"], metadata["Version"]
        if not name:
            continue  # a broken leftover of an uninstall: metadata without a name
        key = re.sub(r"[-_.]+", "-", name).lower()
        # The first one on sys.path wins, as for imports.
        if key not in lines:
            lines[key] = _requirement(dist, name, version)
    packages = [lines[key] for key in sorted(lines)]
    env.tags[TAG_PREFIX + "python.packages"] = str(len(packages))
    env.files[REQUIREMENTS_FILE] = "".join(f"{line}\n" for line in packages)
    env.details["packages"] = packages
