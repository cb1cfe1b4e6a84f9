"""State of the Buy Credits page: the packs, the purchase in progress and the statement."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import reflex as rx

from studio_app.routes import LOGIN
from studio_app.services import payments
from studio_app.services.auth import CurrentUser
from studio_app.services.errors import StudioError
from studio_app.services.statement import StatementRow, statement
from studio_app.states.auth import AuthState
from studio_app.tiers import tiers


@dataclass
class PackView:
    credits: int = 0
    rupees: int = 0
    per_credit_note: str = ""
    images_note: str = ""


def _pack_view(pack: payments.CreditPack) -> PackView:
    cheapest, dearest = tiers()[0], tiers()[-1]
    return PackView(
        credits=pack.credits,
        rupees=pack.rupees,
        per_credit_note=f"₹{pack.rupees_per_credit} per credit",
        images_note=(
            f"{pack.credits // cheapest.credits} {cheapest.label.lower()} or "
            f"{pack.credits // dearest.credits} {dearest.label.lower()} images"
        ),
    )


class CreditsState(AuthState):
    packs: list[PackView] = []
    can_buy: rx.Field[bool] = rx.field(False)
    test_mode: bool = False
    # One key per purchase intent: both clicks of a double click send this same key.
    purchase_key: str = ""
    # The pack being bought right now (0: none).
    buying: int = 0
    statement_rows: rx.Field[list[StatementRow]] = rx.field(default_factory=list)
    loaded: bool = False
    # The last key this tab completed: a duplicate click with it gets no second toast.
    _completed_key: str = ""

    def _load_statement(self, viewer: CurrentUser) -> None:
        self.statement_rows = statement(viewer.id)

    @rx.event
    def load(self) -> None:
        viewer = self._viewer()
        if viewer is None:
            return
        gateway = payments.active_gateway()
        self.packs = [_pack_view(pack) for pack in payments.credit_packs()]
        self.can_buy = gateway is not None
        self.test_mode = gateway is not None and gateway.is_test_mode
        self.purchase_key = payments.new_purchase_key()
        self.buying = 0
        self._load_statement(viewer)
        self.loaded = True

    @rx.event
    async def buy(
        self, credits: int, purchase_key: str
    ) -> AsyncIterator[rx.event.EventSpec | None]:
        viewer = self._viewer()
        if viewer is None:
            yield rx.redirect(LOGIN)
            return
        self.buying = credits if isinstance(credits, int) else 0
        yield
        try:
            # A real gateway is a network call: keep the event loop free meanwhile.
            outcome = await asyncio.to_thread(payments.buy_pack, viewer.id, credits, purchase_key)
        except StudioError as error:
            self.buying = 0
            yield rx.toast.error(error.message)
            return
        self.buying = 0
        if outcome.redirect_url:
            yield rx.redirect(outcome.redirect_url, is_external=True)
            return
        duplicate_click = not outcome.newly_credited and purchase_key == self._completed_key
        self._completed_key = purchase_key
        self.purchase_key = payments.new_purchase_key()
        self._refresh_credits(viewer)
        self._load_statement(viewer)
        if outcome.newly_credited:
            yield rx.toast.success(
                f"{outcome.credits} credits added for ₹{outcome.amount_rupees}. "
                f"You now have {self.credits_available} credits."
            )
        elif not duplicate_click:
            yield rx.toast.info("That purchase had already gone through; it was counted once.")
