"""Run the whole generation path from a test and look at what it left."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from studio_app.models import GeneratedImage
from studio_app.services import generation, ledger
from studio_app.services.db import read_session
from studio_app.services.generation import GenerationRequest
from studio_app.settings import reload_settings
from tests import aio
from tests.fakes.server import FakeServer


def run_generation(user_id: int, *, provider: str, prompt: str, tier: str = "premium") -> str:
    """Start and run one generation to its end; returns the final status."""
    ticket = generation.start(
        user_id, GenerationRequest(prompt=prompt, provider=provider, tier=tier)
    )
    return aio.run(generation.run(ticket))


def last_generation() -> GeneratedImage:
    with read_session() as db:
        return db.exec(select(GeneratedImage).order_by(col(GeneratedImage.id).desc())).first()


def credit_summary(user_id: int) -> ledger.CreditSummary:
    with read_session() as db:
        return ledger.summary(db, user_id)


def use_replicate_at(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The studio's Replicate provider configured against `fake` (polled quickly)."""
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_StudioTestToken0123456789abcdef")
    monkeypatch.setenv("REPLICATE_BASE_URL", fake.url)
    monkeypatch.setenv("REPLICATE_POLL_INTERVAL", "0.05")
    reload_settings()
