"""Drawing a layout: background, decoration, product cards, text and button. Pure Pillow."""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

from shared.compose.colors import NAMED, RGB, dominant_colour, hex_to_rgb
from shared.compose.layouts import Box, Layout, TextLine, build_layout
from shared.compose.scaling import Tiles, paste_card, paste_cutout, scale_photo, scale_product
from shared.compose.styles import Theme, make_theme
from shared.events import CampaignEvent

if TYPE_CHECKING:
    from shared.plan import CreativePlan

FALLBACK_BASE: RGB = (37, 99, 235)


def base_colour(plan: CreativePlan, product_images: list[Image.Image], event: CampaignEvent) -> RGB:
    """The colour a creative is built around: the brand's, else the product's, else the word's."""
    if event.brand is not None:
        return hex_to_rgb(event.brand.primary_color)
    if product_images:
        found = dominant_colour(_on_white(product_images[0]))
        if found is not None:
            return found
    return NAMED.get(plan.accent, FALLBACK_BASE)


def _on_white(image: Image.Image) -> Image.Image:
    """A photo cut-out flattened on white, so its transparent pixels' colour does not count."""
    if image.mode != "RGBA":
        return image
    flat = Image.new("RGB", image.size, (255, 255, 255))
    flat.paste(image, (0, 0), image.getchannel("A"))
    return flat


