"""The provider protocol, its request/response types and the shared error taxonomy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol

from studio_app.tiers import Tier

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True)
class SourcePicture:
    """The picture an edit starts from, already fitted to the tier: `width`×`height` are
    the tier's, the picture cropped from its centre to the tier's aspect and scaled
    (services/edit_sources.py). `data` is PNG."""

    data: bytes
    width: int
    height: int
    mime_type: str = "image/png"
    # The decoded picture `data` encodes (the offline provider draws on a copy of it).
    picture: Image.Image | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class ImageRequest:
    prompt: str
    tier: Tier
    category_slug: str = ""
    negative_prompt: str | None = None
    seed: int | None = None
    # The model to ask for; "" means the provider's configured one (`ImageProvider.model`).
    # The generation path passes the admin's choice (services/provider_models.py).
    model: str = ""
    # Which of a request's several images this is (0 for the first): images of one
    # request differ (services/provider_batch.py).
    variant: int = 0
    # Set for an edit: the picture to change as `prompt` says (`ImageProvider.edit_unavailable`).
    source: SourcePicture | None = field(default=None, repr=False)


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


Messages = list[dict[str, str]]
"""A chat: a system turn and a user turn, each {"role": ..., "content": ...}."""


class ImageProvider(Protocol):
    name: str
    label: str
    # The configured model (environment setting, else the default); an admin's choice
    # in the database wins over it (services/provider_models.py).
    model: str
    # Model ids an admin can pick from on the Providers tab, current ones first.
    known_models: tuple[str, ...]
    # Whether `ImageRequest.negative_prompt` / `.seed` reach the model ("Advanced" in the UI).
    supports_negative_prompt: bool
    supports_seed: bool

    def is_configured(self) -> bool: ...

    def unavailable_tiers(self, model: str = "") -> dict[str, str]:
        """Tier id → why this provider cannot produce it with `model` ("" = `self.model`)."""
        ...

    def edit_unavailable(self, model: str = "") -> str:
        """Why this provider cannot edit a picture with `model` ("" = `self.model`); "" when
        it can: `generate` then honours `ImageRequest.source`."""
        ...

    async def check_model(self, model: str) -> None:
        """A cheap call proving `model` exists here: ModelUnavailable when it does not.

        Other ProviderErrors when the provider cannot tell (key rejected, down). Providers
        without such a call return without checking.
        """
        ...

    async def generate(self, request: ImageRequest) -> ProviderImage: ...


class ChatProvider(Protocol):
    """A provider that can also answer a chat (prompt enhancement, services/enhance.py)."""

    name: str
    label: str
    chat_model: str

    def is_configured(self) -> bool: ...

    async def chat(self, messages: Messages, *, timeout: float) -> str:
        """The model's answer text: one attempt, SDK retries off; our taxonomy on failure."""
        ...


class ProviderError(Exception):
    """Base of the taxonomy. `code` is stable (admin log); `user_message` is for people."""

    code: ClassVar[str] = "unavailable"
    user_message: ClassVar[str] = "The image service is not answering right now. Try again soon."
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        detail: str = "",
        *,
        retry_after: float | None = None,
        may_have_started: bool = False,
    ) -> None:
        super().__init__(detail or self.user_message)
        self.detail = detail
        self.retry_after = retry_after
        # True when the provider may have begun (and will bill) the work: a timeout after
        # the request was sent, a 500 mid-way. Such a call is never resubmitted blindly.
        self.may_have_started = may_have_started


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


class ImageTooSmall(MalformedResponse):
    """Fewer pixels than the tier paid for, or another shape: never stored, never charged."""

    code = "image_too_small"
    user_message = "The provider sent a smaller image than this size promises, so it was not kept."


class NoImage(ProviderError):
    """The model answered but drew nothing (Gemini's NO_IMAGE): not a safety block."""

    code = "no_image"
    user_message = "The model returned no image for this prompt. Try rewording it."


class ModelUnavailable(ProviderError):
    """The configured model has gone (404/410, shut down): an operator problem, not retried.

    The provider is hidden from members until an admin picks another model.
    """

    code = "model_unavailable"
    user_message = "This provider is unavailable right now. Try another provider."


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
        ImageTooSmall,
        NoImage,
        ModelUnavailable,
    )
}
