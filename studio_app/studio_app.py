"""The Reflex app: pages and routes."""

from __future__ import annotations

import reflex as rx

from studio_app.pages.catalog import catalog_page
from studio_app.states.catalog import CatalogState

app = rx.App()
app.add_page(catalog_page, route="/", title="Studio — templates", on_load=CatalogState.load_catalog)
