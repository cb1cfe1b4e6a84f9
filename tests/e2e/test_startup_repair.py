"""The served app repairs what a crash left, at start-up, without anyone asking."""

from __future__ import annotations

import sqlite3
import time

from tests.e2e.conftest import RunningApp


def test_startup_releases_the_crashed_hold_and_removes_the_stray_file(
    running_app: RunningApp,
) -> None:
    public_id = running_app.crash["public_id"]
    stray = running_app.images_dir / running_app.crash["stray_key"]
    deadline = time.monotonic() + 20
    while True:
        with sqlite3.connect(running_app.database_path) as db:
            status, code, hold_status = db.execute(
                "SELECT g.status, g.error_code, h.status FROM generated_image g "
                "JOIN credit_hold h ON h.generation_id = g.id WHERE g.public_id = ?",
                (public_id,),
            ).fetchone()
        if status != "pending" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert (status, code, hold_status) == ("failed", "interrupted", "released")
    assert not stray.exists()
