"""Keeps Reflex's state folder (`.states/`) bounded.

With the disk state manager (the embedded default: no Redis), Reflex writes every tab's
state to one file per state class, named by a hash of tab id and class. The tab id is
made up by the browser, so anyone can open websockets with fresh ids: measured, each
bare connection wrote 1 file and each that also sent the page's first event 6 (one per
state the page loads), kept for the token expiry (an hour) after the socket closed.

Reflex purges expired files (start-up, and between its queued writes), but nothing
bounds how many a flood of new tab ids writes within that hour. The sweep here, every
`state_sweep_seconds`, deletes expired files and then the least recently written ones
beyond `max_state_files`. A file is only the disk copy of a state: Reflex serves a tab
from its copy in memory and writes it again when it changes, so a live tab keeps its
state (a tab idle longer than the expiry starts afresh, as it would anyway).

With Redis, the states live in Redis with the same expiry and no folder is written.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

import reflex as rx
from reflex.istate.manager.disk import StateManagerDisk

from studio_app.settings import get_settings

log = logging.getLogger(__name__)


def sweep(directory: Path, *, expiry_seconds: float, max_files: int, now: float) -> int:
    """Delete the expired state files, then the oldest beyond `max_files`; how many went."""
    written: list[tuple[float, str]] = []
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for entry in entries:
        if not entry.name.endswith(".pkl"):
            continue
        try:
            written.append((entry.stat().st_mtime, entry.path))
        except FileNotFoundError:  # Reflex removed it meanwhile
            continue
    written.sort(reverse=True)  # newest first
    kept = [item for item in written if now - item[0] <= expiry_seconds][:max_files]
    doomed = {path for _, path in written} - {path for _, path in kept}
    for path in doomed:
        Path(path).unlink(missing_ok=True)
    return len(doomed)


async def keep_state_files_bounded(app: rx.App) -> None:
    """A lifespan task: sweep the state folder while the app runs (disk state only)."""
    manager = app.state_manager
    if not isinstance(manager, StateManagerDisk):
        return
    settings = get_settings()
    while True:
        try:
            removed = await asyncio.to_thread(
                sweep,
                manager.states_directory,
                expiry_seconds=manager.token_expiration,
                max_files=settings.max_state_files,
                now=time.time(),
            )
            if removed:
                log.info("removed %d state files (expired or over the bound)", removed)
        except Exception:
            log.exception("sweeping the state files failed; trying again later")
        await asyncio.sleep(settings.state_sweep_seconds)
