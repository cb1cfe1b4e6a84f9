"""A provider that fails on purpose — registered only when tests enable it.

The prompt steers it: `#fail=<error code>` raises that error of the taxonomy,
`#delay=<seconds>` waits first, `#fail_times=<n>` fails only the first n calls
for that prompt (to exercise retries), `#return=garbage` answers with bytes that
are not an image. Without directives it draws like the offline provider.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter

from studio_app.providers.base import ERROR_CLASSES, ImageRequest, ProviderImage
from studio_app.providers.offline import OfflineProvider
from studio_app.settings import Settings

_DIRECTIVE = re.compile(r"#(fail|delay|fail_times|return)=([\w.]+)")


class FaultProvider:
    name = "fault"
    label = "Fault injector (tests)"
    model = "fault-1"

    def __init__(self, settings: Settings | None = None) -> None:
        self._offline = OfflineProvider()
        self.calls: Counter[str] = Counter()

    supports_negative_prompt = False
    supports_seed = False

    def is_configured(self) -> bool:
        return True

    def unavailable_tiers(self) -> dict[str, str]:
        return {}

    async def generate(self, request: ImageRequest) -> ProviderImage:
        directives = dict(_DIRECTIVE.findall(request.prompt))
        self.calls[request.prompt] += 1
        if "delay" in directives:
            await asyncio.sleep(float(directives["delay"]))
        code = directives.get("fail")
        if code:
            fail_times = int(directives.get("fail_times", "0"))
            if not fail_times or self.calls[request.prompt] <= fail_times:
                error_class = ERROR_CLASSES[code]
                raise error_class(f"injected {code}", retry_after=0.01)
        if directives.get("return") == "garbage":
            return ProviderImage(
                data=b"<html>not an image</html>", width=1, height=1, model=self.model
            )
        image = await self._offline.generate(request)
        return ProviderImage(
            data=image.data, width=image.width, height=image.height, model=self.model
        )
