"""Pictures uploaded to edit: checked from their bytes, cleaned of metadata, private,
removable, and known to the store scan (on the disk, and with --postgres in a bucket)."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import timedelta

from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import func, select

from studio_app.clock import utcnow
from studio_app.models import ImageUpload
from studio_app.services import uploads
from studio_app.services.db import read_session
from studio_app.services.reconcile import reconcile
from studio_app.storage import keys, upload_store
from tests.api.rest import ApiUser, api_user, wait_until_finished

UPLOADS = "/api/studio/uploads"
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def _picture(fmt: str, size: tuple[int, int] = (40, 20), **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, fmt, **save)
    return buffer.getvalue()


def _bomb(width: int, height: int) -> bytes:
    """A PNG whose header claims `width`×`height` pixels, in a few dozen bytes: what a
    decompression bomb shows the server before it would inflate."""
    png = bytearray(_picture("PNG", (1, 1)))
    # The IHDR chunk follows the 8-byte signature: length, type, width, height, …, CRC.
    png[16:24] = struct.pack(">II", width, height)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
    return bytes(png)


def _photo_with_exif() -> bytes:
    """A JPEG as a phone writes it: turned by its orientation tag, with a location."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # shown turned 90° clockwise
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS_IFD)[2] = (51.0, 30.0, 0.0)
    return _picture("JPEG", exif=exif.tobytes())


def _upload(client: TestClient, user: ApiUser, data: bytes, content_type: str = "image/jpeg"):  # type: ignore[no-untyped-def]
    headers = {**user.headers, "Content-Type": content_type}
    return client.post(UPLOADS, content=data, headers=headers)


def _upload_rows() -> int:
    with read_session() as db:
        return db.exec(select(func.count()).select_from(ImageUpload)).one()


def _stored_objects() -> list[str]:
    return [key for key, _ in upload_store().listing()]


def test_an_upload_is_kept_upright_without_its_metadata(client: TestClient) -> None:
    user = api_user()
    answer = _upload(client, user, _photo_with_exif())
    assert answer.status_code == 201, answer.text
    upload = answer.json()
    assert (upload["width"], upload["height"], upload["content_type"]) == (20, 40, "image/jpeg")

    kept = client.get(upload["image_url"], headers=user.headers)
    assert kept.status_code == 200 and kept.headers["content-type"] == "image/jpeg"
    picture = Image.open(io.BytesIO(kept.content))
    assert picture.size == (20, 40)  # the orientation applied, not merely recorded
    assert not picture.getexif()  # no location, maker or orientation left
    assert b"PhoneMaker" not in kept.content
    assert [item["id"] for item in client.get(UPLOADS, headers=user.headers).json()["items"]] == [
        upload["id"]
    ]


def test_the_type_is_read_from_the_bytes(client: TestClient) -> None:
    user = api_user()
    answer = _upload(client, user, _picture("PNG"), content_type="image/jpeg")
    assert answer.status_code == 201 and answer.json()["content_type"] == "image/png"
    webp = _upload(client, user, _picture("WEBP"), content_type="application/octet-stream")
    assert webp.status_code == 201 and webp.json()["content_type"] == "image/webp"


def test_what_is_not_an_accepted_picture_is_refused_and_nothing_is_kept(
    client: TestClient,
) -> None:
    user = api_user()
    refused = {
        "gif": _picture("GIF"),
        "text": b"hello, this is not a picture",
        "truncated png": _picture("PNG", (400, 400))[:200],
        "empty": b"",
    }
    for what, data in refused.items():
        answer = _upload(client, user, data)
        assert answer.status_code == 422, what
        assert answer.json()["field"] == "file", what
        assert answer.json()["message"], what
    assert "PNG, JPEG or WebP" in _upload(client, user, refused["gif"]).json()["message"]
    assert _upload_rows() == 0 and _stored_objects() == []


def test_too_many_pixels_or_bytes_are_refused_before_decoding(client: TestClient) -> None:
    user = api_user()
    # 30 megapixels of one colour: a small file that would inflate to ~90 MB.
    big = _upload(client, user, _picture("PNG", (6000, 5000)))
    assert big.status_code == 422
    assert big.json()["message"] == (
        "The picture is 6000×5000 pixels; at most 25 megapixels are accepted."
    )
    # A decompression bomb: past Pillow's own limit, refused from its header.
    bomb = _upload(client, user, _bomb(50_000, 50_000))
    assert bomb.status_code == 422 and "megapixels" in bomb.json()["message"]
    too_long = _upload(client, user, b"\x89PNG" + b"\0" * (10 * 1024 * 1024))
    assert too_long.status_code == 413 and too_long.json()["code"] == "too_large"
    assert _upload_rows() == 0 and _stored_objects() == []


