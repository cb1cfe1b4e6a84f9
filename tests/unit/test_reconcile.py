"""Start-up repair after a simulated crash: money and files end up consistent."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from sqlmodel import select

from studio_app.clock import utcnow
from studio_app.models import CreditHold, GeneratedImage, HoldStatus
from studio_app.services import generation, ledger
from studio_app.services.db import read_session
from studio_app.services.generation import GenerationRequest
from studio_app.services.reconcile import reconcile
from studio_app.storage import image_store, keys
from tests import aio
from tests.factories import crashed_generation, disk_path, make_user

pytestmark = pytest.mark.usefixtures("migrated_db")


def _crashed_generation(user_id: int, *, age: timedelta, price: int = 2) -> int:
    return crashed_generation(user_id, age=age, price=price).id


def _age_file(key: str, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(disk_path(key), (past, past))


def _put(key: str, data: bytes) -> None:
    image_store().put(key, data, keys.content_type_of(key))


def _state(row_id: int) -> tuple[str, str | None, str]:
    with read_session() as db:
        row = db.get(GeneratedImage, row_id)
        hold = db.exec(select(CreditHold).where(CreditHold.generation_id == row_id)).one()
    return row.status, row.error_code, hold.status


def test_an_old_pending_generation_is_failed_and_its_hold_released() -> None:
    user = make_user(credits=5)
    row_id = _crashed_generation(user, age=timedelta(hours=1))
    report = reconcile()
    assert _state(row_id) == ("failed", "interrupted", HoldStatus.RELEASED.value)
    assert report.holds_released == 1
    with read_session() as db:
        assert ledger.summary(db, user) == ledger.CreditSummary(balance=5, held=0)


def test_a_young_pending_generation_is_left_to_finish() -> None:
    user = make_user(credits=5)
    row_id = _crashed_generation(user, age=timedelta(seconds=5))
    reconcile()
    assert _state(row_id) == ("pending", None, HoldStatus.OPEN.value)


def test_a_file_written_before_the_crash_is_removed() -> None:
    user = make_user(credits=5)
    row_id = _crashed_generation(user, age=timedelta(hours=1))
    image_key, thumb_key = keys.new_image_keys("png")
    _put(image_key, b"half of a generation")
    _put(thumb_key, b"thumb")
    _age_file(image_key, 3600)
    _age_file(thumb_key, 3600)
    report = reconcile()
    assert report.files_deleted == 2
    assert not image_store().exists(image_key)
    assert _state(row_id)[0] == "failed"


def test_a_young_orphan_file_is_kept_for_a_job_still_finishing() -> None:
    key, _ = keys.new_image_keys("png")
    _put(key, b"just written")
    assert reconcile().files_deleted == 0
    assert image_store().exists(key)


def test_a_server_that_starts_fails_what_the_previous_one_left_at_once() -> None:
    """Young rows and files from before this process started belong to no live job."""
    user = make_user(credits=5)
    before = _crashed_generation(user, age=timedelta(seconds=30))
    key, _ = keys.new_image_keys("png")
    _put(key, b"written by the killed server")
    _age_file(key, 30)
    started = utcnow() - timedelta(seconds=10)
    after = _crashed_generation(user, age=timedelta(seconds=1))
    fresh, _ = keys.new_image_keys("png")
    _put(fresh, b"written by this server's job")
    report = reconcile(interrupted_before=started)
    assert _state(before) == ("failed", "interrupted", HoldStatus.RELEASED.value)
    assert _state(after) == ("pending", None, HoldStatus.OPEN.value)
    assert (report.rows_failed, report.files_deleted) == (1, 1)
    assert not image_store().exists(key) and image_store().exists(fresh)


def test_a_succeeded_image_whose_file_is_gone_is_refunded() -> None:
    user = make_user(credits=5)

    async def make_one() -> str:
        ticket = generation.start(user, GenerationRequest(prompt="A paper crane", tier="premium"))
        await generation.run(ticket)
        return ticket.public_id

    public_id = aio.run(make_one())
    with read_session() as db:
        row = db.exec(select(GeneratedImage).where(GeneratedImage.public_id == public_id)).one()
        assert ledger.balance(db, user) == 3
    disk_path(row.image_key).unlink()
    report = reconcile()
    assert report.rows_refunded == 1
    with read_session() as db:
        row = db.get(GeneratedImage, row.id)
        assert (row.status, row.error_code, row.image_key) == ("failed", "file_missing", None)
        assert ledger.balance(db, user) == 5
        kinds = [line.kind for line in ledger.statement(db, user)]
    assert kinds == ["grant", "capture", "refund"]
    assert list(image_store().keys()) == []
    assert reconcile() == type(report)(0, 0, 0, 0)


def test_healthy_images_are_untouched() -> None:
    user = make_user(credits=5)

    async def make_one() -> None:
        await generation.run(generation.start(user, GenerationRequest(prompt="A teapot")))

    aio.run(make_one())
    keys = sorted(image_store().keys())
    for key in keys:
        _age_file(key, 7200)
    assert reconcile() == type(reconcile())(0, 0, 0, 0)
    assert sorted(image_store().keys()) == keys
