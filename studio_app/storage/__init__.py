"""Where image bytes live: behind keys, bytes and streams, never local paths.

Two stores, kept apart: the private images (originals and thumbnails, served only to
their owner through our own route) and the public template previews. Both speak
`ObjectStore` (store.py); local disk under STUDIO_IMAGES_DIR (local.py) is the embedded
default, and an S3-compatible bucket is the scaled one behind the same protocol.
"""

from __future__ import annotations

from studio_app.settings import get_settings
from studio_app.storage.keys import IMAGE_KEYS, PREVIEW_KEYS
from studio_app.storage.local import LocalDiskStore
from studio_app.storage.store import ObjectStore, StorageError, StoredObject

__all__ = ["ObjectStore", "StorageError", "StoredObject", "image_store", "preview_store"]

# The previews' folder below the images folder: the images store never lists it (its
# keys are date paths), and a preview key cannot name a private image.
PREVIEW_FOLDER = "template-previews"


def image_store() -> ObjectStore:
    """The private images: originals and their thumbnails."""
    return LocalDiskStore(get_settings().images_dir, IMAGE_KEYS)


def preview_store() -> ObjectStore:
    """The template previews: public catalog pictures."""
    return LocalDiskStore(get_settings().images_dir / PREVIEW_FOLDER, PREVIEW_KEYS)
