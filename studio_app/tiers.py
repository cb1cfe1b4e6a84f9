"""The size tiers: one table, in code, used by pricing, the providers and the UI.

Ground floor: imports only the settings (the prices are settings), so providers,
services and pages can all use it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from studio_app.settings import Settings, get_settings


@dataclass(frozen=True)
class Tier:
    id: str
    label: str
    aspect_ratio: str
    width: int
    height: int
    # Read from the settings (STUDIO_PRICE_*, STUDIO_RUPEES_PER_CREDIT).
    credits: int
    rupees: int

    @property
    def size_label(self) -> str:
        return f"{self.width}×{self.height}"


# id, label, aspect ratio, width, height (the offline provider's exact size)
_SHAPES = (
    ("standard", "Standard", "1:1", 1024, 1024),
    ("premium", "Premium", "3:2", 1536, 1024),
    ("premium-wide", "Premium wide", "16:9", 1792, 1008),
)
TIER_IDS: tuple[str, ...] = tuple(shape[0] for shape in _SHAPES)
DEFAULT_TIER = TIER_IDS[0]


def tiers() -> tuple[Tier, ...]:
    """Every tier, cheapest first, at this server's prices."""
    return _priced(get_settings())


def find_tier(tier_id: object) -> Tier | None:
    return next((tier for tier in tiers() if tier.id == tier_id), None)


def rupees_for(credits: int, settings: Settings | None = None) -> int:
    """What `credits` cost in rupees (tier prices and credit packs alike)."""
    return credits * (settings or get_settings()).rupees_per_credit


@functools.lru_cache(maxsize=4)
def _priced(settings: Settings) -> tuple[Tier, ...]:
    prices = {
        "standard": settings.price_standard,
        "premium": settings.price_premium,
        "premium-wide": settings.price_premium_wide,
    }
    return tuple(
        Tier(*shape, credits=prices[shape[0]], rupees=rupees_for(prices[shape[0]], settings))
        for shape in _SHAPES
    )
