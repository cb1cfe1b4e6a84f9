"""The size tiers as the services check them (the table itself is studio_app/tiers.py)."""

from __future__ import annotations

from studio_app.services.errors import InvalidInput
from studio_app.tiers import TIER_IDS, Tier, find_tier


def get_tier(tier_id: object, *, field: str = "tier") -> Tier:
    """The tier called `tier_id`, or InvalidInput naming the valid ones (and `field`)."""
    tier = find_tier(tier_id) if isinstance(tier_id, str) else None
    if tier is None:
        valid = ", ".join(TIER_IDS)
        raise InvalidInput(f"Unknown size tier {tier_id!r}; choose one of {valid}.", field=field)
    return tier
