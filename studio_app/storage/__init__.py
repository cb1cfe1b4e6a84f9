"""Where image bytes live: behind keys, bytes and streams, never local paths.

Four stores, kept apart: the private images (originals and thumbnails, served only to
their owner through our own route), the pictures users upload to edit (private too), the
public copies of community posts and the public template previews. All speak `ObjectStore` (store.py); local disk under STUDIO_IMAGES_DIR (local.py) is the embedded
default, and an S3-compatible bucket (s3.py, STUDIO_STORAGE_URL) the scaled one.
"""

from __future__ import annotations

from studio_app.settings import Settings, get_settings, split_storage_url
from studio_app.storage.keys import (
    IMAGE_KEYS,
    PREVIEW_KEYS,
    PUBLISHED_KEYS,
    UPLOAD_KEYS,
    KeyShape,
)
from studio_app.storage.local import LocalDiskStore
from studio_app.storage.s3 import S3Location, S3Store
from studio_app.storage.store import ObjectStore, StorageError, StoredObject

__all__ = [
    "ObjectStore",
    "StorageError",
    "StoredObject",
    "image_store",
    "preview_store",
    "published_store",
    "upload_store",
]

# The previews' folder below the images folder: the images store never lists it (its
# keys are date paths), and a preview key cannot name a private image.
PREVIEW_FOLDER = "template-previews"
# In a bucket every store has a folder of its own.
IMAGE_FOLDER = "images"
# Pictures uploaded for editing: below the images folder on disk too (the image store
# never lists it: an upload key is not an image key).
UPLOAD_FOLDER = "uploads"
# Public copies of published posts, apart from the private originals.
PUBLISHED_FOLDER = "published"


def s3_location(settings: Settings) -> S3Location:
    bucket, prefix = split_storage_url(settings.storage_url)
    return S3Location(
        bucket=bucket,
        prefix=prefix,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
    )


def _store(folder: str, shape: KeyShape) -> ObjectStore:
    settings = get_settings()
    if settings.storage_url:
        return S3Store(s3_location(settings), folder, shape)
    root = settings.images_dir
    return LocalDiskStore(root if folder == IMAGE_FOLDER else root / folder, shape)


def image_store() -> ObjectStore:
    """The private images: originals and their thumbnails."""
    return _store(IMAGE_FOLDER, IMAGE_KEYS)


def upload_store() -> ObjectStore:
    """Pictures users uploaded to edit, private to each."""
    return _store(UPLOAD_FOLDER, UPLOAD_KEYS)


def published_store() -> ObjectStore:
    """The public copies of community posts (served while the post is visible)."""
    return _store(PUBLISHED_FOLDER, PUBLISHED_KEYS)


def preview_store() -> ObjectStore:
    """The template previews: public catalog pictures."""
    return _store(PREVIEW_FOLDER, PREVIEW_KEYS)
