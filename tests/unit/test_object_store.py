"""What every image store promises (storage/store.py), checked on each implementation:
the local disk, and an S3-compatible bucket on a real SeaweedFS server.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from studio_app import storage
from studio_app.settings import get_settings
from studio_app.storage import ObjectStore, StorageError, keys
from studio_app.storage.local import LocalDiskStore

pytestmark = pytest.mark.usefixtures("migrated_db")

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 600  # larger than one streamed chunk


@pytest.fixture(params=["local", "s3"])
def where(request: pytest.FixtureRequest) -> str:
    if request.param == "s3":
        request.getfixturevalue("images_in_a_bucket")
    return request.param


@pytest.fixture
def store(where: str) -> ObjectStore:
    return storage.image_store()


def _key() -> str:
    return keys.new_image_keys("png")[0]


def test_bytes_put_come_back_whole_with_what_they_are(store: ObjectStore) -> None:
    key = _key()
    before = datetime.now(UTC) - timedelta(seconds=2)
    store.put(key, PNG, "image/png")

    assert store.read(key) == PNG
    stored = store.open(key)
    assert stored is not None
    assert (stored.key, stored.size, stored.content_type) == (key, len(PNG), "image/png")
    assert before <= stored.modified <= datetime.now(UTC) + timedelta(seconds=2)
    assert stored.etag.startswith('"') and stored.etag.endswith('"')
    chunks = list(stored)
    assert len(chunks) > 1 and b"".join(chunks) == PNG


def test_the_entity_tag_changes_with_the_bytes(store: ObjectStore) -> None:
    key = _key()
    store.put(key, PNG, "image/png")
    first = store.open(key)
    store.put(key, PNG + b"more", "image/png")
    second = store.open(key)
    assert first is not None and second is not None
    first.close()
    second.close()
    assert first.etag != second.etag


def test_missing_and_malformed_keys_are_simply_not_there(store: ObjectStore) -> None:
    for key in (_key(), "../studio.db", "2026/01/../../studio.db", "", None, 7):
        assert store.open(key) is None  # type: ignore[arg-type]
        assert store.read(key) is None  # type: ignore[arg-type]
        assert store.exists(key) is False  # type: ignore[arg-type]
        store.delete(key)  # type: ignore[arg-type]  # nothing to do, and no error


def test_a_malformed_key_or_a_wrong_type_is_never_written(store: ObjectStore) -> None:
    for key in ("../escape.png", "2026/01/notes.txt", "/etc/passwd", ""):
        with pytest.raises(StorageError):
            store.put(key, PNG, "image/png")
    with pytest.raises(StorageError):
        store.put(_key(), PNG, "text/html")
    assert list(store.keys()) == []


def test_delete_removes_the_object(store: ObjectStore) -> None:
    image, thumbnail = keys.new_image_keys("png")
    store.put(image, PNG, "image/png")
    store.put(thumbnail, b"RIFF....WEBP", "image/webp")
    assert sorted(store.keys()) == sorted([image, thumbnail])
    store.delete(image)
    assert (store.exists(image), store.exists(thumbnail)) == (False, True)
    assert list(store.keys()) == [thumbnail]


def test_the_listing_says_when_each_object_was_written(store: ObjectStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=2)  # S3 dates objects to the second
    first, second = _key(), _key()
    store.put(first, PNG, "image/png")
    store.put(second, PNG, "image/png")
    listed = dict(store.listing())
    assert sorted(listed) == sorted([first, second])
    assert all(before <= when <= datetime.now(UTC) for when in listed.values())


# --- the local disk store ------------------------------------------------------------------


def _age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_an_interrupted_write_is_swept_once_it_is_old_and_never_listed() -> None:
    store = LocalDiskStore(get_settings().images_dir, keys.IMAGE_KEYS)
    old, young = _key(), _key()
    for key, age in ((old, 3600), (young, 0)):
        partial = store.path_for(key).with_name(store.path_for(key).name + ".partial")
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(PNG[:100])
        _age(partial, age)
    cutoff = datetime.now(UTC) - timedelta(minutes=5)
    assert list(store.keys()) == []
    assert list(store.listing()) == []
    assert store.sweep_unfinished(cutoff) == 1
    leftovers = sorted(p.name for p in store.path_for(young).parent.iterdir())
    assert leftovers == [store.path_for(young).name + ".partial"]


def test_the_image_and_preview_stores_never_see_each_others_objects(where: str) -> None:
    images, previews = storage.image_store(), storage.preview_store()
    image = _key()
    preview = keys.new_preview_key()
    images.put(image, PNG, "image/png")
    previews.put(preview, b"RIFF....WEBP", "image/webp")
    assert list(images.keys()) == [image]
    assert list(previews.keys()) == [preview]
    assert previews.open(image) is None and images.open(preview) is None
    with pytest.raises(StorageError):
        previews.put(image, PNG, "image/png")
