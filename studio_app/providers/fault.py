"""A provider that fails on purpose — registered only when tests enable it.

The prompt steers it: `#fail=<error code>` raises that error of the taxonomy,
`#started=1` marks that error as one the provider may have begun (so it is never
resubmitted), `#delay=<seconds>` waits first, `#fail_times=<n>` fails only the
first n calls for that prompt (to exercise retries), `#fail_image=<k>` fails only the
k-th image (from 0) of a request for several, `#return=garbage` answers
with bytes that are not an image, `#return=small` with an image half the tier's
size. Without directives it draws like the offline provider. Its model is
`fault-1`; any other model id is one that "has gone" (ModelUnavailable).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import replace

from studio_app.providers.base import (
    ERROR_CLASSES,
    ImageRequest,
    ModelUnavailable,
    ProviderImage,
)
from studio_app.providers.offline import OfflineProvider
from studio_app.settings import Settings

_DIRECTIVE = re.compile(r"#(fail|delay|fail_times|fail_image|return|started)=([\w.]+)")
MODEL = "fault-1"


class FaultProvider:
    name = "fault"
    label = "Fault injector (tests)"
    model = MODEL
    known_models = (MODEL, "fault-2")

    def __init__(self, settings: Settings | None = None) -> None:
        self._offline = OfflineProvider()
        self.calls: Counter[str] = Counter()

    supports_negative_prompt = False
    supports_seed = False

    def is_configured(self) -> bool:
        return True

    def unavailable_tiers(self, model: str = "") -> dict[str, str]:
        return {}

    def edit_unavailable(self, model: str = "") -> str:
        return ""

    async def check_model(self, model: str) -> None:
        if model not in self.known_models:
            raise ModelUnavailable(f"HTTP 404 model {model} not found")

    async def generate(self, request: ImageRequest) -> ProviderImage:
        model = request.model or self.model
        if model not in self.known_models:
            raise ModelUnavailable(f"HTTP 404 The model {model} has been shut down")
        directives = dict(_DIRECTIVE.findall(request.prompt))
        self.calls[request.prompt] += 1
        if "delay" in directives:
            await asyncio.sleep(float(directives["delay"]))
        code = directives.get("fail")
        if "fail_image" in directives and int(directives["fail_image"]) != request.variant:
            code = None
        if code:
            fail_times = int(directives.get("fail_times", "0"))
            if not fail_times or self.calls[request.prompt] <= fail_times:
                error_class = ERROR_CLASSES[code]
                raise error_class(
                    f"injected {code}",
                    retry_after=0.01,
                    may_have_started=directives.get("started") == "1",
                )
        if directives.get("return") == "garbage":
            return ProviderImage(data=b"<html>not an image</html>", width=1, height=1, model=model)
        if directives.get("return") == "small":
            tier = request.tier
            request = replace(
                request, tier=replace(tier, width=tier.width // 2, height=tier.height // 2)
            )
        image = await self._offline.generate(request)
        return ProviderImage(data=image.data, width=image.width, height=image.height, model=model)