def test_an_upload_is_its_owners_alone_and_removing_it_deletes_it(client: TestClient) -> None:
    owner, stranger = api_user(), api_user()
    upload = _upload(client, owner, _picture("PNG"), "image/png").json()
    assert client.get(upload["image_url"], headers=stranger.headers).status_code == 404
    assert client.delete(f"{UPLOADS}/{upload['id']}", headers=stranger.headers).status_code == 404
    assert client.get(UPLOADS, headers=stranger.headers).json()["items"] == []
    assert len(_stored_objects()) == 1

    assert client.delete(f"{UPLOADS}/{upload['id']}", headers=owner.headers).status_code == 204
    assert client.get(upload["image_url"], headers=owner.headers).status_code == 404
    assert client.get(UPLOADS, headers=owner.headers).json()["items"] == []
    assert _stored_objects() == []
    assert client.post(UPLOADS, content=_picture("PNG")).status_code == 401


def test_the_store_scan_keeps_uploads_and_deletes_what_no_upload_row_names(
    client: TestClient,
) -> None:
    user = api_user()
    kept = _upload(client, user, _picture("PNG"), "image/png").json()
    orphan = keys.new_upload_key("png")  # a crash between the write and the row
    upload_store().put(orphan, _picture("PNG"), "image/png")
    report = reconcile(now=utcnow() + timedelta(hours=1))
    assert report.files_deleted == 1
    assert orphan not in _stored_objects() and len(_stored_objects()) == 1
    assert client.get(kept["image_url"], headers=user.headers).status_code == 200


def test_uploads_are_limited_per_hour_and_refused_files_do_not_count(
    client: TestClient, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(uploads, "UPLOADS_PER_HOUR", 2)
    user = api_user()
    for _ in range(3):
        assert _upload(client, user, b"not a picture").status_code == 422
    assert _upload(client, user, _picture("PNG")).status_code == 201
    assert _upload(client, user, _picture("PNG")).status_code == 201
    third = _upload(client, user, _picture("PNG"))
    assert third.status_code == 429 and int(third.headers["retry-after"]) > 0
    assert _upload_rows() == 2


def test_an_upload_is_edited_through_the_rest_api_and_kept_while_its_edit_exists(
    client: TestClient,
) -> None:
    user = api_user(credits=5)
    picture = _upload(client, user, _picture("PNG", (600, 300)), "image/png").json()
    accepted = client.post(
        "/api/studio/generate",
        json={"prompt": "make it sepia", "tier": "premium", "source_upload_id": picture["id"]},
        headers=user.headers,
    )
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["cost_credits"] == 2
    done = wait_until_finished(client, user, accepted.json()["id"])
    assert done["status"] == "succeeded" and done["edit"] is True
    assert (done["width"], done["height"]) == (1536, 1024)
    edited = client.get(done["image_url"], headers=user.headers)
    with Image.open(io.BytesIO(edited.content)) as opened:
        # Sepia: a warm brown, where the upload was orange-red (200, 80, 40).
        red, green, blue = opened.convert("RGB").getpixel((100, 100))
    assert red > green > blue and green > 100

    # Removed by its owner: gone from the list, its picture kept for the edit's sake.
    assert client.delete(f"{UPLOADS}/{picture['id']}", headers=user.headers).status_code == 204
    assert client.get(UPLOADS, headers=user.headers).json() == {"items": []}
    assert len(_stored_objects()) == 1
    # … until the edit is deleted too.
    deleted = client.delete(f"/api/studio/creations/{done['id']}", headers=user.headers)
    assert deleted.status_code == 204
    assert _stored_objects() == []


def test_an_edit_of_an_upload_that_is_not_yours_is_refused_and_charges_nothing(
    client: TestClient,
) -> None:
    owner, other = api_user(credits=5), api_user(credits=5)
    picture = _upload(client, owner, _picture("PNG"), "image/png").json()
    refused = client.post(
        "/api/studio/generate",
        json={"prompt": "make it sepia", "source_upload_id": picture["id"]},
        headers=other.headers,
    )
    assert refused.status_code == 422
    assert "not among your uploads" in refused.text
    assert client.get("/api/studio/credits", headers=other.headers).json()["balance"] == 5
