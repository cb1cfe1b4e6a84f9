"""The studio form and the user's generation jobs."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import reflex as rx

from studio_app.providers.base import ProviderInfo
from studio_app.providers.registry import DEFAULT_PROVIDER, provider_infos
from studio_app.routes import LOGIN
from studio_app.services import catalog, creations, enhance, jobs
from studio_app.services.creations import CreationView, ReuseSettings
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
    # Why the chosen provider cannot make this tier ("" when it can).
    unavailable_reason: str = ""


@dataclass
class ProviderOption:
    name: str = ""
    label: str = ""
    model: str = ""
    available: bool = True
    note: str = ""
    advanced: bool = False


def _provider_option(info: ProviderInfo) -> ProviderOption:
    return ProviderOption(
        name=info.name,
        label=info.label,
        model=info.model,
        available=not info.unavailable_reason,
        note=info.unavailable_reason,
        advanced=info.supports_negative_prompt or info.supports_seed,
    )


def _tier_options(info: ProviderInfo | None) -> list[TierOption]:
    unavailable = info.unavailable_tiers if info else {}
    return [
        TierOption(
            t.id,
            t.label,
            t.aspect_ratio,
            t.size_label,
            t.credits,
            t.rupees,
            unavailable.get(t.id, ""),
        )
        for t in TIERS
    ]


def _parse_seed(text: str) -> int | None:
    """The seed the user typed: blank is none; anything else must be a whole number."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return -1  # refused by the service with its own message