def _pad(box: Box, p: int) -> Box:
    return box[0] - p, box[1] - p, box[2] + p, box[3] + p


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _ribbon(w: int, h: int, keep_out: list[Box]) -> tuple[Box, Image.Image] | None:
    """Mask of a diagonal ribbon across the top-right corner, the widest that misses every
    element, cropped to the corner it lies in (pasting the whole canvas' mask cost ~15 ms
    for a 1080x1080 creative, nearly all of it on zeros); None when even a thin one would
    touch an element."""
    band = max(6, min(w, h) // 9)
    while band >= 4:
        mask = Image.new("L", (w, h), 0)
        ImageDraw.Draw(mask).polygon(
            [(w - 3 * band, 0), (w - 2 * band, 0), (w, 2 * band), (w, 3 * band)], fill=255
        )
        if not any(mask.crop(box).getbbox() for box in keep_out):
            corner = (max(0, w - 3 * band), 0, w, min(h, 3 * band + 1))
            return corner, mask.crop(corner)
        band = band * 3 // 4
    return None


def _decorate(canvas: Image.Image, layout: Layout, theme: Theme, seed: int) -> None:
    """Seasonal ribbon and confetti, kept off every element so text sits on plain ground."""
    w, h = canvas.size
    pad = max(3, layout.shadow * 2)
    keep_out = [_pad(e.box, pad) for e in layout.elements]
    ribbon = _ribbon(w, h, keep_out)
    if ribbon is not None:
        corner, mask = ribbon
        canvas.paste(theme.confetti[0], corner, mask)
    draw = ImageDraw.Draw(canvas)
    rng = random.Random(seed)
    unit = max(2, min(w, h) // 60)
    for _ in range(max(12, w * h // 8000)):
        x, y, r = rng.randrange(w), rng.randrange(h), rng.randint(max(1, unit // 2), unit)
        colour = rng.choice(theme.confetti)
        dot = (x - r, y - r, x + r, y + r)
        if not any(_overlaps(dot, box) for box in keep_out):
            draw.ellipse(dot, fill=colour)


def render_layout(
    layout: Layout,
    theme: Theme,
    product_images: list[Image.Image],
    seed: int = 0,
    tiles: Tiles | None = None,
) -> Image.Image:
    canvas = draw_ground(layout, theme, seed)
    paste_products(canvas, layout, theme, product_images, tiles)
    draw_text(canvas, layout, theme)
    return canvas


# The three layers of a creative, bottom to top. shared.compose.parts_cache keeps the first and
# last of them per layout and theme, and pastes only the products per creative.
def draw_ground(layout: Layout, theme: Theme, seed: int) -> Image.Image:
    """Background and decoration."""
    canvas = Image.new("RGB", (layout.width, layout.height), theme.background)
    if theme.confetti:
        _decorate(canvas, layout, theme, seed)
    return canvas


def paste_products(
    canvas: Image.Image,
    layout: Layout,
    theme: Theme,
    product_images: list[Image.Image],
    tiles: Tiles | None = None,
) -> None:
    """`tiles`: product images already scaled to their side (the device stage); any tile not
    in it is scaled here."""
    for element in layout.elements:
        if element.image_index >= 0:
            x0, y0, x1, y1 = element.box
            image = product_images[element.image_index]
            if image.mode == "RGBA":  # a shop's photo cut-out: its own shape, no card
                photo = scale_photo(image, x1 - x0)
                paste_cutout(canvas, photo, (x0, y0), layout.shadow, theme.shadow)
                continue
            tile = tiles.get((element.image_index, x1 - x0)) if tiles else None
            if tile is None:
                tile = scale_product(image, x1 - x0)
            paste_card(canvas, tile, (x0, y0), layout.tiles_radius, layout.shadow, theme.shadow)


def draw_text(canvas: Image.Image, layout: Layout, theme: Theme, ink: int | None = None) -> None:
    """Text and button. `ink`: draw everything in that one value (a coverage mask on "L")."""
    draw = ImageDraw.Draw(canvas)
    for element in layout.text_elements:
        assert element.font is not None
        font = element.font.at(element.size)
        fg, _bg = theme.colours(element.kind)
        if element.kind == "cta":
            draw.rounded_rectangle(
                element.box, layout.radius, fill=theme.cta_fill if ink is None else ink
            )
        for line in element.lines:
            draw.text(
                (line.x, line.y),
                line.text,
                font=font,
                fill=fg if ink is None else ink,
                anchor=line.anchor,
            )


# A layout's text and button as coverage masks, in drawing order: (colour role, top-left, mask).
# The role is an element kind (its text colour) or BUTTON (the button's fill).
TextLayer = tuple[tuple[str, tuple[int, int], Image.Image], ...]
BUTTON = "button"


def text_layer(layout: Layout) -> TextLayer:
    """What `draw_text` draws, as one mask per button and per line of text, each cropped to
    its ink. It depends on the layout only, not on the colours, so shared.compose.parts_cache
    keeps one per layout and `paint_text` fills it with any theme's colours."""
    out: list[tuple[str, tuple[int, int], Image.Image]] = []
    for element in layout.text_elements:
        assert element.font is not None
        font = element.font.at(element.size)
        if element.kind == "cta":
            x0, y0, x1, y1 = element.box
            mask = Image.new("L", (x1 - x0 + 1, y1 - y0 + 1), 0)  # the box's corners inclusive
            ImageDraw.Draw(mask).rounded_rectangle(
                (0, 0, x1 - x0, y1 - y0), layout.radius, fill=255
            )
            out.append((BUTTON, (x0, y0), mask))
        for line in element.lines:
            found = _line_mask(font, line, pad=2 + element.size)
            if found is not None:
                out.append((element.kind, *found))
    return tuple(out)


def _line_mask(
    font: ImageFont.FreeTypeFont, line: TextLine, pad: int
) -> tuple[tuple[int, int], Image.Image] | None:
    """The line's coverage, cropped to its ink, and where it goes; None for a line with no
    ink. `pad` is room for ink outside the advance box (italics, marks); doubled if short."""
    left, top, right, bottom = font.getbbox(line.text, anchor=line.anchor)
    ox, oy = pad - math.floor(left), pad - math.floor(top)
    size = (math.ceil(right) + ox + pad, math.ceil(bottom) + oy + pad)
    scratch = Image.new("L", size, 0)
    ImageDraw.Draw(scratch).text((ox, oy), line.text, font=font, fill=255, anchor=line.anchor)
    ink = scratch.getbbox()
    if ink is None:
        return None
    if min(ink[:2]) == 0 or ink[2] == size[0] or ink[3] == size[1]:
        return _line_mask(font, line, pad * 2)  # the ink reached the scratch's edge
    return (line.x - ox + ink[0], line.y - oy + ink[1]), scratch.crop(ink)


def paint_text(canvas: Image.Image, layer: TextLayer, theme: Theme) -> None:
    """`draw_text`'s pixels from the layout's masks: each filled with its colour, in order
    (Pillow draws text by the same masked fill, so the bytes are the same)."""
    for role, (x, y), mask in layer:
        colour = theme.cta_fill if role == BUTTON else theme.colours(role)[0]
        canvas.paste(colour, (x, y, x + mask.width, y + mask.height), mask)


def compose_with_layout(
    plan: CreativePlan, product_images: list[Image.Image], event: CampaignEvent
) -> tuple[Image.Image, Layout, Theme]:
    """The creative plus the layout and theme it was drawn from (for tests and the preview)."""
    if len(product_images) != len(plan.image_keys):
        raise ValueError(
            f"plan {plan.creative_id} shows {len(plan.image_keys)} images, "
            f"got {len(product_images)}"
        )
    layout = build_layout(plan, len(product_images))
    theme = make_theme(plan.style, base_colour(plan, product_images, event), event.brand)
    return render_layout(layout, theme, product_images, plan.seed), layout, theme


def compose_creative(
    plan: CreativePlan, product_images: list[Image.Image], event: CampaignEvent
) -> Image.Image:
    """The finished creative: RGB, exactly the placement's width x height."""
    return compose_with_layout(plan, product_images, event)[0]
