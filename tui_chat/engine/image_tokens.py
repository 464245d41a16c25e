"""What an image costs in prompt tokens, by OpenAI's published tile rule.

High detail: the image is fitted within 2048x2048, then scaled down so its shortest side is
768 px, then counted in 512 px tiles: a base cost plus a cost per tile (gpt-4o, gpt-4.1,
gpt-4.5, o1, o3: 85 + 170 per tile; gpt-4o-mini: 2833 + 5667 per tile). Low detail is the
base cost alone. Other models (local vision models, and OpenAI's patch-counted minis) are
counted with the gpt-4o rule and marked approximate.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

ImageDetail = Literal["auto", "low", "high"]


@dataclass(frozen=True)
class TileRule:
    """Tokens for an image: `base` plus `per_tile` for each 512 px tile."""

    base: int
    per_tile: int


GPT_4O_RULE = TileRule(base=85, per_tile=170)
GPT_4O_MINI_RULE = TileRule(base=2833, per_tile=5667)

_MINI = re.compile(r"^gpt-4o-mini\b")
# The families OpenAI documents with the 85 + 170 rule; their -mini/-nano siblings differ.
_TILED = re.compile(r"^(gpt-4o|gpt-4\.1|gpt-4\.5|o1|o3)(?!-(mini|nano))\b")


def tile_rule_for(model: str) -> tuple[TileRule, bool]:
    """The rule `model`'s images are counted with, and whether it is only a guess."""
    name = model.rsplit("/", 1)[-1].lower()  # "openai/gpt-4o" on OpenRouter
    if _MINI.match(name):
        return GPT_4O_MINI_RULE, False
    if _TILED.match(name):
        return GPT_4O_RULE, False
    return GPT_4O_RULE, True


def tile_count(width: int, height: int) -> int:
    """512 px tiles of an image of `width` x `height` after the high-detail scaling."""
    if width <= 0 or height <= 0:
        return 1
    fitted = min(1.0, 2048 / max(width, height))
    shortest = min(1.0, 768 / (min(width, height) * fitted))
    scale = fitted * shortest
    return math.ceil(width * scale / 512) * math.ceil(height * scale / 512)


def image_tokens(
    width: int, height: int, model: str, detail: ImageDetail = "auto"
) -> tuple[int, bool]:
    """Prompt tokens for an image sent to `model`, and whether the figure is approximate.

    `auto` is counted as high detail, what the API picks for all but small images."""
    rule, guessed = tile_rule_for(model)
    if detail == "low":
        return rule.base, guessed
    return rule.base + rule.per_tile * tile_count(width, height), guessed
