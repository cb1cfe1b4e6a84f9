"""The studio page's states, one concern each, joined with `get_state`:

- `StudioState`: the form (prompt, size, provider, options) and what blocks Generate;
- `TemplatePickerState`: the catalog, its filter and the chosen template;
- `EnhanceState`: the prompt enhancement waiting beside the prompt;
- `JobsState`: the user's images in progress and just made.

Handlers that read the database are background events: they take the state's lock
(`async with self`) only to read or write state, never across I/O, and every database
read runs on a worker thread, so the event loop and the tab's lock stay free while the
database or a provider works.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import reflex as rx

from studio_app.models import GenerationStatus
from studio_app.routes import LOGIN, STUDIO
from studio_app.services import (
    auth,
    catalog,
    community_reuse,
    creations,
    edit_sources,
    enhance,
    generation,
    jobs,
    ledger,
    uploads,
)
from studio_app.services.auth import CurrentUser
from studio_app.services.creations import CreationView, ReuseSettings
from studio_app.services.errors import StudioError
from studio_app.services.generation import MAX_IMAGES_PER_REQUEST, GenerationRequest
from studio_app.services.provider_switches import DEFAULT_PROVIDER, ProviderInfo, provider_infos
from studio_app.services.tiers import get_tier
from studio_app.services.uploads import UploadView
from studio_app.services.views import CategoryView, TemplateView, catalog_views
from studio_app.states.auth import AuthState
from studio_app.storage import StorageError
from studio_app.tiers import DEFAULT_TIER, tiers

# The choices of the "Images" control: how many images one Generate makes.
IMAGE_COUNTS = [str(n) for n in range(1, MAX_IMAGES_PER_REQUEST + 1)]


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
    # Why it cannot edit a picture ("" when it can).
    edit_note: str = ""


def _provider_option(info: ProviderInfo) -> ProviderOption:
    return ProviderOption(
        name=info.name,
        label=info.label,
        model=info.model,
        available=not info.unavailable_reason,
        note=info.unavailable_reason,
        advanced=info.supports_negative_prompt or info.supports_seed,
        edit_note=info.edit_unavailable,
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
        for t in tiers()
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
    """The form: what will be generated, at which size, by which provider."""

    template_id: int = 0  # 0: no template, a free prompt
    template_name: str = ""
    prompt: str = ""
    tier: str = DEFAULT_TIER
    provider: str = DEFAULT_PROVIDER
    negative_prompt: str = ""
    seed: str = ""
    # How many images one Generate makes (1–MAX_IMAGES_PER_REQUEST), as the control's value.
    count: str = "1"
    # An edit: the user's own upload to change ("" = a new picture from the prompt alone).
    source_id: str = ""
    source_width: int = 0
    source_height: int = 0
    tier_options: list[TierOption] = []
    provider_options: list[ProviderOption] = []
    loaded: bool = False
    # The providers as loaded with the page: choosing one reads no database.
    _providers: list[ProviderInfo] = []

    def _price(self) -> tuple[int, int]:
        """(credits, rupees) of one Generate: the tier's price for each image."""
        tier = get_tier(self.tier)
        images = int(self.count)
        return tier.credits * images, tier.rupees * images

    @rx.var
    def credits_short(self) -> bool:
        return self.credits_available < self._price()[0]

    @rx.var
    def price_label(self) -> str:
        credits, rupees = self._price()
        return f"{credits} credit{'s' if credits != 1 else ''} · ₹{rupees}"

    @rx.var
    def unavailable_tiers_note(self) -> str:
        return " ".join(
            f"{o.label}: {o.unavailable_reason}." for o in self.tier_options if o.unavailable_reason
        )

    @rx.var
    def source_url(self) -> str:
        return f"/pictures/{self.source_id}" if self.source_id else ""

    @rx.var
    def fit_note(self) -> str:
        """How the picture to edit is fitted to the chosen size."""
        if not self.source_id or not self.source_width or not self.source_height:
            return ""
        return edit_sources.fit_note(self.source_width, self.source_height, get_tier(self.tier))

    def _show_source(self, upload: UploadView | None) -> None:
        self.source_id = upload.public_id if upload else ""
        self.source_width = upload.width if upload else 0
        self.source_height = upload.height if upload else 0

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
        if self.source_id:
            for provider in self.provider_options:
                if provider.name == self.provider and provider.edit_note:
                    return f"{provider.label} cannot edit pictures: {provider.edit_note}"
        if self.credits_short:
            if self.count != "1":
                return f"Not enough credits for {self.count} images of this size."
            return "Not enough credits for this size."
        return ""

    def _provider_info(self) -> ProviderInfo | None:
        return next((p for p in self._providers if p.name == self.provider), None)

    def _show_providers(self, infos: list[ProviderInfo]) -> None:
        self._providers = infos
        if not any(info.name == self.provider for info in infos):
            # Its model has gone since this tab chose it: the provider is not listed now.
            self.provider = DEFAULT_PROVIDER
        self.provider_options = [_provider_option(info) for info in infos]
        self.tier_options = _tier_options(self._provider_info())

    async def _caller(self) -> tuple[str, CurrentUser | None]:
        """This event's session and its user, looked up off the loop and outside the lock."""
        async with self:
            session = self._session_hash()
        return session, await asyncio.to_thread(auth.user_for_session_hash, session)

    @rx.event(background=True)
    async def load_studio(self) -> AsyncIterator[rx.event.EventType[()]]:
        session, viewer = await self._caller()
        if viewer is None:
            return
        page = await asyncio.to_thread(_studio_page_data, viewer)
        async with self:
            if not self._still_bound_to(session):
                return
            reuse = self.router.url.query_parameters.get("use")
            edit = self.router.url.query_parameters.get("edit")
            post = self.router.url.query_parameters.get("post")
            post_tier = self.router.url.query_parameters.get("tier")
            picker = await self.get_state(TemplatePickerState)
            picker.categories = page.categories
            self._show_providers(page.providers)
            self._set_credits(page.credits)
            job_list = await self.get_state(JobsState)
            job_list.jobs = page.jobs
            self.loaded = True
        # "Use this prompt" from My Creations: /studio?use=<public id>, checked by the service.
        if reuse:
            async for event in self._reuse(session, viewer, reuse):
                yield event
        # "Edit this picture" from My Creations: /studio?edit=<public id>, kept as an upload.
        if edit:
            async for event in self._edit_creation(session, viewer, edit):
                yield event
        # "Use this prompt" on a community post: /studio?post=<post id>[&tier=<tier>].
        if post:
            async for event in self._use_post(session, viewer, post, post_tier):
                yield event
        if any(job.status == GenerationStatus.PENDING for job in page.jobs):
            yield JobsState.watch_pending

    async def _reuse(
        self, session: str, viewer: CurrentUser, public_id: str
    ) -> AsyncIterator[rx.event.EventSpec]:
        settings = await asyncio.to_thread(creations.reuse_settings, viewer, public_id)
        if settings is None:
            yield rx.toast.error("That image is not available any more.")
            return
        async with self:
            if self._still_bound_to(session):
                await self._fill_form(settings)
        if settings.source_removed:
            yield rx.toast.warning(edit_sources.SOURCE_REMOVED)

    async def _edit_creation(
        self, session: str, viewer: CurrentUser, public_id: str
    ) -> AsyncIterator[rx.event.EventSpec]:
        try:
            upload = await asyncio.to_thread(uploads.from_creation, viewer, public_id)
        except StudioError as error:
            yield rx.toast.error(error.message)
            return
        except StorageError:
            yield rx.toast.error(uploads.NOT_KEPT)
            return
        async with self:
            if not self._still_bound_to(session):
                return
            self._show_source(upload)
            self.prompt = ""
            self.template_id = 0
            self.template_name = ""
            (await self.get_state(EnhanceState))._forget()
        # The address without ?edit=: a reload must not copy the picture again.
        yield rx.redirect(STUDIO, replace=True)
        yield rx.set_focus("prompt")

    async def _use_post(
        self, session: str, viewer: CurrentUser, post_id: str, tier: str | None
    ) -> AsyncIterator[rx.event.EventSpec]:
        try:
            taken = await asyncio.to_thread(community_reuse.reuse, viewer, post_id)
        except StudioError as error:
            yield rx.toast.error(error.message)
            return
        async with self:
            if not self._still_bound_to(session):
                return
            (await self.get_state(EnhanceState))._forget()
            self.prompt = taken.prompt
            self.template_id = taken.template_id or 0
            self.template_name = taken.template_name
            chosen = tier if tier in {option.id for option in self.tier_options} else taken.tier
            self.tier = chosen or self.tier
            self._show_source(None)
        # The address without ?post=: a reload must not fill the form again.
        yield rx.redirect(STUDIO, replace=True)
        yield rx.set_focus("prompt")

    async def _fill_form(self, settings: ReuseSettings) -> None:
        enhancement = await self.get_state(EnhanceState)
        enhancement._forget()
        if settings.enhanced_prompt:
            enhancement.prompt_before_enhancement = settings.prompt
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
        if settings.source_upload_id and not settings.source_removed:
            self.source_id = settings.source_upload_id
            self.source_width, self.source_height = settings.source_width, settings.source_height
        else:
            self._show_source(None)

    @rx.event(background=True)
    async def use_creation(self, public_id: str) -> AsyncIterator[rx.event.EventSpec]:
        session, viewer = await self._caller()
        if viewer is None:
            return
        async for event in self._reuse(session, viewer, public_id):
            yield event
        yield rx.scroll_to("prompt")

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
    def choose_count(self, value: str | list[str]) -> None:
        # The segmented control sends a list when it allows several choices; ours does not.
        if isinstance(value, str) and value in IMAGE_COUNTS:
            self.count = value

    @rx.event
    def choose_provider(self, name: str) -> None:
        if any(p.name == name for p in self.provider_options):
            self.provider = name
            self.tier_options = _tier_options(self._provider_info())


