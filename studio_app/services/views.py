"""Plain, browser-safe views of rows: only what a page may show.

States and API routes render these instead of table rows, so a column added
to a table never reaches the browser by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio_app.models import ImageCategory, ImageTemplate
from studio_app.services.catalog import CategoryWithTemplates


@dataclass
class TemplateView:
    id: int = 0
    category_id: int = 0
    name: str = ""
    description: str = ""
    prompt: str = ""
    default_tier: str = "standard"
    # The public preview image route (/template-previews/<key>), "" when there is none.
    preview_url: str = ""

    @classmethod
    def of(cls, template: ImageTemplate) -> TemplateView:
        return cls(
            id=template.id or 0,
            category_id=template.category_id,
            name=template.name,
            description=template.description,
            prompt=template.prompt,
            default_tier=template.default_tier,
            preview_url=(
                f"/template-previews/{template.preview_image_key}"
                if template.preview_image_key
                else ""
            ),
        )


@dataclass
class CategoryView:
    id: int = 0
    slug: str = ""
    name: str = ""
    description: str = ""
    templates: list[TemplateView] = field(default_factory=list)

    @classmethod
    def of(
        cls, category: ImageCategory, templates: list[ImageTemplate] | None = None
    ) -> CategoryView:
        return cls(
            id=category.id or 0,
            slug=category.slug,
            name=category.name,
            description=category.description,
            templates=[TemplateView.of(t) for t in templates or []],
        )


def catalog_views(entries: list[CategoryWithTemplates]) -> list[CategoryView]:
    return [CategoryView.of(entry.category, entry.templates) for entry in entries]
