"""State of the admin tab's Providers section: each provider's switch and model.

Thin over services.provider_switches / provider_models, which check the admin role
themselves; every handler also starts with `self._admin()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import reflex as rx

from studio_app.services import provider_models, provider_switches
from studio_app.services.admin_guard import ADMINS_ONLY
from studio_app.services.auth import CurrentUser
from studio_app.services.errors import StudioError
from studio_app.states.auth import AuthState


@dataclass
class ProviderRow:
    name: str = ""
    label: str = ""
    model: str = ""
    # Where the model comes from, in words: an admin's choice or the server's setting.
    model_source: str = ""
    known_models: list[str] = field(default_factory=list)
    configured: bool = False
    enabled: bool = True
    # The provider said its model is gone: when, and in its words ("" when not).
    gone_when: str = ""
    gone_detail: str = ""


def _row(status: provider_models.ModelStatus) -> ProviderRow:
    if status.chosen_by_admin:
        source = f"chosen by an admin (server setting: {status.server_model})"
    else:
        source = "the server's setting"
    return ProviderRow(
        name=status.provider,
        label=status.label,
        model=status.model,
        model_source=source,
        known_models=list(status.known_models),
        configured=status.configured,
        enabled=status.enabled,
        gone_when=status.gone_since,
        gone_detail=status.gone_detail,
    )


class AdminProvidersState(AuthState):
    providers: list[ProviderRow] = []
    # The provider whose model is being checked with it right now ("" when none).
    checking: str = ""

    def _load(self, admin: CurrentUser) -> None:
        self.providers = [_row(s) for s in provider_switches.list_switches(admin)]

    def _label(self, name: str) -> str:
        return next((p.label for p in self.providers if p.name == name), name)

    @rx.event
    def load(self) -> None:
        admin = self._admin()
        if admin is not None:
            self._load(admin)

    @rx.event
    def set_provider_enabled(self, name: str, enabled: bool) -> rx.event.EventSpec:
        admin = self._admin()
        if admin is None:
            return rx.toast.error(ADMINS_ONLY)
        try:
            provider_switches.set_enabled(admin, name, enabled)
        except StudioError as error:
            return rx.toast.error(error.message)
        self._load(admin)
        state = "on" if enabled else "off for everyone"
        return rx.toast.success(f"{self._label(name)} is switched {state}.")

    @rx.event
    async def choose_model(self, form: dict[str, str]) -> AsyncIterator[rx.event.EventSpec | None]:
        admin = self._admin()
        if admin is None:
            yield rx.toast.error(ADMINS_ONLY)
            return
        name = form.get("provider", "")
        self.checking = name
        yield
        try:
            changed = await provider_models.choose_model(admin, name, form.get("model", ""))
        except StudioError as error:
            yield rx.toast.error(error.message)
            return
        finally:
            self.checking = ""
        self._load(admin)
        model = next((p.model for p in self.providers if p.name == name), "")
        if changed:
            yield rx.toast.success(f"{self._label(name)} now uses {model}.")
        else:
            yield rx.toast.info(f"{self._label(name)} already uses {model}.")
