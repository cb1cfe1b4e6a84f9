"""One retry policy for every call to a provider: image generation and chat alike.

Retried: only what the provider cannot have started — a connection refused, a 429,
a 503 — a bounded number of times, waiting what the provider asked for. Never
retried: a timeout after the request went out or a 500/502/504 (the provider may be
drawing, and billing, the first one), and every error that is not transient.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from studio_app.providers.base import ProviderError, Unavailable

log = logging.getLogger(__name__)

_T = TypeVar("_T")

MAX_RETRY_WAIT_S = 30.0


def should_retry(error: ProviderError) -> bool:
    """Whether calling again cannot make the provider do (and bill) the work twice."""
    return error.retryable and not error.may_have_started


def _wait_before(error: ProviderError, attempt: int, max_wait: float) -> float:
    wait = error.retry_after if error.retry_after is not None else float(2 ** (attempt - 1))
    return min(wait, max_wait)


async def call_with_retries(
    what: str,
    call: Callable[[], Awaitable[_T]],
    *,
    timeout: float,
    attempts: int,
    max_wait: float = MAX_RETRY_WAIT_S,
) -> _T:
    """`call()` under `timeout` per attempt, retried by `should_retry` up to `attempts` times.

    A timeout counts as "may have started": the request was sent and not answered.
    Raises the last ProviderError.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await asyncio.wait_for(call(), timeout=timeout)
        except TimeoutError as exc:
            error: ProviderError = Unavailable(
                f"no answer within {timeout:g}s", may_have_started=True
            )
            error.__cause__ = exc
        except ProviderError as exc:
            error = exc
        if not should_retry(error) or attempt == attempts:
            raise error
        wait = _wait_before(error, attempt, max_wait)
        log.info("%s: %s, retry %d in %.1fs", what, error.code, attempt, wait)
        await asyncio.sleep(wait)
    raise AssertionError("unreachable")
