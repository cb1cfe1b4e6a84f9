"""Which model each provider uses, and what happens when a provider says its model is gone.

Precedence: the admin's choice (ProviderSetting.model) → the environment setting →
the default (both are `provider.model`, from studio_app/settings.py). An admin's choice
takes effect at once in every process: it is read from the database per request.

A 404/410 for the model (`ModelUnavailable`) is recorded on the provider's row; while
the model that failed is still the provider's model, members do not see the provider and
the admin Providers tab shows the model id, the time and the provider's words. Picking a
model (another one, or the same one after it passes the check again) clears it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from studio_app.clock import utcnow
from studio_app.models import ProviderSetting
from studio_app.providers import registry
from studio_app.providers.base import ImageProvider, ModelUnavailable, ProviderError
from studio_app.services import audit
from studio_app.services.admin_guard import require_admin
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput

log = logging.getLogger(__name__)

MAX_MODEL_CHARS = 120
_MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]*")
CHECK_TIMEOUT_S = 20.0
MODEL_GONE_REASON = "unavailable"  # "<label> is unavailable for now."


def effective_model(provider: ImageProvider, setting: ProviderSetting | None) -> str:
    return (setting.model if setting is not None else "") or provider.model


def gone_model(provider: ImageProvider, setting: ProviderSetting | None) -> str:
    """The provider's model when the provider said it is gone, else ""."""
    if setting is None or not setting.failed_model:
        return ""
    return (
        setting.failed_model if setting.failed_model == effective_model(provider, setting) else ""
    )


def settings_by_name(db: Session) -> dict[str, ProviderSetting]:
    return {setting.name: setting for setting in db.exec(select(ProviderSetting)).all()}


@dataclass(frozen=True)
class ModelStatus:
    """One provider's model as the admin Providers tab and the CLI show it."""

    provider: str
    label: str
    model: str
    chosen_by_admin: bool
    server_model: str
    known_models: tuple[str, ...]
    configured: bool
    enabled: bool
    gone_at: datetime | None = None
    gone_detail: str = ""

    @property
    def gone(self) -> bool:
        return self.gone_at is not None

    @property
    def gone_since(self) -> str:
        """When the provider said the model went, for people ("" when it has not)."""
        return f"{self.gone_at:%d %b %Y, %H:%M} UTC" if self.gone_at else ""


def _status(provider: ImageProvider, setting: ProviderSetting | None) -> ModelStatus:
    gone = bool(gone_model(provider, setting))
    return ModelStatus(
        provider=provider.name,
        label=provider.label,
        model=effective_model(provider, setting),
        chosen_by_admin=bool(setting is not None and setting.model),
        server_model=provider.model,
        known_models=provider.known_models,
        configured=provider.is_configured(),
        enabled=setting is None or setting.enabled,
        gone_at=setting.failed_at if gone and setting is not None else None,
        gone_detail=setting.failure_detail if gone and setting is not None else "",
    )


def model_statuses() -> list[ModelStatus]:
    """Every provider's model (admins and the CLI; no caller check: it holds nothing private)."""
    with read_session() as db:
        settings = settings_by_name(db)
    return [_status(p, settings.get(p.name)) for p in registry.all_providers().values()]


def _clean_model_id(model: object) -> str:
    text = model.strip() if isinstance(model, str) else ""
    if not text:
        raise InvalidInput("Choose or type a model id.", field="model")
    if len(text) > MAX_MODEL_CHARS:
        raise InvalidInput(f"A model id has at most {MAX_MODEL_CHARS} characters.", field="model")
    if not _MODEL_ID.fullmatch(text):
        raise InvalidInput(
            "A model id has letters, digits and . _ - : / @ + only, like gpt-image-2.",
            field="model",
        )
    return text


async def _check_exists(provider: ImageProvider, model: str) -> None:
    """The provider's cheap call; a model it cannot confirm is refused with its words."""
    try:
        await asyncio.wait_for(provider.check_model(model), timeout=CHECK_TIMEOUT_S)
    except ModelUnavailable as exc:
        raise InvalidInput(
            f"{provider.label} does not offer {model}: {exc.detail or exc.user_message}",
            field="model",
        ) from exc
    except ProviderError as exc:
        raise InvalidInput(
            f"Could not check {model} with {provider.label}: {exc.user_message}",
            field="model",
        ) from exc
    except TimeoutError as exc:
        raise InvalidInput(
            f"{provider.label} did not answer within {CHECK_TIMEOUT_S:g} s. Try again.",
            field="model",
        ) from exc


async def choose_model(actor: CurrentUser, name: object, model: object) -> bool:
    """The admin picks `name`'s model. Returns whether anything changed.

    Checked with the provider first when it is configured here (a model it does not
    know is refused, nothing stored). Choosing the server's own model clears the choice.
    """
    admin = require_admin(actor)
    provider = registry.get_provider(name) if isinstance(name, str) else None
    if provider is None:
        raise InvalidInput("Unknown provider.", field="provider")
    model_id = _clean_model_id(model)
    if provider.is_configured():
        await _check_exists(provider, model_id)
    stored = "" if model_id == provider.model else model_id
    return await asyncio.to_thread(_store_choice, admin, provider, stored)


def _store_choice(admin: CurrentUser, provider: ImageProvider, stored: str) -> bool:
    with write_session() as db:
        setting = db.get(ProviderSetting, provider.name)
        before = effective_model(provider, setting)
        was_gone = bool(gone_model(provider, setting))
        if setting is None:
            setting = ProviderSetting(name=provider.name)
        if setting.model == stored and not was_gone:
            return False
        setting.model = stored
        setting.failed_model, setting.failed_at, setting.failure_detail = "", None, ""
        setting.updated_at = utcnow()
        db.add(setting)
        audit.record(
            db,
            admin.id,
            "provider.model",
            f"provider {provider.name}",
            before={"model": before, "gone": was_gone} if was_gone else {"model": before},
            after={"model": effective_model(provider, setting)},
        )
        return True


def record_model_gone(provider: ImageProvider, model: str, detail: str) -> bool:
    """The provider said `model` is gone. Recorded only while it is still the provider's
    model (an admin may have just picked another). Returns whether it was recorded."""
    with write_session() as db:
        setting = db.get(ProviderSetting, provider.name)
        if effective_model(provider, setting) != model:
            return False
        if setting is None:
            setting = ProviderSetting(name=provider.name)
        if setting.failed_model != model:  # the first report: when it went
            log.error("provider %s: model %s is gone: %s", provider.name, model, detail)
            setting.failed_model = model
            setting.failed_at = utcnow()
        setting.failure_detail = (detail or ModelUnavailable.user_message)[:500]
        db.add(setting)
        return True
