"""The Reflex app: pages, the private image routes and the housekeeping task."""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from studio_app.api.app import build_api
from studio_app.pages.catalog import catalog_page
from studio_app.pages.signin import login_page, signup_page
from studio_app.pages.studio import studio_page
from studio_app.services import auth, reconcile
from studio_app.states.auth import AuthState
from studio_app.states.catalog import CatalogState
from studio_app.states.signin import SigninState
from studio_app.states.studio import StudioState

log = logging.getLogger(__name__)
HOUSEKEEPING_INTERVAL_S = 60


async def housekeeping() -> None:
    """At start-up and then every minute: release expired holds, repair after crashes."""
    while True:
        try:
            await asyncio.to_thread(reconcile.reconcile)
            await asyncio.to_thread(auth.purge_stale_records)
        except Exception:
            log.exception("housekeeping failed; trying again later")
        await asyncio.sleep(HOUSEKEEPING_INTERVAL_S)


app = rx.App(api_transformer=build_api(), toaster=rx.toast.provider(position="bottom-right"))
app.register_lifespan_task(housekeeping)
app.add_page(
    studio_page,
    route="/",
    title="Studio",
    on_load=[AuthState.require_user, StudioState.load_studio],
)
app.add_page(login_page, route="/login", title="Sign in — Studio", on_load=SigninState.open_form)
app.add_page(
    signup_page, route="/signup", title="Create account — Studio", on_load=SigninState.open_form
)
app.add_page(
    catalog_page,
    route="/templates",
    title="Templates — Studio",
    on_load=CatalogState.load_catalog,
)
