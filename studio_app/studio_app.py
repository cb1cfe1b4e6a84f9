"""The Reflex app: pages, the private image routes and the housekeeping task."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import reflex as rx
from reflex.config import get_config
from starlette.types import ASGIApp

from studio_app import routes
from studio_app.api.app import api_transformers
from studio_app.api.cors import ApiCors
from studio_app.clock import utcnow
from studio_app.pages.account import account_page
from studio_app.pages.admin import admin_page
from studio_app.pages.buy_credits import buy_credits_page
from studio_app.pages.catalog import catalog_page
from studio_app.pages.community import community_page, post_page
from studio_app.pages.my_creations import my_creations_page
from studio_app.pages.signin import login_page, signup_page
from studio_app.pages.studio import studio_page
from studio_app.services import auth, community_likes, jobs, reconcile
from studio_app.state_files import keep_state_files_bounded
from studio_app.states.account import AccountState
from studio_app.states.admin import AdminState
from studio_app.states.admin_catalog import AdminCatalogState
from studio_app.states.admin_moderation import ModerationState
from studio_app.states.admin_providers import AdminProvidersState
from studio_app.states.auth import AuthState
from studio_app.states.catalog import CatalogState
from studio_app.states.community import CommunityState, PostPageState
from studio_app.states.creations import CreationsState
from studio_app.states.credits import CreditsState
from studio_app.states.session_guard import SessionBoundStates, session_of_tab
from studio_app.states.signin import SigninState
from studio_app.states.studio import StudioState

log = logging.getLogger(__name__)
HOUSEKEEPING_INTERVAL_S = 60


def _sole_backend_process() -> bool:
    """Without Redis, Reflex runs the backend as one process (with Redis, one per worker)."""
    return not get_config().redis_url


async def housekeeping() -> None:
    """At start-up and then every minute: release expired holds, repair after crashes;
    the image store is listed against the rows at start-up and once a day.

    A sole backend process knows that every job older than itself was interrupted (the
    server was killed or restarted): those are repaired on the first pass, not after the
    hold expiry. With several workers one cannot tell another's live job from a dead one.
    """
    started = utcnow() if _sole_backend_process() else None
    at_start_up = started is not None
    while True:
        try:
            await asyncio.to_thread(
                reconcile.reconcile, interrupted_before=started, scan_store=False
            )
        except Exception:
            log.exception("repairing holds and generations failed; trying again later")
        try:
            if await asyncio.to_thread(reconcile.store_scan_due, at_start_up=at_start_up):
                await _scan_store(started)
            at_start_up = False
        except Exception:
            log.exception("checking whether the store scan is due failed; trying again later")
        try:
            await asyncio.to_thread(auth.purge_stale_records)
        except Exception:
            log.exception("purging stale sign-in records failed; trying again later")
        try:
            await asyncio.to_thread(community_likes.refresh_week_counts_if_due)
        except Exception:
            log.exception("counting this week's likes failed; trying again later")
        await asyncio.sleep(HOUSEKEEPING_INTERVAL_S)


async def _scan_store(started: datetime | None) -> None:
    try:
        await asyncio.to_thread(reconcile.scan_store, interrupted_before=started)
    except Exception:
        log.exception("the store scan failed; it runs again on the next pass")
        await asyncio.to_thread(reconcile.store_scan_failed)


async def follow_job_announcements() -> None:
    """Scaled mode: wake this process's waiters when a job worker announces a job's end."""
    await jobs.follow_announcements()


class StudioApp(rx.App):
    """Reflex's app with our outermost ASGI layer: the REST API's CORS rules must sit in
    front of Reflex's own CORS middleware, which only knows one set of origins."""

    def __call__(self) -> ASGIApp:
        return ApiCors(super().__call__())


app = StudioApp(
    api_transformer=api_transformers(session_of_tab),
    toaster=rx.toast.provider(position="bottom-right"),
    # Sign-in, sign-up and sign-out post over HTTP so the server sets the cookie.
    head_components=[rx.el.script(src="/studio_session.js", defer=True)],
)
app.register_lifespan_task(housekeeping)
app.register_lifespan_task(keep_state_files_bounded)
app.register_lifespan_task(follow_job_announcements)
# Before every event, hydrate included: a tab's states belong to one session.
app.add_middleware(SessionBoundStates(), index=0)
app.add_page(
    studio_page,
    route=routes.STUDIO,
    title="Studio",
    on_load=[AuthState.require_user, StudioState.load_studio],
)
app.add_page(
    login_page, route=routes.LOGIN, title="Sign in — Studio", on_load=SigninState.open_form
)
app.add_page(
    signup_page, route=routes.SIGNUP, title="Create account — Studio", on_load=SigninState.open_form
)
app.add_page(
    catalog_page,
    route=routes.TEMPLATES,
    title="Templates — Studio",
    on_load=CatalogState.load_catalog,
)
app.add_page(
    community_page,
    route=routes.COMMUNITY,
    title="Community — Studio",
    on_load=[AuthState.look_up_user, CommunityState.load_feed],
)
app.add_page(
    post_page,
    route=routes.COMMUNITY_POST,
    title="Community — Studio",
    on_load=[AuthState.look_up_user, PostPageState.load_post],
)
app.add_page(
    my_creations_page,
    route=routes.MY_CREATIONS,
    title="My Creations — Studio",
    on_load=[AuthState.require_user, CreationsState.load],
)
app.add_page(
    buy_credits_page,
    route=routes.BUY_CREDITS,
    title="Buy Credits — Studio",
    on_load=[AuthState.require_user, CreditsState.load],
)
app.add_page(
    account_page,
    route=routes.ACCOUNT,
    title="Account — Studio",
    on_load=[AuthState.require_user, AccountState.load],
)
app.add_page(
    admin_page,
    route=routes.ADMIN,
    title="Admin — Studio",
    on_load=[
        AuthState.require_admin,
        AdminState.load,
        AdminCatalogState.load,
        AdminProvidersState.load,
        ModerationState.load,
    ],
)