@dataclass(frozen=True)
class _StudioPage:
    categories: list[CategoryView]
    providers: list[ProviderInfo]
    jobs: list[CreationView]
    credits: ledger.CreditSummary


def _studio_page_data(viewer: CurrentUser) -> _StudioPage:
    """Everything the studio page loads, read in one go (on a worker thread)."""
    return _StudioPage(
        categories=catalog_views(catalog.current_catalog()),
        providers=provider_infos(),
        jobs=creations.recent_creations(viewer.id),
        credits=ledger.credit_summary(viewer.id),
    )


class TemplatePickerState(StudioState):
    """The catalog beside the form: categories, a filter, and choosing a template."""

    categories: list[CategoryView] = []
    category_id: int = 0  # 0: all categories
    template_query: str = ""

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

    @rx.event
    def set_template_query(self, value: str) -> None:
        self.template_query = value[:100] if isinstance(value, str) else ""

    @rx.event
    def choose_category(self, category_id: int) -> None:
        known = {c.id for c in self.categories}
        self.category_id = category_id if category_id in known else 0

    @rx.event
    async def choose_template(self, template_id: int) -> None:
        # The prompt comes from our catalog, not from what the browser sent.
        for category in self.categories:
            for template in category.templates:
                if template.id == template_id:
                    self.template_id = template.id
                    self.template_name = template.name
                    self.prompt = template.prompt
                    self.tier = template.default_tier
                    (await self.get_state(EnhanceState))._forget()
                    return

    @rx.event
    def clear_template(self) -> None:
        self.template_id = 0
        self.template_name = ""


