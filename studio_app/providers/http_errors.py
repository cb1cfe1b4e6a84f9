"""Turn a provider's HTTP answer into our error taxonomy (shared by the adapters)."""

from __future__ import annotations

import email.utils
import re
import time

from studio_app.providers.base import (
    AuthFailed,
    BadRequest,
    ModelUnavailable,
    ProviderError,
    QuotaExhausted,
    RateLimited,
    SafetyRefused,
    Unavailable,
)

# Words providers use when a 429 (or 403) means "out of money", not "slow down".
_QUOTA_WORDS = ("insufficient_quota", "billing", "quota", "credit", "payment", "plan")
_SAFETY_WORDS = ("moderation", "content_policy", "safety", "nsfw", "blocked")
# "Please try again in 1.5s" / "in 20ms" (OpenAI's rate-limit messages).
_TRY_AGAIN_IN = re.compile(r"try again in (\d+(?:\.\d+)?)\s*(ms|s)\b", re.IGNORECASE)
# Statuses at which the provider cannot have begun the work: it refused at the door.
# Any other 5xx (500, 502, 504) may have come after the model started (and billed).
_NOT_STARTED_STATUSES = (429, 503)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def retry_after_in_message(message: str) -> float | None:
    """Seconds from a "try again in 1.5s" / "in 250ms" sentence, or None."""
    found = _TRY_AGAIN_IN.search(message)
    if found is None:
        return None
    amount = float(found.group(1))
    return amount / 1000 if found.group(2).lower() == "ms" else amount


def error_for_status(
    status: int,
    *,
    code: str = "",
    message: str = "",
    retry_after: str | None = None,
) -> ProviderError:
    """The taxonomy error for an HTTP status plus the provider's own error code/message."""
    detail = f"HTTP {status} {code} {message}".strip()
    text = f"{code} {message}".lower()
    if status in (401, 403) and not any(word in text for word in _QUOTA_WORDS):
        return AuthFailed(detail)
    if status == 402 or (status in (403, 429) and any(word in text for word in _QUOTA_WORDS[:3])):
        return QuotaExhausted(detail)
    if status == 429:
        wait = parse_retry_after(retry_after)
        return RateLimited(
            detail, retry_after=wait if wait is not None else retry_after_in_message(message)
        )
    if status in (400, 422) and any(word in text for word in _SAFETY_WORDS):
        return SafetyRefused(detail)
    if status in (404, 410):
        # The endpoints are fixed: what is not found (or gone) is the model.
        return ModelUnavailable(detail)
    if status == 408 or status >= 500:
        return Unavailable(
            detail,
            retry_after=parse_retry_after(retry_after),
            may_have_started=status not in _NOT_STARTED_STATUSES,
        )
    return BadRequest(detail)
