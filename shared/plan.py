"""The planning types: what a plan for an event is made of. Data only, no logic.

Planning (shared.personalize) produces these and drawing (shared.compose), scoring and the
pipeline consume them; keeping them here lets each side import the types without importing the
other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_TONE_NAME = "general"  # the tone of audiences no keyword matches


@dataclass(frozen=True)
class Tone:
    name: str
    keywords: tuple[str, ...]  # matched against the segment, then the interests
    palette: tuple[str, ...]  # prompt colours, one per variant in turn
    kicker: str  # English line above the headline; other languages use a neutral phrase
    serif: bool = False
    pill: bool = True  # rounded "pill" buttons vs squared ones


@dataclass(frozen=True)
class ImageRequest:
    """One generator sample: a prompt and its seed. `key` = (variant, image index); indices
    below len(event.products) are the event's products, the rest are cart complements."""

    key: tuple[int, int]
    prompt: str
    seed: int


@dataclass(frozen=True)
class AdCopy:
    headline: str
    price: str
    cta: str
    brand: str
    tagline: str = ""
    kicker: str = ""  # small line above the headline ("Complete your order", tone line)


@dataclass(frozen=True)
class CreativePlan:
    index: int
    creative_id: str
    size: str
    variant: int
    variant_name: str
    style: str
    image_keys: tuple[tuple[int, int], ...]
    copy: AdCopy
    products: tuple[str, ...]  # SKUs shown
    ad_type: str = "product_display"
    prompts: tuple[str, ...] = ()  # one per image key, in order
    complements: tuple[str, ...] = ()  # titles of complement images shown (cart)
    template: str = ""  # banner | skyscraper | split | square
    arrangement: str = "single"  # single | hero+complements | strip | grid | stack | family
    tone: str = DEFAULT_TONE_NAME
    accent: str = ""  # the variant's colour word
    typeface: str = "sans"  # sans | serif (headline and brand)
    button: str = "pill"  # pill | square
    locale: str = "en-US"
    seed: int = 0  # for deterministic decoration (seasonal confetti)

    def as_record(self) -> dict[str, Any]:
        """What `dataclasses.asdict` gives, without its deep copy of every field (~1/10 of a
        1-creative event's compose stage in a worker's profile): every field is immutable,
        and the one nested dataclass (the copy) holds strings only."""
        out = dict(vars(self))
        out["copy"] = dict(vars(self.copy))
        return out


@dataclass(frozen=True)
class EventPlan:
    images: list[ImageRequest] = field(default_factory=list)
    creatives: list[CreativePlan] = field(default_factory=list)
