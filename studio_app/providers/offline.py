"""The built-in offline provider: Pillow draws a real image, no key, no network.

Edits change the source picture as the prompt's words say (offline_edit.py).

The palette comes from the template's category and the prompt, the composition
from a seed derived from the prompt, so different prompts give visibly
different images, and the same prompt the same one. The prompt's first words
are drawn in a bundled TrueType font.
"""

from __future__ import annotations

import asyncio
import colorsys
import hashlib
import io
import random
import textwrap
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from studio_app.providers import offline_edit
from studio_app.providers.base import ImageRequest, ModelUnavailable, ProviderImage
from studio_app.settings import Settings

FONT_PATH = Path(__file__).parent / "fonts" / "DejaVuSans-Bold.ttf"
MODEL = "studio-offline-1"
# Base hue (0–360) per category, so a category's images share a family look.
CATEGORY_HUES = {
    "marketing": 265,
    "social-media": 330,
    "e-commerce": 165,
    "education": 205,
    "creative": 25,
}
CAPTION_WORDS = 7


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size)


def _rgb(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb((hue % 360) / 360, saturation, value)
    return int(r * 255), int(g * 255), int(b * 255)


def _palette(rng: random.Random, base_hue: float) -> list[tuple[int, int, int]]:
    spread = rng.choice([25, 40, 150, 180])  # analogous or complementary
    return [
        _rgb(base_hue + rng.uniform(-12, 12), rng.uniform(0.55, 0.8), rng.uniform(0.25, 0.45)),
        _rgb(base_hue + spread / 2, rng.uniform(0.45, 0.75), rng.uniform(0.55, 0.8)),
        _rgb(base_hue + spread, rng.uniform(0.6, 0.9), rng.uniform(0.8, 1.0)),
        _rgb(base_hue - spread / 3, rng.uniform(0.3, 0.6), rng.uniform(0.85, 1.0)),
        _rgb(base_hue + rng.uniform(-30, 30), rng.uniform(0.7, 1.0), rng.uniform(0.6, 0.95)),
    ]


def _background(size: tuple[int, int], top: tuple, bottom: tuple) -> Image.Image:
    mask = Image.linear_gradient("L").resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def _glow(rng: random.Random, size: tuple[int, int], colors: list[tuple]) -> Image.Image:
    # Drawn small and blurred, then scaled up: soft light at a fraction of the cost.
    small = (max(1, size[0] // 8), max(1, size[1] // 8))
    layer = Image.new("RGBA", small, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for _ in range(rng.randint(2, 4)):
        radius = rng.uniform(0.15, 0.35) * small[0]
        x, y = rng.uniform(0, small[0]), rng.uniform(0, small[1])
        draw.ellipse(
            (x - radius, y - radius, x + radius, y + radius), fill=(*rng.choice(colors), 150)
        )
    layer = layer.filter(ImageFilter.GaussianBlur(small[0] / 14))
    return layer.resize(size, Image.Resampling.BILINEAR)


def _shapes(rng: random.Random, size: tuple[int, int], colors: list[tuple]) -> Image.Image:
    width, height = size
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for _ in range(rng.randint(7, 13)):
        color = (*rng.choice(colors), rng.randint(90, 200))
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.04, 0.2) * min(width, height)
        kind = rng.choice(["circle", "ring", "square", "triangle", "bar"])
        if kind == "circle":
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=color)
        elif kind == "ring":
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=color, width=max(3, int(r / 6)))
        elif kind == "square":
            draw.rounded_rectangle((cx - r, cy - r, cx + r, cy + r), radius=r / 4, fill=color)
        elif kind == "triangle":
            points = [
                (cx + rng.uniform(-r, r) * 1.4, cy + rng.uniform(-r, r) * 1.4) for _ in range(3)
            ]
            draw.polygon(points, fill=color)
        else:
            draw.rounded_rectangle(
                (cx - r * 2, cy - r / 5, cx + r * 2, cy + r / 5), radius=r / 5, fill=color
            )
    return layer


def _caption(image: Image.Image, prompt: str) -> None:
    width, height = image.size
    words = " ".join(prompt.split()[:CAPTION_WORDS])
    if len(prompt.split()) > CAPTION_WORDS:
        words += " …"
    font = _font(max(18, width // 30))
    lines = textwrap.wrap(words, width=28)[:2]
    draw = ImageDraw.Draw(image, "RGBA")
    line_height = int(font.size * 1.3)
    pad = font.size
    box_width = max(draw.textlength(line, font=font) for line in lines) + pad * 2
    box_height = line_height * len(lines) + pad
    left, top = width * 0.05, height - box_height - height * 0.06
    draw.rounded_rectangle(
        (left, top, left + box_width, top + box_height), radius=pad / 2, fill=(12, 12, 20, 150)
    )
    for index, line in enumerate(lines):
        draw.text((left + pad, top + pad / 2 + index * line_height), line, font=font, fill="white")


def render(
    prompt: str, width: int, height: int, category_slug: str = "", variant: int = 0
) -> Image.Image:
    """Draw the image for this prompt (deterministic; each variant another picture)."""
    seed_text = f"{category_slug}\n{prompt}" + (f"\n{variant}" if variant else "")
    digest = hashlib.sha256(seed_text.encode()).digest()
    rng = random.Random(digest)
    base_hue = CATEGORY_HUES.get(category_slug, digest[0] * 360 / 255)
    colors = _palette(rng, base_hue)
    size = (width, height)
    image = _background(size, colors[0], colors[1]).convert("RGBA")
    image.alpha_composite(_glow(rng, size, colors[2:]))
    image.alpha_composite(_shapes(rng, size, colors[1:]))
    image = image.convert("RGB")
    _caption(image, prompt)
    return image


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=3)
    return buffer.getvalue()


def _edited(request: ImageRequest) -> Image.Image:
    source = request.source
    assert source is not None
    picture = source.picture
    if picture is None:
        with Image.open(io.BytesIO(source.data)) as decoded:
            picture = decoded.convert("RGB")
    image = offline_edit.apply(picture, request.prompt, request.variant)
    _caption(image, request.prompt)
    return image


def _render_png(request: ImageRequest) -> ProviderImage:
    tier = request.tier
    if request.source is not None:
        image = _edited(request)
    else:
        image = render(
            request.prompt, tier.width, tier.height, request.category_slug, request.variant
        )
    return ProviderImage(
        data=encode_png(image), width=tier.width, height=tier.height, model=MODEL, picture=image
    )


class OfflineProvider:
    """Always available; draws every tier at its exact size."""

    name = "offline"
    label = "Studio offline"
    model = MODEL
    known_models = (MODEL,)

    supports_negative_prompt = False
    supports_seed = False

    def __init__(self, settings: Settings | None = None) -> None:
        pass

    def is_configured(self) -> bool:
        return True

    def unavailable_tiers(self, model: str = "") -> dict[str, str]:
        return {}

    def edit_unavailable(self, model: str = "") -> str:
        return ""

    async def check_model(self, model: str) -> None:
        if model not in self.known_models:
            raise ModelUnavailable(f"the offline provider draws only with {MODEL}")

    async def generate(self, request: ImageRequest) -> ProviderImage:
        # Drawing is CPU work: keep the event loop free for other users.
        return await asyncio.to_thread(_render_png, request)
