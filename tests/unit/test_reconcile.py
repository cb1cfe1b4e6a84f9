"""Start-up repair after a simulated crash: money and files end up consistent.

Store-agnostic: the SQLite pass keeps images on the local disk, the scaled pass
(`--postgres`) in a SeaweedFS bucket. An object cannot be back-dated on S3, so "an old
file" is a reconcile run as if later (`now=`).
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from botocore.model import OperationModel
from sqlmodel import select

from studio_app.clock import utcnow
from studio_app.models import CreditHold, GeneratedImage, HoldStatus
from studio_app.services import generation, ledger
from studio_app.services.db import read_session
from studio_app.services.generation import GenerationRequest
from studio_app.services.reconcile import (
    LOST_AT_MOST,
    reconcile,
    store_scan_due,
    store_scan_failed,
)
from studio_app.settings import get_settings
from studio_app.storage import image_store, keys, s3_location
from studio_app.storage.s3 import s3_client
from studio_app.storage.store import CLOCK_SLACK
from tests import aio
from tests.factories import crashed_generation, make_user

pytestmark = pytest.mark.usefixtures("migrated_db")


def _crashed_generation(user_id: int, *, age: timedelta, price: int = 2) -> int:
    return crashed_generation(user_id, age=age, price=price).id


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
    report = reconcile(now=utcnow() + timedelta(hours=1))
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
    # Stores date objects to the second: this server starts clearly after that write.
    time.sleep(CLOCK_SLACK.total_seconds() + 1.2)
    started = utcnow()
    after = _crashed_generation(user, age=timedelta(0))
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
    image_store().delete(row.image_key)
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
    assert len(keys) == 2  # the original and its thumbnail
    assert reconcile(now=utcnow() + timedelta(hours=2)) == type(reconcile())(0, 0, 0, 0)
    assert sorted(image_store().keys()) == keys


def test_the_store_is_scanned_at_start_up_and_then_once_a_day_by_one_process() -> None:
    now = utcnow()
    assert store_scan_due(at_start_up=False, now=now)  # never scanned yet
    # Other processes asking within the day: not theirs to do.
    assert not store_scan_due(at_start_up=False, now=now + timedelta(hours=1))
    assert not store_scan_due(at_start_up=False, now=now + timedelta(hours=23, minutes=59))
    # A sole process starting up scans at once (a crash may have left objects).
    assert store_scan_due(at_start_up=True, now=now + timedelta(hours=2))
    assert not store_scan_due(at_start_up=False, now=now + timedelta(hours=25))
    assert store_scan_due(at_start_up=False, now=now + timedelta(hours=26, seconds=1))


def test_a_failed_store_scan_is_tried_again_by_the_next_process_to_ask() -> None:
    now = utcnow()
    assert store_scan_due(at_start_up=False, now=now)
    store_scan_failed()
    assert store_scan_due(at_start_up=False, now=now + timedelta(minutes=1))


def test_a_store_missing_most_images_is_not_believed(caplog: pytest.LogCaptureFixture) -> None:
    """A wrong bucket or prefix looks like every image lost: nothing is failed or refunded."""
    user = make_user(credits=LOST_AT_MOST + 5)

    async def make_images() -> None:
        for n in range(LOST_AT_MOST + 1):
            await generation.run(generation.start(user, GenerationRequest(prompt=f"Gull {n}")))

    aio.run(make_images())
    for key in list(image_store().keys()):
        image_store().delete(key)
    report = reconcile()
    assert report.rows_refunded == 0
    assert "is STUDIO_STORAGE_URL right?" in caplog.text
    with read_session() as db:
        statuses = db.exec(select(GeneratedImage.status)).all()
        assert set(statuses) == {"succeeded"} and len(statuses) == LOST_AT_MOST + 1
        assert ledger.balance(db, user) == 4


def test_without_a_store_scan_only_holds_and_rows_are_repaired() -> None:
    user = make_user(credits=5)
    row_id = _crashed_generation(user, age=timedelta(hours=1))
    orphan, _ = keys.new_image_keys("png")
    _put(orphan, b"left by a crash")
    report = reconcile(now=utcnow() + timedelta(hours=1), scan_store=False)
    assert (report.rows_failed, report.files_deleted) == (1, 0)
    assert _state(row_id)[0] == "failed"
    assert image_store().exists(orphan)


@pytest.mark.usefixtures("images_in_a_bucket")
def test_the_store_scan_lists_the_bucket_instead_of_asking_about_each_image() -> None:
    user = make_user(credits=20)

    async def make_images() -> None:
        for n in range(6):
            await generation.run(generation.start(user, GenerationRequest(prompt=f"Kite {n}")))

    aio.run(make_images())
    orphan, _ = keys.new_image_keys("png")
    _put(orphan, b"left by a crash")
    requests: list[str] = []

    def count(model: OperationModel, **_: object) -> None:
        requests.append(model.name)

    events = s3_client(s3_location(get_settings())).meta.events
    events.register("before-call.s3", count)
    try:
        report = reconcile(now=utcnow() + timedelta(hours=1))
    finally:
        events.unregister("before-call.s3", count)
    assert (report.rows_refunded, report.files_deleted) == (0, 1)
    # For the images, the uploaded pictures and the published copies each: one page of
    # the listing and the sweep of unfinished writes; then the orphan's delete. No
    # HeadObject or GetObject per image.
    assert (
        sorted(requests) == ["DeleteObject"] + ["ListMultipartUploads"] * 3 + ["ListObjectsV2"] * 3
    )
