"""The template catalog as the browser sees it (public, non-private data)."""

from __future__ import annotations

import reflex as rx

from studio_app.services import catalog
from studio_app.services.views import CategoryView, catalog_views


class CatalogState(rx.State):
    categories: list[CategoryView] = []
    loaded: bool = False

    @rx.event
    def load_catalog(self) -> None:
        self.categories = catalog_views(catalog.current_catalog())
        self.loaded = True
