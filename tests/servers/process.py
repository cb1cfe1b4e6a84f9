"""Stopping a server process the tests started: politely, then for sure."""

from __future__ import annotations

import subprocess


def end(process: subprocess.Popen, grace_s: float) -> None:
    """SIGTERM, then SIGKILL if it is still there after `grace_s`."""
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
