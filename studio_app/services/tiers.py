"""The size tiers: one table used by pricing, the providers and the UI."""

from __future__ import annotations

from dataclasses import dataclass

from studio_app.services.errors import InvalidInput
from studio_app.settings import get_settings


@dataclass(frozen=True)
class Tier:
    id: str
    label: str
    aspect_ratio: str
    width: int
    height: int

    @property
    def credits(self) -> int:
        settings = get_settings()
        return {
            "standard": settings.price_standard,
            "premium": settings.price_premium,
            "premium-wide": settings.price_premium_wide,
        }[self.id]

    @property
    def rupees(self) -> int:
        return self.credits * get_settings().rupees_per_credit

    @property
    def size_label(self) -> str:
        return f"{self.width}×{self.height}"


TIERS: tuple[Tier, ...] = (
    Tier("standard", "Standard", "1:1", 1024, 1024),
    Tier("premium", "Premium", "3:2", 1536, 1024),
    Tier("premium-wide", "Premium wide", "16:9", 1792, 1008),
)
_BY_ID = {tier.id: tier for tier in TIERS}


def get_tier(tier_id: str, *, field: str = "tier") -> Tier:
    """The tier called `tier_id`, or InvalidInput naming the valid ones (and `field`)."""
    tier = _BY_ID.get(tier_id) if isinstance(tier_id, str) else None
    if tier is None:
        valid = ", ".join(_BY_ID)
        raise InvalidInput(f"Unknown size tier {tier_id!r}; choose one of {valid}.", field=field)
    return tier


def rupees_for(credits: int) -> int:
    return credits * get_settings().rupees_per_credit
