"""Reflex configuration. Settings come from studio_app.settings (the environment)."""

import reflex as rx

from studio_app.settings import get_settings

config = rx.Config(
    app_name="studio_app",
    db_url=get_settings().database_url,
    # With Redis, `reflex run --env prod` starts several backend workers (GRANIAN_WORKERS,
    # default cpu*2+1) that share the users' states through it.
    redis_url=get_settings().redis_url or None,
    telemetry_enabled=False,
    # Cookie-authenticated routes and the websocket answer only our own origin; the
    # bearer-token API's cross-origin rules are api/cors.py's.
    cors_allowed_origins=[get_settings().public_url],
    # The websocket's client_ip follows the same rule as services/client_address.py.
    trusted_proxy_hops=get_settings().trusted_proxy_hops,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="violet", radius="large")),
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