class StudioState(AuthState):
    categories: list[CategoryView] = []
    category_id: int = 0  # 0: all categories
    template_id: int = 0  # 0: no template, a free prompt
    template_name: str = ""
    prompt: str = ""
    tier: str = "standard"
    provider: str = DEFAULT_PROVIDER
    negative_prompt: str = ""
    seed: str = ""
    tier_options: list[TierOption] = []
    provider_options: list[ProviderOption] = []
    template_query: str = ""
    jobs: list[CreationView] = []
    loaded: bool = False
    # Prompt enhancement: the suggestion waits beside the prompt until accepted or dismissed.
    enhancing: bool = False
    suggestion: str = ""
    suggestion_by: str = ""
    suggestion_note: str = ""
    # The prompt as it was before an accepted enhancement (for undo and for the record).
    prompt_before_enhancement: str = ""

    @rx.var
    def visible_templates(self) -> list[TemplateView]:
        words = self.template_query.lower().split()
        return [
            template
            for category in self.categories
            if self.category_id in (0, category.id)
            for template in category.templates
            if all(w in f"{template.name} {template.description}".lower() for w in words)
        ]

    @rx.var
    def credits_short(self) -> bool:
        return self.credits_available < get_tier(self.tier).credits

    @rx.var
    def latest(self) -> CreationView:
        """The newest finished image, shown large."""
        return next((job for job in self.jobs if job.status == "succeeded"), CreationView())

    @rx.var
    def other_jobs(self) -> list[CreationView]:
        latest = self.latest.public_id
        return [job for job in self.jobs if job.public_id != latest]

    @rx.var
    def price_label(self) -> str:
        tier = get_tier(self.tier)
        plural = "s" if tier.credits != 1 else ""
        return f"{tier.credits} credit{plural} · ₹{tier.rupees}"

    @rx.var
    def unavailable_tiers_note(self) -> str:
        return " ".join(
            f"{o.label}: {o.unavailable_reason}." for o in self.tier_options if o.unavailable_reason
        )

    @rx.var
    def show_advanced(self) -> bool:
        return any(p.advanced for p in self.provider_options if p.name == self.provider)

    @rx.var
    def generate_blocker(self) -> str:
        """Why Generate is disabled, or "" when it is enabled."""
        if not self.prompt.strip():
            return "Write a prompt or choose a template."
        for option in self.tier_options:
            if option.id == self.tier and option.unavailable_reason:
                return option.unavailable_reason
        if self.credits_short:
            return "Not enough credits for this size."
        return ""

    def _provider_info(self) -> ProviderInfo | None:
        return next((p for p in provider_infos() if p.name == self.provider), None)

    @rx.event
    def load_studio(self):  # type: ignore[no-untyped-def]
        viewer = self._viewer()
        if viewer is None:
            return None
        with read_session() as db:
            self.categories = catalog_views(catalog.catalog(db))
        self.provider_options = [_provider_option(info) for info in provider_infos()]
        self.tier_options = _tier_options(self._provider_info())
        self.jobs = creations.recent_creations(viewer.id)
        self.loaded = True
        # "Use this prompt" from My Creations: /studio?use=<public id>, checked by the service.
        reuse = self.router.url.query_parameters.get("use")
        if reuse:
            settings = creations.reuse_settings(viewer, reuse)
            if settings is None:
                return rx.toast.error("That image is not available any more.")
            self._fill_form(settings)
        if any(job.status == "pending" for job in self.jobs):
            return StudioState.watch_pending
        return None

    def _fill_form(self, settings: ReuseSettings) -> None:
        self._forget_enhancement()
        if settings.enhanced_prompt:
            self.prompt_before_enhancement = settings.prompt
            self.prompt = settings.enhanced_prompt
        else:
            self.prompt = settings.prompt
        self.template_id = settings.template_id or 0
        self.template_name = settings.template_name
        self.tier = settings.tier
        if any(p.name == settings.provider and p.available for p in self.provider_options):
            self.provider = settings.provider
            self.tier_options = _tier_options(self._provider_info())
        self.negative_prompt = settings.negative_prompt or ""
        self.seed = "" if settings.seed is None else str(settings.seed)

    @rx.event
    def use_creation(self, public_id: str):  # type: ignore[no-untyped-def]
        viewer = self._viewer()
        if viewer is None:
            return None
        settings = creations.reuse_settings(viewer, public_id)
        if settings is None:
            return rx.toast.error("That image is not available any more.")
        self._fill_form(settings)
        return rx.scroll_to("prompt")

    @rx.event
    def set_template_query(self, value: str) -> None:
        self.template_query = value[:100] if isinstance(value, str) else ""

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
                    self._forget_enhancement()
                    return

    @rx.event
    def clear_template(self) -> None:
        self.template_id = 0
        self.template_name = ""

    @rx.event
    def set_prompt(self, value: str) -> None:
        self.prompt = value if isinstance(value, str) else ""

    @rx.event
    def set_negative_prompt(self, value: str) -> None:
        self.negative_prompt = value if isinstance(value, str) else ""

    @rx.event
    def set_seed(self, value: str) -> None:
        self.seed = value if isinstance(value, str) else ""

    @rx.event
    def choose_tier(self, tier_id: str) -> None:
        try:
            self.tier = get_tier(tier_id).id
        except StudioError:
            return

    @rx.event
    def choose_provider(self, name: str) -> None:
        if any(p.name == name for p in self.provider_options):
            self.provider = name
            self.tier_options = _tier_options(self._provider_info())

    def _forget_enhancement(self) -> None:
        self.suggestion = ""
        self.suggestion_by = ""
        self.suggestion_note = ""
        self.prompt_before_enhancement = ""

    @rx.event(background=True)
    async def enhance(self):  # type: ignore[no-untyped-def]
        async with self:
            viewer = self._viewer()
            if viewer is None:
                yield rx.redirect(LOGIN)
                return
            prompt, template_id = self.prompt, self.template_id or None
            self.enhancing = True
            session = self._bound_session
        try:
            result = await enhance.enhance_prompt(viewer.id, prompt, template_id=template_id)
        except StudioError as error:
            async with self:
                if self._still_bound_to(session):
                    self.enhancing = False
                    yield rx.toast.error(error.message)
            return
        async with self:
            if not self._still_bound_to(session):
                return
            self.enhancing = False
            self.suggestion = result.enhanced
            self.suggestion_by = result.enhancer
            self.suggestion_note = result.fallback_reason

    @rx.event
    def accept_suggestion(self) -> None:
        if self.suggestion:
            self.prompt_before_enhancement = self.prompt
            self.prompt = self.suggestion
            self.suggestion = ""

    @rx.event
    def dismiss_suggestion(self) -> None:
        self.suggestion = ""

    @rx.event
    def undo_enhancement(self) -> None:
        if self.prompt_before_enhancement:
            self.prompt = self.prompt_before_enhancement
            self._forget_enhancement()

    def _request(self) -> GenerationRequest:
        enhanced = None
        original = self.prompt
        if self.prompt_before_enhancement:
            # The provider gets the accepted (maybe edited) text; the record keeps both.
            original, enhanced = self.prompt_before_enhancement, self.prompt
        return GenerationRequest(
            prompt=original,
            enhanced_prompt=enhanced,
            tier=self.tier,
            provider=self.provider,
            template_id=self.template_id or None,
            negative_prompt=self.negative_prompt if self.show_advanced else None,
            seed=_parse_seed(self.seed) if self.show_advanced else None,
        )

    def _replace_job(self, view: CreationView) -> None:
        self.jobs = [view if job.public_id == view.public_id else job for job in self.jobs]

    async def _run_job(self, make_request):  # type: ignore[no-untyped-def]
        """Submit a job and follow it to the end: each job has its own card and clock.

        `make_request(viewer)` builds the request (inside the state lock) or returns
        None after saying why. Yields the events to send to the browser.
        """
        async with self:
            viewer = self._viewer()
            if viewer is None:
                yield rx.redirect(LOGIN)
                return
            request = make_request(viewer)
            if request is None:
                yield rx.toast.error("That image is not available any more.")
                return
            try:
                ticket = await jobs.submit(viewer.id, request)
            except StudioError as error:
                yield rx.toast.error(error.message)
                return
            pending = creations.get_creation(viewer, ticket.public_id)
            if pending is not None:
                self.jobs = [pending, *self.jobs]
            self._refresh_credits(viewer)
            session = self._bound_session
        yield rx.scroll_to("results")
        waiting = asyncio.ensure_future(jobs.wait(ticket.public_id))
        while not waiting.done():
            # Tick the card's elapsed time while the provider works.
            await asyncio.wait({waiting}, timeout=1.0)
            if not waiting.done():
                async with self:
                    if not self._still_bound_to(session):
                        return  # another user's tab now: the image lands in My Creations
                    ticking = creations.get_creation(viewer, ticket.public_id)
                    if ticking is not None and ticking.status == "pending":
                        self._replace_job(ticking)
        async with self:
            finished = creations.get_creation(viewer, ticket.public_id)
            if finished is None or not self._still_bound_to(session):
                return
            self._replace_job(finished)
            self._refresh_credits(viewer)
            if finished.status == "failed":
                yield rx.toast.error(finished.error_message)
            else:
                cost = finished.cost_credits
                yield rx.toast.success(
                    f"Your image is ready ({cost} credit{'' if cost == 1 else 's'})."
                )

    @rx.event(background=True)
    async def generate(self):  # type: ignore[no-untyped-def]
        async for event in self._run_job(lambda _viewer: self._request()):
            yield event

    @rx.event(background=True)
    async def generate_again(self, public_id: str):  # type: ignore[no-untyped-def]
        """The same settings as an earlier creation of the caller's (checked by the service)."""

        def same_settings(viewer):  # type: ignore[no-untyped-def]
            settings = creations.reuse_settings(viewer, public_id)
            return settings.request() if settings else None

        async for event in self._run_job(same_settings):
            yield event

    @rx.event(background=True)
    async def watch_pending(self):  # type: ignore[no-untyped-def]
        """Jobs found pending on load (a reload mid-generation): follow them to the end."""
        for _ in range(600):
            await asyncio.sleep(1.0)
            async with self:
                viewer = self._viewer()
                pending = [job for job in self.jobs if job.status == "pending"]
                if viewer is None or not pending:
                    return
                for job in pending:
                    fresh = creations.get_creation(viewer, job.public_id)
                    if fresh is not None:
                        self._replace_job(fresh)
                self._refresh_credits(viewer)
