"""The disk fails while an image is being saved: the user is not charged and nothing is left.

The faults are injected below the local disk store (`studio_app/storage/local.py`), at
the system call where a real disk fails: a full disk (ENOSPC) shows up when the bytes are
flushed, a permission problem (EACCES) when the file is created or renamed into place.
Either may hit the original or, after the original was saved, its thumbnail.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from sqlmodel import select

from studio_app.models import CreditEntry, CreditHold
from studio_app.services import generation, ledger
from studio_app.services.db import read_session
from studio_app.services.generation import ERROR_MESSAGES, STORAGE_FAILED, GenerationRequest
from studio_app.settings import Settings, get_settings
from studio_app.storage import image_store, local
from tests import aio
from tests.factories import make_user
from tests.generation_helpers import credit_summary, last_generation

pytestmark = pytest.mark.usefixtures("migrated_db")


class DiskFault:
    """Makes the n-th image write (1 = original, 2 = thumbnail) fail at one system call."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, stage: str, code: int, nth: int):
        self.stage, self.code, self.nth = stage, code, nth
        self.writes = 0
        real_open, real_replace, real_fsync = Path.open, Path.replace, os.fsync
        images = get_settings().images_dir

        def fail(path: object) -> None:
            raise OSError(self.code, os.strerror(self.code), str(path))

        def fake_open(path: Path, mode: str = "r", *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            if path.is_relative_to(images) and "w" in mode:
                self.writes += 1
                if self.stage == "open" and self.writes == self.nth:
                    fail(path)
            return real_open(path, mode, *args, **kwargs)  # type: ignore[arg-type]

        def fake_fsync(fd: int) -> None:
            if self.stage == "fsync" and self.writes == self.nth:
                fail(fd)
            real_fsync(fd)

        def fake_replace(path: Path, target: object) -> Path:
            if self.stage == "rename" and path.is_relative_to(images) and self.writes == self.nth:
                fail(path)
            return real_replace(path, target)  # type: ignore[arg-type]

        monkeypatch.setattr(Path, "open", fake_open)
        monkeypatch.setattr(Path, "replace", fake_replace)
        monkeypatch.setattr(local.os, "fsync", fake_fsync)


def _files_on_disk(images: Path) -> list[str]:
    return sorted(p.relative_to(images).as_posix() for p in images.rglob("*") if p.is_file())


def _entries(user_id: int) -> list[tuple[int, int, str]]:
    with read_session() as db:
        return [
            (e.id, e.amount, e.kind)
            for e in db.exec(select(CreditEntry).where(CreditEntry.user_id == user_id))
        ]


@pytest.mark.parametrize(
    ("stage", "code", "nth"),
    [
        ("fsync", errno.ENOSPC, 1),
        ("fsync", errno.ENOSPC, 2),
        ("open", errno.EACCES, 1),
        ("open", errno.EACCES, 2),
        ("rename", errno.EACCES, 1),
        ("rename", errno.EACCES, 2),
    ],
    ids=[
        "disk-full-original",
        "disk-full-thumbnail",
        "no-permission-create-original",
        "no-permission-create-thumbnail",
        "no-permission-rename-original",
        "no-permission-rename-thumbnail",
    ],
)
def test_a_failing_disk_releases_the_hold_says_so_and_leaves_no_file(
    stage: str, code: int, nth: int, migrated_db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user(credits=5)
    entries_before = _entries(user)
    fault = DiskFault(monkeypatch, stage=stage, code=code, nth=nth)

    ticket = generation.start(user, GenerationRequest(prompt="A quiet forest", tier="premium"))
    status = aio.run(generation.run(ticket))

    assert fault.writes >= nth  # the fault really fired where it was meant to
    row = last_generation()
    assert (status, row.status, row.error_code) == ("failed", "failed", STORAGE_FAILED)
    assert row.error_message == ERROR_MESSAGES[STORAGE_FAILED]
    assert "not charged" in row.error_message
    assert (row.image_key, row.thumbnail_key) == (None, None)
    assert credit_summary(user) == ledger.CreditSummary(balance=5, held=0)
    assert _entries(user) == entries_before
    with read_session() as db:
        assert [h.status for h in db.exec(select(CreditHold))] == ["released"]
    # No orphan: neither the original, nor its thumbnail, nor a half-written .partial.
    assert _files_on_disk(migrated_db.images_dir) == []
    assert list(image_store().keys()) == []


def test_after_the_disk_recovers_the_next_image_is_saved_and_charged_once(
    migrated_db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user(credits=5)
    with monkeypatch.context() as patched:
        DiskFault(patched, stage="fsync", code=errno.ENOSPC, nth=1)
        ticket = generation.start(user, GenerationRequest(prompt="A quiet forest"))
        assert aio.run(generation.run(ticket)) == "failed"
    ticket = generation.start(user, GenerationRequest(prompt="A quiet forest"))
    assert aio.run(generation.run(ticket)) == "succeeded"
    row = last_generation()
    assert _files_on_disk(migrated_db.images_dir) == sorted([row.image_key, row.thumbnail_key])
    assert credit_summary(user) == ledger.CreditSummary(balance=4, held=0)
