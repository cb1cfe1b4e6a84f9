"""What each Gemini image model draws: its documented pixel size per aspect ratio and image_size.

A Gemini image model does not take a width and height: it takes
`ImageConfig(aspect_ratio=..., image_size="1K"|"2K"|"4K")` and draws the one size Google's
table gives for that pair. So a tier is asked for with the smallest image_size whose
documented size has at least the tier's pixels; a tier no documented size reaches is
greyed out for that model (`unavailable_tiers`) instead of being sold and sent back small.

Source: "Aspect ratios and image size" in Google's image-generation guide,
https://ai.google.dev/gemini-api/docs/image-generation (the per-model tables, as reproduced
cell for cell by several projects the docs search found; Google's model pages agree on the
tiers: about 1 MP at 1K, 4 MP at 2K, 16 MP at 4K, e.g.
https://docs.cloud.google.com/vertex-ai/generative-ai/docs/models/gemini/3-1-flash-image).
Model ids from https://ai.google.dev/gemini-api/docs/deprecations: gemini-3.1-flash-image
and gemini-3-pro-image (both released 2026-05-28, no shutdown announced);
gemini-2.5-flash-image's shutdown date was 2026-10-02 (PLATFORM.md).
"""

from __future__ import annotations

from dataclasses import dataclass

Size = tuple[int, int]
# image_size sent → aspect ratio → (width, height). The key None means "no image_size sent":
# the only option of models that predate it.
SizeTable = dict[str | None, dict[str, Size]]

# Gemini 3 Pro Image and Gemini 3.1 Flash Image draw the same sizes for these ratios.
# (3.1 Flash also has a 512 px "0.5K" step; at about 0.26 MP no tier could use it.)
_GEMINI_3: SizeTable = {
    "1K": {
        "1:1": (1024, 1024),
        "2:3": (848, 1264),
        "3:2": (1264, 848),
        "3:4": (896, 1200),
        "4:3": (1200, 896),
        "4:5": (928, 1152),
        "5:4": (1152, 928),
        "9:16": (768, 1376),
        "16:9": (1376, 768),
        "21:9": (1584, 672),
    },
    "2K": {
        "1:1": (2048, 2048),
        "2:3": (1696, 2528),
        "3:2": (2528, 1696),
        "3:4": (1792, 2400),
        "4:3": (2400, 1792),
        "4:5": (1856, 2304),
        "5:4": (2304, 1856),
        "9:16": (1536, 2752),
        "16:9": (2752, 1536),
        "21:9": (3168, 1344),
    },
    "4K": {
        "1:1": (4096, 4096),
        "2:3": (3392, 5056),
        "3:2": (5056, 3392),
        "3:4": (3584, 4800),
        "4:3": (4800, 3584),
        "4:5": (3712, 4608),
        "5:4": (4608, 3712),
        "9:16": (3072, 5504),
        "16:9": (5504, 3072),
        "21:9": (6336, 2688),
    },
}
# Gemini 3.1 Flash Image's extra, extreme ratios.
_GEMINI_31_FLASH_EXTRA: SizeTable = {
    "1K": {"1:4": (512, 2048), "4:1": (2048, 512), "1:8": (384, 3072), "8:1": (3072, 384)},
    "2K": {"1:4": (1024, 4096), "4:1": (4096, 1024), "1:8": (768, 6144), "8:1": (6144, 768)},
    "4K": {"1:4": (2048, 8192), "4:1": (8192, 2048), "1:8": (1536, 12288), "8:1": (12288, 1536)},
}
# gemini-2.5-flash-image took no image_size: one size per ratio, about 1 MP.
_GEMINI_25_FLASH: SizeTable = {
    None: {
        "1:1": (1024, 1024),
        "2:3": (832, 1248),
        "3:2": (1248, 832),
        "3:4": (864, 1184),
        "4:3": (1184, 864),
        "4:5": (896, 1152),
        "5:4": (1152, 896),
        "9:16": (768, 1344),
        "16:9": (1344, 768),
        "21:9": (1536, 672),
    }
}

MODEL_SIZES: dict[str, SizeTable] = {
    "gemini-3.1-flash-image": {
        size: {**_GEMINI_3[size], **_GEMINI_31_FLASH_EXTRA[size]} for size in _GEMINI_3
    },
    "gemini-3-pro-image": _GEMINI_3,
    "gemini-2.5-flash-image": _GEMINI_25_FLASH,
}
# A model the table does not know (an id an admin typed): it may not take image_size, so
# nothing is sent and only the documented default is assumed: 1K, about 1 MP.
_UNKNOWN_MODEL: SizeTable = {None: _GEMINI_3["1K"]}


@dataclass(frozen=True)
class SizePlan:
    """What to ask a model for to get at least a tier's pixels, and what it will draw."""

    image_size: str | None  # None: send no image_size
    width: int
    height: int


def is_known(model: str) -> bool:
    return model in MODEL_SIZES


def table_for(model: str) -> SizeTable:
    return MODEL_SIZES.get(model, _UNKNOWN_MODEL)


def plan_for(model: str, aspect_ratio: str, width: int, height: int) -> SizePlan | None:
    """The smallest documented size of `aspect_ratio` with at least `width`×`height` pixels."""
    for image_size, by_ratio in table_for(model).items():  # smallest first
        size = by_ratio.get(aspect_ratio)
        if size is not None and size[0] * size[1] >= width * height:
            return SizePlan(image_size, *size)
    return None


def why_not(model: str, aspect_ratio: str, width: int, height: int) -> str | None:
    """Why `model` cannot draw `width`×`height` at `aspect_ratio` (None when it can)."""
    if plan_for(model, aspect_ratio, width, height) is not None:
        return None
    sizes = [r[aspect_ratio] for r in table_for(model).values() if aspect_ratio in r]
    if not sizes:
        return f"{model} cannot make {aspect_ratio} images"
    most = max(sizes, key=lambda size: size[0] * size[1])
    if not is_known(model):
        return (
            f"{model} is not in the studio's size table: only its default 1K size "
            f"({most[0]}×{most[1]} at {aspect_ratio}) is assumed"
        )
    return f"{model} makes at most {most[0]}×{most[1]} at {aspect_ratio}"
