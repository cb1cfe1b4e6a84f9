"""SIGKILL the served app in the middle of generations; the restarted app repairs it all.

The app runs as `make run` runs it (`cli setup`, then `reflex run --env prod`), but with
`--backend-only`: this test needs only the REST API, which the backend serves, and a
backend-only start serves in about 5 s instead of the 20–30 s (or a whole frontend
build) of a full start. Both starts use the same database and images folder; the hold
expiry keeps its default (600 s), so nothing here waits for holds to expire: the
restarted server must know at once that what the killed one left is interrupted.

What a kill leaves: image jobs waiting on the provider (pending rows, open holds), and
files storage wrote whose row was never updated — placed here by hand (a kill cannot be
timed between those two steps): one old, one written a moment before the kill, and a
half-written `.partial`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from studio_app.models import CreditEntry, CreditHold, GeneratedImage
from studio_app.services import api_tokens, ledger
from studio_app.services.auth import CurrentUser
from studio_app.services.db import dispose_engines, read_session
from studio_app.settings import PROJECT_ROOT, reload_settings
from studio_app.storage import image_store
from tests.e2e.conftest import _free_port, _stop, _wait_until_serving, app_env, start_server
from tests.factories import PASSWORD, disk_path, make_user, stray_file
from tests.soak import scaled

USERS = scaled(3, 30)
GRANT = 30
# The quick jobs must end, and the slow ones still wait on the provider, when the server
# is killed: the slow delay (and the wait for the quick ones, half of it) grows with the
# number of quick images to draw — about 3 per user, ~0.15 s of CPU each on 2 cores.
SLOW_DELAY_S = 24 + 2 * USERS
# Per user: (kind, provider, tier, prompt directive). Slow ones are still waiting on the
# provider when the server is killed.
JOBS = [
    ("slow", "fault", "standard", f"#delay={SLOW_DELAY_S}"),
    ("slow", "fault", "premium", f"#delay={SLOW_DELAY_S}"),
    ("slow", "fault", "standard", f"#delay={SLOW_DELAY_S}"),
    ("quick", "offline", "standard", ""),
    ("quick", "offline", "premium", ""),
    ("quick", "fault", "standard", ""),
    ("refused", "fault", "standard", "#fail=safety_refused"),
]
PRICES = {"standard": 1, "premium": 2}
REPAIR_TIMEOUT_S = 24 + 2 * USERS


@dataclass(frozen=True)
class Job:
    user_id: int
    token: str
    kind: str
    tier: str
    public_id: str


@pytest.fixture
def app_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A set-up app database and images folder; this process's settings point at them."""
    env = {
        **app_env(tmp_path),
        # Room for every job of a user at once (the default is 3 in progress).
        "STUDIO_MAX_CONCURRENT_GENERATIONS": "10",
        # Provider slots for every job at once: at soak size the slow jobs alone outnumber
        # the default 64, and the quick ones would wait behind them until the kill.
        "STUDIO_MAX_PARALLEL_GENERATIONS": str(len(JOBS) * USERS),
    }
    subprocess.run(
        [sys.executable, "-m", "studio_app.cli", "setup"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    with monkeypatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("STUDIO_"):
                patch.delenv(name)
        for name in ("STUDIO_DATABASE_URL", "STUDIO_IMAGES_DIR"):
            patch.setenv(name, env[name])
        dispose_engines()
        reload_settings()
        try:
            yield env
        finally:
            dispose_engines()
    reload_settings()


def _serve(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, httpx.Client]:
    port = _free_port()
    process = start_server(env, port, log_path, backend_only=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, process, log_path, page=False)
    except BaseException:
        _stop(process)
        raise
    return process, httpx.Client(base_url=url, timeout=10)


def _status(client: httpx.Client, job: Job) -> dict:
    answer = client.get(
        f"/api/studio/generate/{job.public_id}", headers={"Authorization": f"Bearer {job.token}"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _wait_for(what: str, check: Callable[[], bool], timeout_s: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out waiting for {what}; server log:\n{log_path.read_text()[-3000:]}"
            )
        time.sleep(0.2)


def _files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_sigkill_mid_generation_then_restart_closes_every_hold_and_file(
    app_data: dict[str, str], tmp_path: Path
) -> None:
    images = Path(app_data["STUDIO_IMAGES_DIR"])
    log_path = tmp_path / "server.log"
    accounts = []
    for _ in range(USERS):
        user_id = make_user(credits=GRANT)
        viewer = CurrentUser(id=user_id, email=f"user{user_id}@example.com", role="user")
        accounts.append(
            (user_id, api_tokens.create_token(viewer, "crash test", password=PASSWORD).secret)
        )

    # --- the first server: start every job, let the quick ones end, then kill it ---------
    first, client = _serve(app_data, log_path)
    try:
        jobs: list[Job] = []
        for user_id, token in accounts:
            for n, (kind, provider, tier, directive) in enumerate(JOBS):
                answer = client.post(
                    "/api/studio/generate",
                    headers={"Authorization": f"Bearer {token}"},
                    json={
                        "prompt": f"a lighthouse {n} {directive}",
                        "provider": provider,
                        "tier": tier,
                    },
                )
                assert answer.status_code == 202, answer.text
                jobs.append(Job(user_id, token, kind, tier, answer.json()["id"]))

        def settled() -> bool:
            for job in jobs:
                status = _status(client, job)["status"]
                if job.kind == "slow" and status != "running":
                    return False
                if job.kind != "slow" and status not in ("succeeded", "failed"):
                    return False
            return True

        _wait_for(
            "the quick jobs to end while the slow ones run", settled, SLOW_DELAY_S / 2, log_path
        )
        # Files storage wrote for an image whose row the kill kept from being updated.
        old_orphan = stray_file(age_seconds=7200)
        fresh_orphan = stray_file(age_seconds=1)
        half_written = stray_file(age_seconds=1)
        partial = f"{half_written}.partial"
        disk_path(half_written).rename(images / partial)
        assert all(
            _status(client, job)["status"] == "running" for job in jobs if job.kind == "slow"
        )
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        client.close()
        _stop(first)
    orphans = {old_orphan, fresh_orphan, partial}
    assert orphans <= _files_under(images)

    # --- the restarted server ---------------------------------------------------------
    restarted_at = time.monotonic()
    second, client = _serve(app_data, log_path)
    try:
        serving_after = time.monotonic() - restarted_at

        def repaired() -> bool:
            with read_session() as db:
                pending = db.exec(select(GeneratedImage).where(GeneratedImage.status == "pending"))
                return pending.first() is None

        _wait_for(
            "the restarted server to fail the interrupted jobs",
            repaired,
            REPAIR_TIMEOUT_S,
            log_path,
        )
        _wait_for(
            "the restarted server to delete the orphan files",
            lambda: not (orphans & _files_under(images)),
            REPAIR_TIMEOUT_S,
            log_path,
        )
        repaired_after = time.monotonic() - restarted_at
        print(f"serving {serving_after:.1f}s, repaired {repaired_after:.1f}s after the restart")

        # The database: every hold ended the way its generation did, balances add up.
        with read_session() as db:
            rows = {row.id: row for row in db.exec(select(GeneratedImage)).all()}
            holds = db.exec(select(CreditHold)).all()
            captures = db.exec(select(CreditEntry).where(CreditEntry.kind == "capture")).all()
            balances = {uid: ledger.balance(db, uid) for uid, _ in accounts}
            held = {uid: ledger.held(db, uid) for uid, _ in accounts}
        assert len(rows) == len(jobs) == len(holds)
        ending = {"succeeded": "captured", "failed": "released"}
        for hold in holds:
            row = rows[hold.generation_id]
            assert hold.status == ending.get(row.status), (row.public_id, row.status)
            assert hold.amount == row.cost_credits
        captured_holds = {f"capture:hold{hold.id}" for hold in holds if hold.status == "captured"}
        assert {entry.idempotency_key for entry in captures} == captured_holds
        for user_id, _ in accounts:
            spent = sum(
                row.cost_credits
                for row in rows.values()
                if row.user_id == user_id and row.status == "succeeded"
            )
            assert balances[user_id] == GRANT - spent
            assert held[user_id] == 0

        # The disk: every succeeded image has its files, and every file has its row.
        referenced = set()
        for row in rows.values():
            if row.status == "succeeded":
                assert image_store().exists(row.image_key) and image_store().exists(
                    row.thumbnail_key
                )
                referenced |= {row.image_key, row.thumbnail_key}
        assert _files_under(images) == referenced

        # The user's view through the API.
        by_id = {row.public_id: row for row in rows.values()}
        for job in jobs:
            seen = _status(client, job)
            if job.kind == "slow":
                assert seen["status"] == "failed"
                assert seen["error"]["code"] == "interrupted"
                assert "restarted" in seen["error"]["message"]
            elif job.kind == "refused":
                assert (seen["status"], seen["error"]["code"]) == ("failed", "safety_refused")
            else:
                assert seen["status"] == "succeeded"
                image = client.get(
                    seen["image_url"], headers={"Authorization": f"Bearer {job.token}"}
                )
                assert image.status_code == 200 and image.content
            assert by_id[job.public_id].status == seen["status"]
        for user_id, token in accounts:
            spent = sum(
                PRICES[job.tier] for job in jobs if job.user_id == user_id and job.kind == "quick"
            )
            credits = client.get(
                "/api/studio/credits", headers={"Authorization": f"Bearer {token}"}
            )
            assert credits.status_code == 200
            assert credits.json()["balance"] == GRANT - spent
    finally:
        client.close()
        _stop(second)
