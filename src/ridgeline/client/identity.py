"""Who is logging: the operating-system user, recorded on runs and on what they mark (dataset readiness)."""

from __future__ import annotations

import getpass


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # No passwd entry (some containers) or no login name: the record stays anonymous rather than failing.
        return ""
