"""What each provider can do here — and, live, what one real call really returns."""

from __future__ import annotations

import asyncio
import io
import time
from dataclasses import dataclass, replace

from PIL import Image, UnidentifiedImageError

from studio_app.providers.base import ImageRequest, ModelUnavailable, ProviderError
from studio_app.providers.registry import all_providers
from studio_app.services import provider_models
from studio_app.services.tiers import get_tier
from studio_app.settings import get_settings

LIVE_PROMPT = "A small red apple on a white table, soft daylight"
_VERDICTS = {
    "auth_failed": "key rejected",
    "quota_exhausted": "quota or billing exhausted",
    "rate_limited": "rate limited",
    "unavailable": "unreachable or down",
    "safety_refused": "refused by its safety filter",
    "bad_request": "request refused",
    "malformed_response": "answered, but not with an image",
    "not_configured": "not configured",
    "model_unavailable": "model gone",
    "no_image": "answered without an image",
    "image_too_small": "answered with a smaller image than asked",
}


@dataclass(frozen=True)
class ProviderStatus:
    name: str
    label: str
    model: str
    configured: bool
    unavailable_tiers: dict[str, str]
    # The provider said `model` is gone: since when and in its words ("" when not).
    gone: str = ""
    # Live check only: "works" or a verdict, and what came back.
    verdict: str = ""
    detail: str = ""

    @property
    def works(self) -> bool:
        return self.verdict == "works"


def describe() -> list[ProviderStatus]:
    """Each provider's model (the admin's choice, else the server's) and what it can do."""
    providers = all_providers()
    return [
        ProviderStatus(
            s.provider,
            s.label,
            s.model,
            s.configured,
            providers[s.provider].unavailable_tiers(s.model),
            gone=_gone_text(s),
        )
        for s in provider_models.model_statuses()
        if s.provider != "fault"
    ]


def _gone_text(status: provider_models.ModelStatus) -> str:
    return f"since {status.gone_since}: {status.gone_detail}" if status.gone else ""


async def _live(status: ProviderStatus) -> ProviderStatus:
    if not status.configured:
        return status
    provider = all_providers()[status.name]
    request = ImageRequest(prompt=LIVE_PROMPT, tier=get_tier("standard"), model=status.model)
    started = time.monotonic()
    timeout = get_settings().provider_timeout_seconds
    try:
        image = await asyncio.wait_for(provider.generate(request), timeout=timeout)
    except TimeoutError:
        return _with(status, "unreachable or down", f"no answer within {timeout} s")
    except ProviderError as error:
        if isinstance(error, ModelUnavailable):
            # As a generation would: members stop seeing it until an admin picks another.
            await asyncio.to_thread(
                provider_models.record_model_gone, provider, status.model, error.detail
            )
        return _with(status, _VERDICTS.get(error.code, error.code), error.detail or str(error))
    elapsed = time.monotonic() - started
    try:
        with Image.open(io.BytesIO(image.data)) as decoded:
            decoded.load()
            shape = f"{decoded.format} {decoded.width}×{decoded.height}"
    except (UnidentifiedImageError, OSError) as exc:
        return _with(status, "answered, but not with an image", str(exc))
    size_kb = len(image.data) // 1024
    return _with(status, "works", f"{shape}, {size_kb} KB in {elapsed:.1f} s ({image.model})")


def _with(status: ProviderStatus, verdict: str, detail: str) -> ProviderStatus:
    return replace(status, verdict=verdict, detail=detail)


async def check_live() -> list[ProviderStatus]:
    return list(await asyncio.gather(*(_live(status) for status in describe())))
