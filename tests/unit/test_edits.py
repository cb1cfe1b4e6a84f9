"""Edits: a user's upload changed as the prompt says, at the tier's size, paid like a
generation; the upload kept while a creation made from it exists."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image, ImageChops, ImageStat
from sqlmodel import select

from studio_app.clock import utcnow
from studio_app.models import GeneratedImage, ImageUpload
from studio_app.providers import offline_edit
from studio_app.services import creations, edit_sources, generation, ledger, reconcile, uploads
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session
from studio_app.services.errors import InvalidInput, NotFound
from studio_app.services.generation import GenerationRequest
from studio_app.services.tiers import get_tier
from studio_app.settings import Settings, reload_settings
from studio_app.storage import image_store, upload_store
from tests import aio
from tests.factories import make_user
from tests.fakes import openai_api, replicate_api
from tests.fakes.server import FakeServer
from tests.generation_helpers import use_replicate_at

PROMPT = "make it black and white"


@pytest.fixture(autouse=True)
def fault_provider_enabled(migrated_db: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("STUDIO_ENABLE_FAULT_PROVIDER", "1")
    return reload_settings()


def _viewer(user_id: int) -> CurrentUser:
    return CurrentUser(id=user_id, email=f"u{user_id}@example.com", role="user")


def _photo(size: tuple[int, int]) -> bytes:
    """A colourful picture: red left half, blue right half, a green band at the top."""
    picture = Image.new("RGB", size, (220, 30, 30))
    picture.paste((30, 60, 220), (size[0] // 2, 0, size[0], size[1]))
    picture.paste((30, 200, 60), (0, 0, size[0], size[1] // 10))
    encoded = io.BytesIO()
    picture.save(encoded, "PNG")
    return encoded.getvalue()


def _edit(user_id: int, upload_id: str, **fields: object) -> list[GeneratedImage]:
    asked: dict[str, object] = {"prompt": PROMPT, **fields}
    request = GenerationRequest(source_upload_id=upload_id, **asked)  # type: ignore[arg-type]

    async def go() -> str:
        ticket = generation.start(user_id, request)
        await generation.run(ticket)
        return ticket.public_id

    request_id = aio.run(go())
    with read_session() as db:
        return generation.request_rows(db, request_id)


def _stored_picture(row: GeneratedImage) -> Image.Image:
    assert row.image_key is not None
    return Image.open(io.BytesIO(image_store().open(row.image_key).read())).convert("RGB")


def _balance(user_id: int) -> int:
    with read_session() as db:
        return ledger.summary(db, user_id).balance


def test_an_edit_changes_the_uploaded_picture_at_the_tiers_size_and_costs_its_price() -> None:
    user_id = make_user(credits=10)
    upload = uploads.accept(_viewer(user_id), _photo((1200, 600)))

    [row] = _edit(user_id, upload.public_id, tier="premium")

    assert row.status == "succeeded", row.error_message
    assert row.source_upload_id is not None
    assert (row.width, row.height) == (1536, 1024)
    assert _balance(user_id) == 10 - get_tier("premium").credits
    edited = _stored_picture(row)
    # Black and white: no colour left, yet the picture's halves are still there.
    # (The top half: the prompt's caption sits at the bottom.)
    top_half = edited.crop((0, 0, 1536, 512))
    red, green, blue = (band.getextrema() for band in top_half.split())
    assert red == green == blue
    left = ImageStat.Stat(edited.crop((100, 300, 600, 900))).mean[0]
    right = ImageStat.Stat(edited.crop((900, 300, 1400, 900))).mean[0]
    assert abs(left - right) > 10


def test_the_picture_is_cropped_from_its_centre_to_the_tiers_aspect() -> None:
    square = get_tier("standard")
    # A 2:1 picture keeps its middle square: the sides go.
    assert edit_sources.crop_box(1200, 600, square) == (300, 0, 900, 600)
    assert "sides are cut off" in edit_sources.fit_note(1200, 600, square)
    assert "nothing is cut off" in edit_sources.fit_note(512, 512, square)
    fitted = edit_sources.fitted(_photo((1200, 600)), square)
    assert fitted.picture is not None and fitted.picture.size == (1024, 1024)
    # The left quarter (red) was cut off: the fitted picture's left edge is the red half's
    # middle, its right edge the blue half's.
    assert fitted.picture.getpixel((5, 512))[0] > 200
    assert fitted.picture.getpixel((1018, 512))[2] > 200


def test_every_prompt_changes_the_picture_and_several_images_differ() -> None:
    source = edit_sources.fitted(_photo((512, 512)), get_tier("standard")).picture
    assert source is not None
    for prompt in ("a cosy cabin", "make it purple", "sketch", "mirror it"):
        changed = offline_edit.apply(source, prompt)
        assert ImageChops.difference(changed, source).getbbox() is not None, prompt
    first, second = (
        offline_edit.apply(source, "a cosy cabin", 0),
        offline_edit.apply(source, "a cosy cabin", 1),
    )
    assert ImageChops.difference(first, second).getbbox() is not None


def test_an_edit_of_someone_elses_or_a_removed_upload_is_refused_and_changes_nothing() -> None:
    owner, other = make_user(credits=5), make_user(credits=5)
    upload = uploads.accept(_viewer(owner), _photo((300, 300)))
    with pytest.raises(InvalidInput, match="not among your uploads"):
        generation.start(other, GenerationRequest(prompt=PROMPT, source_upload_id=upload.public_id))
    uploads.delete_upload(_viewer(owner), upload.public_id)
    with pytest.raises(InvalidInput, match="not among your uploads"):
        generation.start(owner, GenerationRequest(prompt=PROMPT, source_upload_id=upload.public_id))
    assert _balance(owner) == _balance(other) == 5
    with read_session() as db:
        assert db.exec(select(GeneratedImage)).first() is None


def test_several_edits_fail_one_and_charge_the_others() -> None:
    user_id = make_user(credits=10)
    upload = uploads.accept(_viewer(user_id), _photo((400, 400)))
    rows = _edit(
        user_id,
        upload.public_id,
        provider="fault",
        count=3,
        prompt="warmer, golden light #fail=unavailable #fail_image=1",
    )
    assert [row.status for row in rows] == ["succeeded", "failed", "succeeded"]
    assert _balance(user_id) == 10 - 2
    first, third = (_stored_picture(rows[0]), _stored_picture(rows[2]))
    assert ImageChops.difference(first, third).getbbox() is not None


def test_an_unreadable_upload_fails_the_edit_and_charges_nothing() -> None:
    user_id = make_user(credits=3)
    upload = uploads.accept(_viewer(user_id), _photo((400, 400)))
    with read_session() as db:
        key = db.exec(
            select(ImageUpload.image_key).where(ImageUpload.public_id == upload.public_id)
        ).one()
    upload_store().delete(key)
    [row] = _edit(user_id, upload.public_id)
    assert (row.status, row.error_code) == ("failed", generation.SOURCE_MISSING)
    assert _balance(user_id) == 3


def test_a_removed_upload_stays_while_a_creation_made_from_it_exists() -> None:
    user_id = make_user(credits=5)
    viewer = _viewer(user_id)
    upload = uploads.accept(viewer, _photo((400, 400)))
    [row] = _edit(user_id, upload.public_id)
    with read_session() as db:
        key = db.get(ImageUpload, row.source_upload_id).image_key  # type: ignore[union-attr]

    uploads.delete_upload(viewer, upload.public_id)
    assert upload.public_id not in [u.public_id for u in uploads.list_uploads(viewer)]
    assert upload_store().exists(key)
    # The store scan, an hour on, keeps it too.
    reconcile.reconcile(now=utcnow() + timedelta(hours=1))
    with pytest.raises(NotFound):
        uploads.delete_upload(viewer, upload.public_id)
    assert upload_store().exists(key)

    creations.delete_creation(viewer, row.public_id)
    assert not upload_store().exists(key)


def test_a_creation_can_be_kept_as_an_upload_to_edit() -> None:
    user_id = make_user(credits=5)
    viewer = _viewer(user_id)
    made = aio.run(_generate(user_id))
    copy = uploads.from_creation(viewer, made)
    assert (copy.width, copy.height) == (1024, 1024)
    with pytest.raises(NotFound):
        uploads.from_creation(_viewer(make_user()), made)
    [row] = _edit(user_id, copy.public_id)
    assert row.status == "succeeded"


async def _generate(user_id: int) -> str:
    ticket = generation.start(user_id, GenerationRequest(prompt="a red kite over hills"))
    await generation.run(ticket)
    return ticket.public_id


def test_an_openai_edit_sends_the_fitted_picture_once_per_image(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.on("POST", openai_api.EDITS_PATH, openai_api.edits())
    monkeypatch.setenv("OPENAI_API_KEY", "sk-edits")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{fake.url}{openai_api.BASE_PATH}")
    reload_settings()
    user_id = make_user(credits=10)
    upload = uploads.accept(_viewer(user_id), _photo((1200, 600)))

    rows = _edit(user_id, upload.public_id, provider="openai", count=2, tier="premium")

    assert [row.status for row in rows] == ["succeeded", "succeeded"]
    calls = fake.requests_to(openai_api.EDITS_PATH)
    assert len(calls) == 2  # an edit is one call per image
    sent = {part.name: part for part in openai_api.form_parts(calls[0])}
    assert openai_api.form_fields(calls[0])["prompt"] == PROMPT
    with Image.open(io.BytesIO(sent["image"].data)) as picture:
        # Cropped from the centre to 3:2 and scaled to the tier before it was sent.
        assert picture.size == (1536, 1024)
    assert _balance(user_id) == 10 - 2 * 2


def test_a_replicate_edit_gives_flux_2_the_picture_as_a_reference(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    replicate_api.serve_files(fake)
    replicate_api.create_answers(fake, replicate_api.draws(fake))
    use_replicate_at(fake, monkeypatch)
    user_id = make_user(credits=10)
    upload = uploads.accept(_viewer(user_id), _photo((600, 600)))

    [row] = _edit(user_id, upload.public_id, provider="replicate")

    assert row.status == "succeeded", row.error_message
    [create] = replicate_api.creates(fake)
    [reference] = replicate_api.references(create)
    with Image.open(io.BytesIO(reference)) as picture:
        assert picture.size == (1024, 1024)
    assert _balance(user_id) == 9


def test_generate_again_on_an_edit_edits_the_same_picture_until_it_is_removed() -> None:
    user_id = make_user(credits=5)
    viewer = _viewer(user_id)
    upload = uploads.accept(viewer, _photo((400, 400)))
    [first] = _edit(user_id, upload.public_id)

    again = creations.reuse_settings(viewer, first.public_id)
    assert again is not None and again.source_upload_id == upload.public_id
    [second] = _edit(user_id, upload.public_id)
    assert second.source_upload_id == first.source_upload_id

    uploads.delete_upload(viewer, upload.public_id)
    removed = creations.reuse_settings(viewer, first.public_id)
    assert removed is not None and removed.source_removed
    # Never a text-only image in its place: refused, nothing charged.
    with pytest.raises(InvalidInput, match="not among your uploads"):
        generation.start(user_id, removed.request())
    assert _balance(user_id) == 3


def test_a_transparent_picture_is_edited_on_white() -> None:
    logo = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    logo.paste((20, 120, 40, 255), (100, 100, 200, 200))
    encoded = io.BytesIO()
    logo.save(encoded, "PNG")
    fitted = edit_sources.fitted(encoded.getvalue(), get_tier("standard"))
    assert fitted.picture is not None
    assert fitted.picture.getpixel((10, 10)) == (255, 255, 255)
    assert fitted.picture.getpixel((512, 512))[1] > 100


def test_a_failed_edit_does_not_keep_a_removed_picture() -> None:
    user_id = make_user(credits=5)
    viewer = _viewer(user_id)
    upload = uploads.accept(viewer, _photo((300, 300)))
    [row] = _edit(user_id, upload.public_id, provider="fault", prompt="x #fail=bad_request")
    assert row.status == "failed"
    with read_session() as db:
        key = db.exec(
            select(ImageUpload.image_key).where(ImageUpload.public_id == upload.public_id)
        ).one()
    uploads.delete_upload(viewer, upload.public_id)
    assert not upload_store().exists(key)
