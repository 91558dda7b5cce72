"""Where everything goes: element boxes and fitted text for a plan, computed without drawing.

Four templates (see templates.py): banner (image | text | button in one row), skyscraper and
square (images, text stack, button from top to bottom) and split (images left, text and button
right). Text shrinks together down to a comfortable floor, then optional lines are dropped in
`DROP_ORDER`; a headline still too long is ellipsised (docs/composition.md has the full rules).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from shared.compose.fonts import FontSpec, drawable, font_for
from shared.compose.templates import TINY_BANNER_HEIGHT, template_for
from shared.compose.text_fit import (
    FittedText,
    fit_at,
    fit_text,
    largest_unbroken_size,
    sizes_between,
    words_fit,
)
from shared.placements import get_placement

if TYPE_CHECKING:
    from shared.plan import CreativePlan

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)

# When space is short these go first, in this order; the headline, the button and the product
# image are never dropped (the headline is ellipsised instead).
DROP_ORDER = ("tagline", "kicker", "brand", "price")
# ... but these go only when even a headline ellipsised to fewer lines leaves no room for them.
KEEP_OVER_HEADLINE = ("price",)
STACK_ORDER = ("brand", "kicker", "headline", "price", "tagline")  # top to bottom
MIN_SIZE = {"headline": 10, "cta": 9}  # px; below this text stops being legible
MIN_SIZE_DEFAULT = 9
TINY_KINDS = ("headline", "price")  # all a 320x50 banner has room for beside image and button
COMFORT = 0.7  # share of its design size an element may shrink to before others are dropped


@dataclass(frozen=True)
class TextLine:
    text: str
    x: int
    y: int
    anchor: str  # Pillow text anchor; "la": x is the pen origin, y the ascender line


@dataclass(frozen=True)
class Element:
    kind: str  # product | complement | brand | kicker | headline | price | tagline | cta
    box: Box
    lines: tuple[TextLine, ...] = ()
    font: FontSpec | None = None
    size: int = 0
    image_index: int = -1
    truncated: bool = False


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    template: str
    arrangement: str
    elements: tuple[Element, ...]
    dropped: tuple[str, ...] = ()
    radius: int = 0  # button corner radius
    tiles_radius: int = 0
    shadow: int = 0

    @property
    def kinds(self) -> list[str]:
        return [e.kind for e in self.elements]

    def get(self, kind: str) -> Element | None:
        return next((e for e in self.elements if e.kind == kind), None)

    @property
    def text_elements(self) -> list[Element]:
        return [e for e in self.elements if e.lines]


@dataclass(frozen=True)
class _Item:
    kind: str
    text: str
    bold: bool
    size: int
    max_lines: int
    min_size: int = MIN_SIZE_DEFAULT


# --- text stack -----------------------------------------------------------------------------


def _spec(item: _Item, locale: str, serif: bool) -> FontSpec:
    return font_for(item.text, locale, item.bold, serif and item.kind in ("headline", "brand"))


def _legible(item: _Item) -> int:
    return min(item.min_size, MIN_SIZE.get(item.kind, MIN_SIZE_DEFAULT))


def _fit_at_scale(
    items: list[_Item],
    scale: float,
    width: int,
    height: int,
    gap: int,
    locale: str,
    serif: bool,
    squeeze: bool = False,
) -> list[FittedText] | None:
    """Every item wrapped at `scale` of its size (not below its floor), or None when they do
    not fit. With `squeeze`, a headline that needs an ellipsis gets only the height the other
    items leave, so it loses lines (ends with "…" sooner) instead of pushing them out."""
    fitted: dict[int, FittedText] = {}
    pending: list[int] = []
    for i, item in enumerate(items):
        size = max(item.min_size, round(item.size * scale))
        f = fit_at(_spec(item, locale, serif), item.text, size, width, item.max_lines)
        if item.kind == "headline" and size == item.min_size and (f is None or squeeze):
            pending.append(i)  # ellipsised below, once the others' height is known
            continue
        if f is None:
            return None
        fitted[i] = f
    for i in pending:
        # A long title is cut with an ellipsis rather than shrunk below its floor; a word
        # too wide for the floor fails here so the legibility pass can shrink it instead,
        # unless it is too wide even at the legibility floor ("Geschirrspülmaschinentabs" in
        # a 160 px column): then no pass could keep it whole, and it is broken between
        # letters here rather than costing the price and brand their place.
        item = items[i]
        spec = _spec(item, locale, serif)
        room = height
        if squeeze:
            room -= sum(f.height for f in fitted.values()) + gap * (len(items) - 1)
        f = fit_text(
            spec,
            item.text,
            width,
            room,
            item.min_size,
            item.min_size,
            item.max_lines,
            break_words=not words_fit(spec, item.text, width, _legible(item)),
        )
        if f is None:
            return None
        fitted[i] = f
    out = [fitted[i] for i in range(len(items))]
    return out if sum(f.height for f in out) + gap * (len(out) - 1) <= height else None


def _try_fit(
    items: list[_Item],
    width: int,
    height: int,
    gap: int,
    locale: str,
    serif: bool,
    squeeze: bool = False,
) -> list[FittedText] | None:
    """All items at the largest common scale (steps of 7 %) at which they fit, or None.

    Scales are bisected: fitting is monotonic in size for practical purposes, and a linear
    walk re-wraps every item up to twenty times."""
    scales = [1.0]
    while any(round(item.size * scales[-1]) > item.min_size for item in items):
        scales.append(scales[-1] * 0.93)
    lo, hi, best = 0, len(scales) - 1, None  # find the first (largest) scale that fits
    fits_last = _fit_at_scale(items, scales[hi], width, height, gap, locale, serif, squeeze)
    if fits_last is None:
        return None
    best, hi = fits_last, hi - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        fitted = _fit_at_scale(items, scales[mid], width, height, gap, locale, serif, squeeze)
        if fitted is None:
            lo = mid + 1
        else:
            best, hi = fitted, mid - 1
    return best


def _fit_dropping(
    items: list[_Item], box: Box, gap: int, locale: str, serif: bool
) -> tuple[list[_Item], list[FittedText] | None, list[str]]:
    width, height = box[2] - box[0], box[3] - box[1]
    active, dropped = list(items), list[str]()
    while True:
        fitted = _try_fit(active, width, height, gap, locale, serif) if width > 0 else None
        droppable = [k for k in DROP_ORDER if any(i.kind == k for i in active)]
        if fitted is None and width > 0 and droppable and droppable[0] in KEEP_OVER_HEADLINE:
            # The price stays if a shorter headline makes room for it: a long (often CJK)
            # title ellipsised to fewer lines rather than an ad without its price.
            fitted = _try_fit(active, width, height, gap, locale, serif, squeeze=True)
        if fitted is not None or not droppable:
            return active, fitted, dropped
        active = [i for i in active if i.kind != droppable[0]]
        dropped.append(droppable[0])


def _comfort_floor(item: _Item, width: int, comfort: float, locale: str, serif: bool) -> int:
    """`comfort` of the design size, or lower (not below the legibility floor) where a single
    long word needs it: "Lightweight" shrinks to fit a narrow column instead of forcing the
    whole stack down to the minimum sizes."""
    floor = max(item.min_size, round(item.size * comfort))
    if width <= 0:
        return floor
    return min(
        floor,
        largest_unbroken_size(_spec(item, locale, serif), item.text, width, floor, item.min_size),
    )


def fit_stack(
    items: list[_Item],
    box: Box,
    gap: int,
    locale: str,
    serif: bool,
    align: str,
    comfort: float = COMFORT,
) -> tuple[list[Element], list[str]]:
    """Fit the items into `box`, centred vertically.

    First every item may shrink only to `comfort` of its size, dropping optional items in
    DROP_ORDER; if even the headline alone does not fit that way, again down to the legibility
    minimums; last, the headline is ellipsised.
    """
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    comfy = [replace(i, min_size=_comfort_floor(i, width, comfort, locale, serif)) for i in items]
    active, fitted, dropped = _fit_dropping(comfy, box, gap, locale, serif)
    if fitted is None:
        active, fitted, dropped = _fit_dropping(items, box, gap, locale, serif)
    if fitted is None:  # only the headline is left and even it is too long: ellipsise
        head = next((i for i in items if i.kind == "headline"), None)
        last = (
            fit_text(
                _spec(head, locale, serif),
                head.text,
                width,
                height,
                head.size,
                head.min_size,
                head.max_lines,
            )
            if head and width > 0
            else None
        )
        if head is None or last is None:
            return [], dropped + [i.kind for i in active]
        fitted, active = [last], [head]
    total = sum(f.height for f in fitted) + gap * (len(fitted) - 1)
    y = y0 + (height - total) // 2
    elements = []
    for item, f in zip(active, fitted, strict=True):
        lines, left, right = place_lines(f, x0, x1, y, align)
        elements.append(
            Element(
                item.kind,
                (left, y, right, y + f.height),
                lines,
                f.font,
                f.size,
                truncated=f.truncated,
            )
        )
        y += f.height + gap
    return elements, dropped


def place_lines(
    f: FittedText, x0: int, x1: int, y: int, align: str
) -> tuple[tuple[TextLine, ...], int, int]:
    """Lines of `f` drawn from y, left-aligned at x0 or centred in [x0, x1) by their ink (not
    their advance, which puts accents and italics a pixel off). Returns lines and ink x-range."""
    font = f.font.at(f.size)
    lines, lefts, rights = [], [], []
    for i, text in enumerate(f.lines):
        left, _t, right, _b = font.getbbox(text, anchor="la")
        if align == "left":
            x = x0 - min(0, math.floor(left))
        else:
            x = (x0 + x1) // 2 - math.floor((left + right) / 2)
        x = max(x0 - math.floor(left), min(x, x1 - math.ceil(right)))  # never leave the box
        lines.append(TextLine(text, x, y + f.top + i * f.line_height, "la"))
        lefts.append(x + math.floor(left))
        rights.append(x + math.ceil(right))
    return tuple(lines), min(lefts), max(rights)


def _clean(text: str, locale: str, bold: bool, serif: bool) -> str:
    return drawable(text, font_for(text, locale, bold, serif))


def _items(plan: CreativePlan, unit: float, headline_lines: int) -> list[_Item]:
    copy, serif = plan.copy, plan.typeface == "serif"
    big = 1.25 if plan.style == "bold" else 1.0
    texts = {
        "brand": copy.brand if copy.brand != copy.headline else "",
        "kicker": copy.kicker,
        "headline": copy.headline,
        "price": copy.price,
        "tagline": copy.tagline if copy.tagline != copy.headline else "",
    }
    spec = {
        "brand": (True, 0.8, 1),
        "kicker": (False, 0.8, 1),
        "headline": (True, 1.6 * big, headline_lines),
        "price": (True, 1.2, 1),
        "tagline": (False, 0.85, 2),
    }
    items = []
    for kind in STACK_ORDER:
        bold, rel, lines = spec[kind]
        text = _clean(texts[kind], plan.locale, bold, serif and kind in ("headline", "brand"))
        if not text and kind == "headline":  # an empty (or all-emoji) title still gets one
            text = _clean(copy.brand, plan.locale, bold, serif) or "—"
        if text:
            items.append(
                _Item(
                    kind,
                    text,
                    bold,
                    max(MIN_SIZE.get(kind, MIN_SIZE_DEFAULT), round(unit * rel)),
                    lines,
                    MIN_SIZE.get(kind, MIN_SIZE_DEFAULT),
                )
            )
    return items


# --- button ---------------------------------------------------------------------------------


def fit_button(
    text: str, locale: str, size: int, max_w: int, max_h: int
) -> tuple[int, int, int, FittedText]:
    """(width, height, vertical padding, fitted text) of a one-line button within max_w x max_h.
    Shrinks the type until the button fits; ellipsises only at the minimum size."""
    spec = font_for(text, locale, bold=True)
    text = drawable(text, spec) or "→"
    for s in sizes_between(max(size, MIN_SIZE["cta"]), MIN_SIZE["cta"]):
        pad_x, pad_y = max(4, round(s * 0.9)), max(2, round(s * 0.45))
        fitted = fit_text(spec, text, max_w - 2 * pad_x, max_h, s, s, 1)
        if fitted is None:
            continue
        pad_y = max(0, min(pad_y, (max_h - fitted.height) // 2))
        if not fitted.truncated or s == MIN_SIZE["cta"]:
            return fitted.width + 2 * pad_x, fitted.height + 2 * pad_y, pad_y, fitted
    raise ValueError(f"button text {text!r} cannot fit {max_w}x{max_h}")


def _button_element(
    text: str, locale: str, size: int, box: Box, full_width: bool, align: str
) -> Element:
    x0, y0, x1, y1 = box
    w, h, pad_y, fitted = fit_button(text, locale, size, x1 - x0, y1 - y0)
    if full_width:
        w = x1 - x0
    bx = {"left": x0, "right": x1 - w}.get(align, x0 + (x1 - x0 - w) // 2)
    by = y0 + (y1 - y0 - h) // 2
    lines, _left, _right = place_lines(fitted, bx, bx + w, by + pad_y, "center")
    return Element(
        "cta", (bx, by, bx + w, by + h), lines, fitted.font, fitted.size, truncated=fitted.truncated
    )


# --- product tiles --------------------------------------------------------------------------


def _grid(region: Box, n: int, cols: int, gap: int) -> tuple[int, list[Box]]:
    x0, y0, x1, y1 = region
    rows = math.ceil(n / cols)
    side = min((x1 - x0 - gap * (cols - 1)) // cols, (y1 - y0 - gap * (rows - 1)) // rows)
    boxes = [(x0 + (i % cols) * (side + gap), y0 + (i // cols) * (side + gap)) for i in range(n)]
    return side, [(x, y, x + side, y + side) for x, y in boxes]


def _hero(region: Box, n: int, gap: int) -> tuple[int, list[Box]]:
    """A big tile for the cart item and smaller ones for complements: in a row or below."""
    x0, y0, x1, y1 = region
    w, h, k = x1 - x0, y1 - y0, n - 1
    row_hero = min(h, int((w - k * gap) / (1 + 0.55 * k)))
    col_hero = min(w, int((h - gap) / (1 + 1 / k) - gap / 2))
    if row_hero >= col_hero:
        small = int(row_hero * 0.55)
        boxes = [(x0, y0, x0 + row_hero, y0 + row_hero)]
        x = x0 + row_hero + gap
        for _ in range(k):
            boxes.append((x, y0 + row_hero - small, x + small, y0 + row_hero))
            x += small + gap
        return row_hero, boxes
    small = (col_hero - gap * (k - 1)) // k
    boxes = [(x0, y0, x0 + col_hero, y0 + col_hero)]
    boxes += [
        (
            x0 + i * (small + gap),
            y0 + col_hero + gap,
            x0 + i * (small + gap) + small,
            y0 + col_hero + gap + small,
        )
        for i in range(k)
    ]
    return col_hero, boxes


def tile_boxes(region: Box, n: int, arrangement: str, gap: int, align: str = "center") -> list[Box]:
    """Square tiles for n images inside `region`, the block centred (or left-aligned)."""
    if n == 0:
        return []
    if arrangement == "hero+complements" and n > 1:
        _side, boxes = _hero(region, n, gap)
    else:
        allowed = {"strip": (n,), "stack": (1, 2), "single": (1,)}.get(
            arrangement, tuple(sorted({n, 1, 2}))
        )
        _side, boxes = max(
            (_grid(region, n, cols, gap) for cols in allowed if cols <= n), key=lambda r: r[0]
        )
    bx0 = min(b[0] for b in boxes)
    by0 = min(b[1] for b in boxes)
    bw, bh = max(b[2] for b in boxes) - bx0, max(b[3] for b in boxes) - by0
    dx = region[0] - bx0 if align == "left" else region[0] + (region[2] - region[0] - bw) // 2 - bx0
    dy = region[1] + (region[3] - region[1] - bh) // 2 - by0
    return [(b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy) for b in boxes]


def _tiles(plan: CreativePlan, boxes: list[Box]) -> list[Element]:
    n_products = len(plan.products)
    return [
        Element("product" if i < n_products else "complement", box, image_index=i)
        for i, box in enumerate(boxes)
    ]


# --- templates ------------------------------------------------------------------------------


def _banner(plan: CreativePlan, w: int, h: int, n: int) -> tuple[list[Element], list[str]]:
    m = max(4, round(h * 0.08))
    gap = max(4, m)
    h_in = h - 2 * m
    tiny = h < TINY_BANNER_HEIGHT
    # A mobile banner's design sizes are larger relative to its height, so that comfortable
    # type leaves room for the headline and price only (the other lines are dropped).
    unit = h_in * (0.3 if tiny else 0.2)
    slots = 1 + (n - 1) * 0.55 if plan.arrangement == "hero+complements" else n
    image_region = (m, m, m + int(h_in * slots + gap * (n - 1)), h - m)
    tiles = tile_boxes(image_region, n, plan.arrangement, gap // 2 if n > 2 else gap, "left")
    right_of_tiles = max(b[2] for b in tiles) if tiles else m
    cta = _button_element(
        plan.copy.cta,
        plan.locale,
        round(unit * (0.85 if tiny else 1.05)),
        (right_of_tiles + gap, m, w - m, h - m),
        False,
        "right",
    )
    stack_box = (right_of_tiles + gap + m, m, cta.box[0] - gap - m // 2, h - m)
    items = _items(plan, unit, 1 if tiny else 2)
    if tiny:  # a mobile banner carries headline and price only, by design
        items = [i for i in items if i.kind in TINY_KINDS]
    text, dropped = fit_stack(
        items,
        stack_box,
        max(1, round(unit * 0.2)),
        plan.locale,
        plan.typeface == "serif",
        "left",
        comfort=0.6 if tiny else COMFORT,
    )
    return [*_tiles(plan, tiles), *text, cta], dropped


def _vertical(
    plan: CreativePlan, w: int, h: int, n: int, image_share: float, full_button: bool
) -> tuple[list[Element], list[str]]:
    m = max(8, round(min(w, h) * 0.06))
    gap = max(6, round(m * 0.6))
    w_in, h_in = w - 2 * m, h - 2 * m
    unit = w_in * (0.11 if w < h else 0.045)
    image_h = min(w_in, int(h_in * image_share)) if n == 1 else int(h_in * image_share)
    tiles = tile_boxes((m, m, w - m, m + image_h), n, plan.arrangement, gap)
    image_bottom = max(b[3] for b in tiles) if tiles else m
    cta_h_max = max(24, round(unit * 2.6))
    cta = _button_element(
        plan.copy.cta,
        plan.locale,
        round(unit * 1.1),
        (m, h - m - cta_h_max, w - m, h - m),
        full_button,
        "center",
    )
    stack_box = (m, image_bottom + gap, w - m, cta.box[1] - gap)
    text, dropped = fit_stack(
        _items(plan, unit, 5 if w < h else 2),
        stack_box,
        max(2, round(unit * 0.35)),
        plan.locale,
        plan.typeface == "serif",
        "center",
    )
    # Text directly under the images, and the two together centred above the button, rather
    # than a gap between picture and words.
    above = min((e.box[1] for e in text), default=stack_box[1]) - stack_box[1]
    below = stack_box[3] - max((e.box[3] for e in text), default=stack_box[3])
    text = [_shift(e, -above) for e in text]
    group = [*_tiles(plan, tiles), *text]
    return [*(_shift(e, (above + below) // 2) for e in group), cta], dropped


def _shift(element: Element, dy: int) -> Element:
    x0, y0, x1, y1 = element.box
    return replace(
        element,
        box=(x0, y0 + dy, x1, y1 + dy),
        lines=tuple(replace(line, y=line.y + dy) for line in element.lines),
    )


def _split(plan: CreativePlan, w: int, h: int, n: int) -> tuple[list[Element], list[str]]:
    m = max(8, round(min(w, h) * 0.06))
    gap = max(6, round(m * 0.6))
    share = 0.46 if n == 1 else 0.52
    image_region = (m, m, m + int((w - 2 * m) * share), h - m)
    tiles = tile_boxes(image_region, n, plan.arrangement, gap)
    col_x0 = max(b[2] for b in tiles) + gap + m // 2 if tiles else m
    unit = (w - m - col_x0) * 0.085
    cta_h_max = max(24, round(unit * 2.6))
    cta = _button_element(
        plan.copy.cta,
        plan.locale,
        round(unit * 1.1),
        (col_x0, h - m - cta_h_max, w - m, h - m),
        False,
        "center",
    )
    stack_box = (col_x0, m, w - m, cta.box[1] - gap)
    text, dropped = fit_stack(
        _items(plan, unit, 4),
        stack_box,
        max(2, round(unit * 0.35)),
        plan.locale,
        plan.typeface == "serif",
        "center",
    )
    return [*_tiles(plan, tiles), *text, cta], dropped


def build_layout(plan: CreativePlan, n_images: int | None = None) -> Layout:
    """Element boxes and fitted text for `plan` (nothing is drawn).

    Fitting text is most of a layout's cost and the same product copy recurs across events
    (one product, many audiences and seeds), so layouts are cached on what they depend on."""
    n = len(plan.image_keys) if n_images is None else n_images
    return _layout(_layout_key(plan), n)


def _layout_key(plan: CreativePlan) -> CreativePlan:
    """`plan` with every field a layout never reads blanked out; it is all `_layout` sees, so
    a layout cannot depend on a field the cache key ignores."""
    return replace(
        plan,
        index=0,
        creative_id="",
        variant=0,
        variant_name="",
        image_keys=tuple((0, i) for i in range(len(plan.image_keys))),
        prompts=(),
        complements=(),
        ad_type="",
        tone="",
        accent="",
        seed=0,
        products=tuple(str(i) for i in range(len(plan.products))),
    )


@lru_cache(maxsize=4096)
def _layout(plan: CreativePlan, n: int) -> Layout:
    placement = get_placement(plan.size)
    w, h = placement.width, placement.height
    template = template_for(placement)
    if template == "banner":
        elements, dropped = _banner(plan, w, h, n)
    elif template == "skyscraper":
        elements, dropped = _vertical(plan, w, h, n, 0.3 if n == 1 else 0.5, True)
    elif template == "split":
        elements, dropped = _split(plan, w, h, n)
    else:
        elements, dropped = _vertical(plan, w, h, n, 0.55, False)
    cta = next(e for e in elements if e.kind == "cta")
    cta_h = cta.box[3] - cta.box[1]
    tiles = [e for e in elements if e.image_index >= 0]
    side = min((e.box[2] - e.box[0] for e in tiles), default=0)
    return Layout(
        w,
        h,
        template,
        plan.arrangement,
        tuple(elements),
        tuple(dropped),
        radius=cta_h // 2 if plan.button == "pill" else max(2, cta_h // 8),
        tiles_radius=max(2, side // 10),
        shadow=min(6, max(1, side // 30)),
    )