class EnhanceState(StudioState):
    """An enhanced prompt waits beside the prompt until accepted or dismissed."""

    enhancing: bool = False
    suggestion: str = ""
    suggestion_by: str = ""
    suggestion_note: str = ""
    # The prompt as it was before an accepted enhancement (for undo and for the record).
    prompt_before_enhancement: str = ""

    def _forget(self) -> None:
        self.suggestion = ""
        self.suggestion_by = ""
        self.suggestion_note = ""
        self.prompt_before_enhancement = ""

    @rx.event(background=True)
    async def enhance(self) -> AsyncIterator[rx.event.EventSpec]:
        session, viewer = await self._caller()
        if viewer is None:
            yield rx.redirect(LOGIN)
            return
        async with self:
            prompt, template_id = self.prompt, self.template_id or None
            self.enhancing = True
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
            self._forget()


class JobsState(StudioState):
    """The user's images in progress and just made, each with its own card and clock."""

    jobs: rx.Field[list[CreationView]] = rx.field(default_factory=list)

    def _latest_request_id(self) -> str:
        """The newest request with an image made: its images are shown first."""
        return next(
            (job.request_id for job in self.jobs if job.status == GenerationStatus.SUCCEEDED), ""
        )

    @rx.var
    def latest(self) -> CreationView:
        """The newest finished image, shown large when its request made one image."""
        return next(
            (job for job in self.jobs if job.status == GenerationStatus.SUCCEEDED), CreationView()
        )

    @rx.var
    def latest_images(self) -> list[CreationView]:
        """Every image of the newest request that made one, in the order asked for."""
        request_id = self._latest_request_id()
        images = [job for job in self.jobs if request_id and job.request_id == request_id]
        return sorted(images, key=lambda job: job.request_index)

    @rx.var
    def latest_summary(self) -> str:
        """What the newest request made, e.g. "3 of 4 images · 3 credits"."""
        images = self.latest_images
        made = [job for job in images if job.status == GenerationStatus.SUCCEEDED]
        pending = [job for job in images if job.status == GenerationStatus.PENDING]
        credits = sum(job.cost_credits for job in made)
        counted = f"{len(made)} of {len(images)}" if len(made) < len(images) else str(len(made))
        summary = f"{counted} images · {credits} credit{'s' if credits != 1 else ''}"
        return summary + (f" · {len(pending)} still being made" if pending else "")

    @rx.var
    def other_jobs(self) -> list[CreationView]:
        request_id = self._latest_request_id()
        return [job for job in self.jobs if not request_id or job.request_id != request_id]

    async def _form_request(self) -> GenerationRequest:
        """The form as a generation request (inside the lock: state only, no I/O)."""
        enhancement = await self.get_state(EnhanceState)
        enhanced = None
        original = self.prompt
        if enhancement.prompt_before_enhancement:
            # The provider gets the accepted (maybe edited) text; the record keeps both.
            original, enhanced = enhancement.prompt_before_enhancement, self.prompt
        return GenerationRequest(
            prompt=original,
            enhanced_prompt=enhanced,
            tier=self.tier,
            provider=self.provider,
            template_id=self.template_id or None,
            negative_prompt=self.negative_prompt if self.show_advanced else None,
            seed=_parse_seed(self.seed) if self.show_advanced else None,
            count=int(self.count),
            source_upload_id=self.source_id or None,
        )

    def _replace_job(self, view: CreationView) -> None:
        self.jobs = [view if job.public_id == view.public_id else job for job in self.jobs]

    async def _run_job(
        self, session: str, viewer: CurrentUser, request: GenerationRequest | None
    ) -> AsyncIterator[rx.event.EventSpec]:
        """Submit a job and follow it to the end. Yields the events for the browser."""
        if request is None:
            yield rx.toast.error("That image is not available any more.")
            return
        try:
            ticket = await jobs.submit(viewer.id, request)
        except StudioError as error:
            yield rx.toast.error(error.message)
            return
        pending, credits = await asyncio.to_thread(_request_and_credits, viewer, ticket.public_id)
        async with self:
            if not self._still_bound_to(session):
                return  # another user's tab now: the images land in My Creations
            self.jobs = [*pending, *self.jobs]
            self._set_credits(credits)
        yield rx.scroll_to("results")
        waiting = asyncio.ensure_future(jobs.wait(ticket.public_id))
        while not waiting.done():
            # Tick the cards' elapsed time while the provider works; a cancel shows at
            # once, even while the job still waits for a provider slot.
            await asyncio.wait({waiting}, timeout=1.0)
            if waiting.done():
                break
            ticking, credits = await asyncio.to_thread(
                _request_and_credits, viewer, ticket.public_id
            )
            async with self:
                if not self._still_bound_to(session):
                    return
                for view in ticking:
                    self._replace_job(view)
                self._set_credits(credits)
            if not any(view.status == GenerationStatus.PENDING for view in ticking):
                waiting.cancel()  # the waiter only: jobs.wait shields the job
                break
        finished, credits = await asyncio.to_thread(_request_and_credits, viewer, ticket.public_id)
        async with self:
            if not finished or not self._still_bound_to(session):
                return
            for view in finished:
                self._replace_job(view)
            self._set_credits(credits)
        yield finished_toast(finished)

    @rx.event(background=True)
    async def generate(self) -> AsyncIterator[rx.event.EventSpec]:
        session, viewer = await self._caller()
        if viewer is None:
            yield rx.redirect(LOGIN)
            return
        async with self:
            request = await self._form_request()
        async for event in self._run_job(session, viewer, request):
            yield event

    @rx.event(background=True)
    async def cancel_request(self, request_id: str) -> AsyncIterator[rx.event.EventSpec]:
        """Stop the caller's request: what is not made yet is not made and costs nothing.
        The job's own follower (`_run_job`, `watch_pending`) then shows the result."""
        _session, viewer = await self._caller()
        if viewer is None:
            yield rx.redirect(LOGIN)
            return
        try:
            await jobs.cancel(viewer.id, request_id)
        except StudioError as error:
            yield rx.toast.error(error.message)

    @rx.event(background=True)
    async def generate_again(self, public_id: str) -> AsyncIterator[rx.event.EventSpec]:
        """The same settings as an earlier creation of the caller's (checked by the service)."""
        session, viewer = await self._caller()
        if viewer is None:
            yield rx.redirect(LOGIN)
            return
        settings = await asyncio.to_thread(creations.reuse_settings, viewer, public_id)
        async for event in self._run_job(session, viewer, settings.request() if settings else None):
            yield event

    @rx.event(background=True)
    async def watch_pending(self) -> None:
        """Jobs found pending on load (a reload mid-generation): follow them to the end."""
        session, viewer = await self._caller()
        if viewer is None:
            return
        for _ in range(600):
            async with self:
                if not self._still_bound_to(session):
                    return
                pending = [
                    job.public_id for job in self.jobs if job.status == GenerationStatus.PENDING
                ]
                requests = sorted(
                    {job.request_id for job in self.jobs if job.status == GenerationStatus.PENDING}
                )
            if not pending:
                return
            # Wakes when this process hears that a request ended; looks anyway every second.
            await jobs.until_one_ends(requests, timeout=1.0)
            fresh = await asyncio.to_thread(_jobs_and_credits, viewer, pending)
            async with self:
                if not self._still_bound_to(session):
                    return
                for view in fresh.jobs:
                    self._replace_job(view)
                self._set_credits(fresh.credits)


