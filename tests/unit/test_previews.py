"""Template previews: uploads checked and re-encoded, bombs refused, generated ones drawn."""

from __future__ import annotations

import io
import json
import struct
import zlib

import pytest
from PIL import Image
from sqlmodel import select

from studio_app.models import AuditEntry, ImageTemplate
from studio_app.services import catalog_admin, previews
from studio_app.services.auth import CurrentUser
from studio_app.services.catalog_admin import TemplateFields
from studio_app.services.db import read_session
from studio_app.services.errors import InvalidInput, NotFound, PermissionDenied
from studio_app.settings import Settings
from studio_app.storage import preview_store
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("migrated_db")


@pytest.fixture
def admin() -> CurrentUser:
    return CurrentUser(id=make_user(role="admin"), email="", role="admin")


@pytest.fixture
def template_id(admin: CurrentUser) -> int:
    category = catalog_admin.create_category(admin, "Travel")
    return catalog_admin.create_template(
        admin,
        TemplateFields(category, "Beach", "", "A quiet beach at dawn", "premium-wide"),
    )


def image_bytes(fmt: str, size: tuple[int, int], mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "teal").save(buffer, fmt)
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A small PNG whose header claims a huge picture (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grey
    rows = zlib.compress(b"\x00" * ((width + 7) // 8 + 1) * 64, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def _preview_key(template_id: int) -> str | None:
    with read_session() as db:
        template = db.get(ImageTemplate, template_id)
        assert template is not None
        return template.preview_image_key


def _preview_bytes(key: str | None) -> bytes:
    stored = previews.open_preview(key)
    assert stored is not None
    return stored.read()


def _audit_actions() -> list[str]:
    with read_session() as db:
        return [e.action for e in db.exec(select(AuditEntry).order_by(AuditEntry.id)).all()]


def test_a_png_upload_is_reencoded_to_a_small_webp(
    admin: CurrentUser, template_id: int, migrated_db: Settings
) -> None:
    original = image_bytes("PNG", (1600, 900))
    url = previews.upload_preview(admin, template_id, original, "holiday.png")

    key = _preview_key(template_id)
    assert key and url == f"/template-previews/{key}"
    assert (migrated_db.images_dir / "template-previews" / key).is_file()  # apart from images
    stored = _preview_bytes(key)
    assert stored != original
    with Image.open(io.BytesIO(stored)) as image:
        assert (image.format, image.size) == ("WEBP", (640, 360))
    with read_session() as db:
        entry = db.exec(select(AuditEntry).order_by(AuditEntry.id.desc())).first()  # type: ignore[union-attr]
    assert entry is not None and entry.action == "template.preview_upload"
    assert json.loads(entry.before) == {"preview": "none"}
    assert json.loads(entry.after)["size"] == "640×360"
    assert "holiday.png" in json.loads(entry.after)["source"]
    assert catalog_admin.list_templates(admin)[0].preview_url == url


@pytest.mark.parametrize(
    ("fmt", "mode"), [("JPEG", "RGB"), ("WEBP", "RGBA"), ("PNG", "P"), ("PNG", "LA")]
)
def test_jpeg_webp_and_palette_images_are_accepted(
    admin: CurrentUser, template_id: int, fmt: str, mode: str
) -> None:
    previews.upload_preview(admin, template_id, image_bytes(fmt, (300, 200), mode))
    with Image.open(io.BytesIO(_preview_bytes(_preview_key(template_id)))) as image:
        assert (image.format, image.size) == ("WEBP", (300, 200))


def test_replacing_a_preview_removes_the_old_file(admin: CurrentUser, template_id: int) -> None:
    previews.upload_preview(admin, template_id, image_bytes("PNG", (100, 100)))
    old_key = _preview_key(template_id)
    assert preview_store().exists(old_key)
    previews.generate_preview(admin, template_id)
    assert _preview_key(template_id) != old_key
    assert not preview_store().exists(old_key)
    assert previews.open_preview(old_key) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"%PDF-1.7 not an image at all", "not a PNG, JPEG or WebP image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "not a PNG, JPEG or WebP image"),
        (image_bytes("GIF", (10, 10)), "not a PNG, JPEG or WebP image"),
        (image_bytes("BMP", (10, 10)), "not a PNG, JPEG or WebP image"),
        (image_bytes("PNG", (400, 400))[:200], "damaged or incomplete"),
    ],
)
def test_bad_files_are_refused_and_nothing_changes(
    admin: CurrentUser, template_id: int, migrated_db: Settings, data: bytes, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        previews.upload_preview(admin, template_id, data, "x.png")
    assert _preview_key(template_id) is None
    assert _audit_actions()[-1] == "template.create"
    folder = migrated_db.images_dir / "template-previews"
    assert not folder.exists() or not any(folder.iterdir())


def test_an_oversized_file_is_refused_before_decoding(admin: CurrentUser, template_id: int) -> None:
    too_big = image_bytes("PNG", (10, 10)) + b"\x00" * previews.MAX_UPLOAD_BYTES
    with pytest.raises(InvalidInput, match="the limit is 5 MB"):
        previews.upload_preview(admin, template_id, too_big)
    assert _preview_key(template_id) is None


def test_a_decompression_bomb_is_refused_from_its_header(
    admin: CurrentUser, template_id: int
) -> None:
    bomb = png_declaring(30_000, 30_000)
    assert len(bomb) < 100_000  # tiny on the wire, 900 megapixels once decoded
    with pytest.raises(InvalidInput, match="too many pixels"):
        previews.upload_preview(admin, template_id, bomb)
    assert _preview_key(template_id) is None


def test_too_many_pixels_even_below_pillows_own_limit(admin: CurrentUser, template_id: int) -> None:
    with pytest.raises(InvalidInput, match="too many pixels"):
        previews.upload_preview(admin, template_id, png_declaring(9000, 5000))


def test_generated_preview_follows_the_default_tier_aspect(
    admin: CurrentUser, template_id: int
) -> None:
    url = previews.generate_preview(admin, template_id)
    key = _preview_key(template_id)
    assert key is not None and url.endswith(key)
    with Image.open(io.BytesIO(_preview_bytes(key))) as image:
        assert (image.format, image.size) == ("WEBP", (640, 360))  # premium-wide is 16:9
    assert _audit_actions()[-1] == "template.preview_generate"


def test_non_admins_and_unknown_templates_are_refused(
    admin: CurrentUser, template_id: int, migrated_db: Settings
) -> None:
    member = CurrentUser(id=make_user(), email="", role="user")
    png = image_bytes("PNG", (50, 50))
    for who in (member, None):
        with pytest.raises(PermissionDenied):
            previews.upload_preview(who, template_id, png)
        with pytest.raises(PermissionDenied):
            previews.generate_preview(who, template_id)
    for bad in (999, "1", None):
        with pytest.raises(NotFound):
            previews.upload_preview(admin, bad, png)
        with pytest.raises(NotFound):
            previews.generate_preview(admin, bad)
    assert _preview_key(template_id) is None
    assert _audit_actions()[-1] == "template.create"
    folder = migrated_db.images_dir / "template-previews"
    assert not folder.exists() or not any(folder.iterdir())


def test_open_preview_only_for_keys_a_template_holds(admin: CurrentUser, template_id: int) -> None:
    previews.upload_preview(admin, template_id, image_bytes("PNG", (50, 50)))
    key = _preview_key(template_id)
    assert _preview_bytes(key)[:4] == b"RIFF"
    assert previews.open_preview("0" * 32 + ".webp") is None  # well-formed, nobody's
    for bad in ("../studio.db", f"../{key}", key.upper(), f"2026/01/{key}", None, 5):  # type: ignore[union-attr]
        assert previews.open_preview(bad) is None
