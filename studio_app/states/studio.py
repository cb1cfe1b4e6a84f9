"""The studio form and the user's generation jobs."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from studio_app.providers.registry import DEFAULT_PROVIDER, get_provider, provider_infos
from studio_app.services import catalog, creations, jobs
from studio_app.services.db import read_session
from studio_app.services.errors import StudioError
from studio_app.services.generation import GenerationRequest
from studio_app.services.tiers import TIERS, get_tier
from studio_app.services.views import CategoryView, TemplateView, catalog_views
from studio_app.states.auth import AuthState


@dataclass
class TierOption:
    id: str = ""
    label: str = ""
    aspect_ratio: str = ""
    size: str = ""
    credits: int = 0
    rupees: int = 0


@dataclass
class ProviderOption:
    name: str = ""
    label: str = ""
    available: bool = True
    note: str = ""


def _tier_options() -> list[TierOption]:
    return [
        TierOption(t.id, t.label, t.aspect_ratio, t.size_label, t.credits, t.rupees) for t in TIERS
    ]


def _provider_options() -> list[ProviderOption]:
    return [
        ProviderOption(
            name=info.name,
            label=info.label,
            available=info.configured,
            note="" if info.configured else "Not configured on this server",
        )
        for info in provider_infos()
    ]


class StudioState(AuthState):
    categories: list[CategoryView] = []
    category_id: int = 0  # 0: all categories
    template_id: int = 0  # 0: no template, a free prompt
    template_name: str = ""
    prompt: str = ""
    tier: str = "standard"
    provider: str = DEFAULT_PROVIDER
    tier_options: list[TierOption] = []
    provider_options: list[ProviderOption] = []
    jobs: list[creations.CreationView] = []
    loaded: bool = False

    @rx.var
    def visible_templates(self) -> list[TemplateView]:
        return [
            template
            for category in self.categories
            if self.category_id in (0, category.id)
            for template in category.templates
        ]

    @rx.var
    def price(self) -> int:
        return get_tier(self.tier).credits

    @rx.var
    def price_label(self) -> str:
        tier = get_tier(self.tier)
        plural = "s" if tier.credits != 1 else ""
        return f"{tier.credits} credit{plural} · ₹{tier.rupees}"

    @rx.var
    def generate_blocker(self) -> str:
        """Why Generate is disabled, or "" when it is enabled."""
        if not self.prompt.strip():
            return "Write a prompt or choose a template."
        if self.credits_available < get_tier(self.tier).credits:
            return "Not enough credits for this size."
        return ""

    @rx.event
    def load_studio(self) -> None:
        viewer = self._viewer()
        if viewer is None:
            return
        with read_session() as db:
            self.categories = catalog_views(catalog.catalog(db))
        self.tier_options = _tier_options()
        self.provider_options = _provider_options()
        self.jobs = creations.recent_creations(viewer.id)
        self.loaded = True

    @rx.event
    def choose_category(self, category_id: int) -> None:
        known = {c.id for c in self.categories}
        self.category_id = category_id if category_id in known else 0

    @rx.event
    def choose_template(self, template_id: int) -> None:
        # The prompt comes from our catalog, not from what the browser sent.
        for category in self.categories:
            for template in category.templates:
                if template.id == template_id:
                    self.template_id = template.id
                    self.template_name = template.name
                    self.prompt = template.prompt
                    self.tier = template.default_tier
                    return

    @rx.event
    def clear_template(self) -> None:
        self.template_id = 0
        self.template_name = ""

    @rx.event
    def set_prompt(self, value: str) -> None:
        self.prompt = value if isinstance(value, str) else ""

    @rx.event
    def choose_tier(self, tier_id: str) -> None:
        try:
            self.tier = get_tier(tier_id).id
        except StudioError:
            return

    @rx.event
    def choose_provider(self, name: str) -> None:
        if get_provider(name) is not None:
            self.provider = name

    def _replace_job(self, view: creations.CreationView) -> None:
        self.jobs = [view if job.public_id == view.public_id else job for job in self.jobs]

    @rx.event(background=True)
    async def generate(self):  # type: ignore[no-untyped-def]
        async with self:
            viewer = self._viewer()
            if viewer is None:
                yield rx.redirect("/login")
                return
            request = GenerationRequest(
                prompt=self.prompt,
                tier=self.tier,
                provider=self.provider,
                template_id=self.template_id or None,
            )
            try:
                ticket = jobs.submit(viewer.id, request)
            except StudioError as error:
                yield rx.toast.error(error.message)
                return
            pending = creations.get_creation(viewer, ticket.public_id)
            if pending is not None:
                self.jobs = [pending, *self.jobs]
            self._refresh_credits(viewer)
        await jobs.wait(ticket.public_id)
        async with self:
            finished = creations.get_creation(viewer, ticket.public_id)
            if finished is None:
                return
            self._replace_job(finished)
            self._refresh_credits(viewer)
            if finished.status == "failed":
                yield rx.toast.error(finished.error_message)
            else:
                yield rx.toast.success(f"Your image is ready ({finished.cost_credits} credits).")