@dataclass(frozen=True)
class _JobsNow:
    jobs: list[CreationView]
    credits: ledger.CreditSummary


def _request_and_credits(
    viewer: CurrentUser, request_id: str
) -> tuple[list[CreationView], ledger.CreditSummary]:
    return creations.request_creations(viewer, request_id), ledger.credit_summary(viewer.id)


def finished_toast(images: list[CreationView]) -> rx.event.EventSpec:
    """What a finished request made, and what it cost."""
    made = [view for view in images if view.status == GenerationStatus.SUCCEEDED]
    failed = [view for view in images if view.status == GenerationStatus.FAILED]
    cancelled = [view for view in failed if view.error_code == generation.CANCELLED]
    failed = [view for view in failed if view not in cancelled]
    cost = sum(view.cost_credits for view in made)
    charged = f"{cost} credit{'' if cost == 1 else 's'}"
    if cancelled and not made and not failed:
        return rx.toast.info("Cancelled. No credits were charged.")
    if not made:
        return rx.toast.error(failed[0].error_message if failed else "No image was made.")
    if not failed and not cancelled:
        what = "Your image is" if len(made) == 1 else f"Your {len(made)} images are"
        return rx.toast.success(f"{what} ready ({charged}).")
    unmade = " ".join(
        part
        for part in (
            f"{len(failed)} failed and cost nothing: {failed[0].error_message}" if failed else "",
            f"{len(cancelled)} cancelled, no charge." if cancelled else "",
        )
        if part
    )
    return rx.toast.warning(f"{len(made)} of {len(images)} images are ready ({charged}); {unmade}")


def _jobs_and_credits(viewer: CurrentUser, public_ids: list[str]) -> _JobsNow:
    views = [creations.get_creation(viewer, public_id) for public_id in public_ids]
    return _JobsNow(
        jobs=[view for view in views if view is not None],
        credits=ledger.credit_summary(viewer.id),
    )
