"""The provider protocol, its request/response types and the shared error taxonomy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol

from studio_app.tiers import Tier

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True)
class ImageRequest:
    prompt: str
    tier: Tier
    category_slug: str = ""
    negative_prompt: str | None = None
    seed: int | None = None


@dataclass(frozen=True)
class ProviderImage:
    """What a provider returns: encoded image bytes and what they really are."""

    data: bytes
    width: int
    height: int
    model: str
    mime_type: str = "image/png"
    # The decoded picture `data` encodes, when the provider drew it itself (offline): the
    # store then need not decode the bytes again. Handed over: the receiver may change it.
    picture: Image.Image | None = field(default=None, repr=False, compare=False)


class ImageProvider(Protocol):
    name: str
    label: str
    model: str
    # Whether `ImageRequest.negative_prompt` / `.seed` reach the model ("Advanced" in the UI).
    supports_negative_prompt: bool
    supports_seed: bool

    def is_configured(self) -> bool: ...

    def unavailable_tiers(self) -> dict[str, str]:
        """Tier id → why this provider cannot produce it."""
        ...

    async def generate(self, request: ImageRequest) -> ProviderImage: ...


class ProviderError(Exception):
    """Base of the taxonomy. `code` is stable (admin log); `user_message` is for people."""

    code: ClassVar[str] = "unavailable"
    user_message: ClassVar[str] = "The image service is not answering right now. Try again soon."
    retryable: ClassVar[bool] = False

    def __init__(self, detail: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(detail or self.user_message)
        self.detail = detail
        self.retry_after = retry_after


class NotConfigured(ProviderError):
    code = "not_configured"
    user_message = "This provider is not set up on this server."


class AuthFailed(ProviderError):
    code = "auth_failed"
    user_message = "The provider rejected this server's API key. An admin needs to fix it."


class QuotaExhausted(ProviderError):
    code = "quota_exhausted"
    user_message = "The provider's quota or billing limit is used up. Try another provider."


class RateLimited(ProviderError):
    code = "rate_limited"
    user_message = "The provider is busy with too many requests. Try again in a minute."
    retryable = True


class Unavailable(ProviderError):
    code = "unavailable"
    user_message = "The image service is not answering right now. Try again soon."
    retryable = True


class SafetyRefused(ProviderError):
    code = "safety_refused"
    user_message = "The provider's safety filter refused this prompt. Try rewording it."


class BadRequest(ProviderError):
    code = "bad_request"
    user_message = "The provider could not accept this request. Try a different prompt or size."


class MalformedResponse(ProviderError):
    code = "malformed_response"
    user_message = "The provider sent back something that is not a usable image."


ERROR_CLASSES: dict[str, type[ProviderError]] = {
    cls.code: cls
    for cls in (
        NotConfigured,
        AuthFailed,
        QuotaExhausted,
        RateLimited,
        Unavailable,
        SafetyRefused,
        BadRequest,
        MalformedResponse,
    )
}
