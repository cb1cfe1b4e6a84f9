"""Short-lived links to one image that work without a token (the `/v1` API's `url`s).

A link names the image, when it expires and an HMAC of both under a key the database
holds (`app_secret`, made by its migration), so every process can check any link. It
grants reading that one image until it expires, nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from studio_app.models import AppSecret
from studio_app.services.db import read_session

LINK_SIGNING = "link-signing"
LINK_LIFETIME_S = 600


def _key() -> bytes:
    with read_session() as db:
        secret = db.get(AppSecret, LINK_SIGNING)
    if secret is None:
        raise RuntimeError("the link-signing key is missing: run the migrations")
    return bytes.fromhex(secret.value)


def _signature(public_id: str, expires: int) -> str:
    message = f"{public_id}\n{expires}".encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def sign(public_id: str, *, now: float | None = None) -> tuple[int, str]:
    """(expires, signature) for a link to the image `public_id`."""
    expires = int((now if now is not None else time.time()) + LINK_LIFETIME_S)
    return expires, _signature(public_id, expires)


def is_valid(public_id: str, expires: int, signature: str, *, now: float | None = None) -> bool:
    if expires < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(_signature(public_id, expires), signature)
