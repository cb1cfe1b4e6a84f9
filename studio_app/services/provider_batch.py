"""Several images for one request: the provider's own batch where it has one, else one
call per image, side by side.

Each image's outcome is its own: 3 of 4 delivered is 3 images and one error, and the
generation path charges for the 3 alone.
"""

from __future__ import annotations

import asyncio
from typing import Protocol, runtime_checkable

from studio_app.providers.base import (
    ImageProvider,
    ImageRequest,
    NoImage,
    ProviderError,
    ProviderImage,
)
from studio_app.services import provider_calls

Outcome = ProviderImage | ProviderError


@runtime_checkable
class BatchProvider(Protocol):
    """A provider whose API makes several images in one call (OpenAI's `n`)."""

    def batch_size(self, model: str) -> int:
        """How many images one call can return with `model` (1: no batch)."""
        ...

    async def generate_batch(self, request: ImageRequest, count: int) -> list[ProviderImage]:
        """Up to `count` images of `request` from one call (fewer when the provider
        drew fewer)."""
        ...


async def make_images(
    provider: ImageProvider, requests: list[ImageRequest], *, timeout: float, attempts: int
) -> list[Outcome]:
    """An outcome per request, in order; every provider call under `timeout` and the shared
    retry policy (provider_calls.py)."""
    what = f"provider {provider.name}"
    count = len(requests)
    model = requests[0].model or provider.model
    # A seeded request is one call per image: each image's seed (seed, seed + 1, …) is
    # what makes it, so that it can be made again alone.
    seeded = requests[0].seed is not None
    # An edit is one call per image: the batch calls make pictures from text alone.
    editing = requests[0].source is not None
    batch = isinstance(provider, BatchProvider) and provider.batch_size(model) >= count
    if count > 1 and batch and not seeded and not editing:
        batcher = provider
        assert isinstance(batcher, BatchProvider)
        try:
            made = await provider_calls.call_with_retries(
                what,
                lambda: batcher.generate_batch(requests[0], count),
                timeout=timeout,
                attempts=attempts,
            )
        except ProviderError as error:
            return [error] * count
        images: list[Outcome] = list(made[:count])
        missing = count - len(images)
        return (
            images + [NoImage(f"{provider.label} returned {len(made)} of {count} images")] * missing
        )

    async def one(request: ImageRequest) -> Outcome:
        try:
            return await provider_calls.call_with_retries(
                what, lambda: provider.generate(request), timeout=timeout, attempts=attempts
            )
        except ProviderError as error:
            return error

    return list(await asyncio.gather(*(one(request) for request in requests)))
