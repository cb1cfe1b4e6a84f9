"""The offline provider's edits: a real change of the source picture, chosen by the
prompt's words, so that the whole edit flow works and shows without keys.

Words it knows (any of them, combined in this order): black and white, sepia/vintage,
sketch/pencil, poster/pop art/comic, invert/negative, blur/dreamy, sharpen, brighter,
darker/night, vivid/colourful, mirror/flip, and colour names (a tint). A prompt with none
of them gets a tint of its own, so an edit always changes the picture. The prompt's first
words are written on it, as on a generated image.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from collections.abc import Callable

from PIL import Image, ImageEnhance, ImageFilter, ImageOps

_Effect = Callable[[Image.Image], Image.Image]

COLOUR_HUES = {
    "red": 0,
    "orange": 28,
    "gold": 45,
    "golden": 45,
    "yellow": 55,
    "green": 120,
    "teal": 175,
    "cyan": 185,
    "blue": 220,
    "purple": 275,
    "violet": 275,
    "pink": 325,
    "magenta": 310,
}
TINT_STRENGTH = 0.38


def _grayscale(picture: Image.Image) -> Image.Image:
    return ImageOps.grayscale(picture).convert("RGB")


def _sepia(picture: Image.Image) -> Image.Image:
    return ImageOps.colorize(ImageOps.grayscale(picture), "#2b1d0e", "#f3e2c3")


def _sketch(picture: Image.Image) -> Image.Image:
    edges = ImageOps.grayscale(picture).filter(ImageFilter.FIND_EDGES)
    return ImageOps.invert(ImageOps.autocontrast(edges)).convert("RGB")


def _poster(picture: Image.Image) -> Image.Image:
    return ImageEnhance.Color(ImageOps.posterize(picture, 3)).enhance(1.5)


def _blur(picture: Image.Image) -> Image.Image:
    return picture.filter(ImageFilter.GaussianBlur(max(2, picture.width // 150)))


def _tint(hue: float, strength: float = TINT_STRENGTH) -> _Effect:
    r, g, b = colorsys.hsv_to_rgb((hue % 360) / 360, 0.85, 1.0)
    colour = (int(r * 255), int(g * 255), int(b * 255))

    def tint(picture: Image.Image) -> Image.Image:
        return Image.blend(picture, Image.new("RGB", picture.size, colour), strength)

    return tint


# (words, effect), applied in this order when the prompt has one of the words.
_EFFECTS: list[tuple[tuple[str, ...], _Effect]] = [
    (("black and white", "grayscale", "greyscale", "monochrome", "b&w"), _grayscale),
    (("sepia", "vintage", "old photo", "retro"), _sepia),
    (("sketch", "pencil", "drawing", "outline"), _sketch),
    (("poster", "pop art", "comic"), _poster),
    (("invert", "negative"), ImageOps.invert),
    (("blur", "dreamy", "soft focus"), _blur),
    (("sharpen", "sharper", "crisp"), lambda p: p.filter(ImageFilter.SHARPEN)),
    (
        ("brighter", "bright", "lighter", "sunny"),
        lambda p: ImageEnhance.Brightness(p).enhance(1.35),
    ),
    (("darker", "dark", "night", "moody"), lambda p: ImageEnhance.Brightness(p).enhance(0.6)),
    (("vivid", "colourful", "colorful", "saturated"), lambda p: ImageEnhance.Color(p).enhance(1.7)),
    (("mirror", "flip"), ImageOps.mirror),
]


def _has(prompt: str, phrase: str) -> bool:
    return re.search(rf"(?<![\w&]){re.escape(phrase)}(?![\w&])", prompt) is not None


def effects_for(prompt: str, variant: int = 0) -> list[_Effect]:
    """What an edit with this prompt does to a picture (never nothing)."""
    text = prompt.lower()
    chosen = [effect for words, effect in _EFFECTS if any(_has(text, w) for w in words)]
    hues = [hue for word, hue in COLOUR_HUES.items() if _has(text, word)]
    if hues:
        chosen.append(_tint(hues[0] + variant * 25))
    elif not chosen or variant:
        # Nothing it knows (or another image of the request): a tint of the prompt's own.
        digest = hashlib.sha256(f"{prompt}\n{variant}".encode()).digest()
        chosen.append(_tint(digest[0] * 360 / 255, 0.3))
    return chosen


def apply(picture: Image.Image, prompt: str, variant: int = 0) -> Image.Image:
    """The edited picture (RGB, the source's size); `picture` is left as it was."""
    edited = picture.convert("RGB")
    for effect in effects_for(prompt, variant):
        edited = effect(edited)
    return edited
