from dataclasses import replace

import numpy as np
import pytest
from PIL import Image, ImageDraw

from shared.compose import MissingFontError, compose_creative, compose_with_layout, fonts
from shared.compose.colors import contrast_ratio
from shared.compose.scaling import scale_product
from shared.events import EVENT_TYPES
from shared.personalize import plan_event
from shared.placements import get_placement
from tests.unit.compose.helpers import event_with, images_for

STYLES = ("clean", "bold", "seasonal")


@pytest.mark.parametrize("ad_type", EVENT_TYPES)
def test_output_is_rgb_at_exact_placement_size(ad_type: str) -> None:
    for i, style in enumerate(STYLES):
        event = event_with(ad_type, style=style)
        for plan in plan_event(event).creatives[i::3]:  # every size, spread over the styles
            img = compose_creative(plan, images_for(plan, event), event)
            p = get_placement(plan.size)
            assert img.mode == "RGB" and img.size == (p.width, p.height)


def test_same_inputs_give_identical_pixels() -> None:
    event = event_with("cart", style="seasonal")
    plan = plan_event(event).creatives[0]
    a = compose_creative(plan, images_for(plan, event), event)
    b = compose_creative(plan, images_for(plan, event), event)
    assert a.tobytes() == b.tobytes()


def test_larger_generator_samples_are_accepted() -> None:
    event = event_with("product_display")
    plan = plan_event(event).creatives[0]
    big = [img.resize((128, 128)) for img in images_for(plan, event)]
    p = get_placement(plan.size)
    assert compose_creative(plan, big, event).size == (p.width, p.height)


def test_wrong_number_of_images_is_refused() -> None:
    event = event_with("cart")
    plan = plan_event(event).creatives[0]
    with pytest.raises(ValueError, match="shows"):
        compose_creative(plan, images_for(plan, event)[:1], event)


@pytest.mark.parametrize("style", STYLES)
def test_drawn_text_sits_on_its_own_ground_with_aa_contrast(style: str) -> None:
    """In the pixels: each text box's commonest colour is the theme's ground (no confetti or
    shadow under text), the text colour itself is drawn there, and the two pass 4.5:1."""
    event = event_with("product_display", style=style)
    for plan in plan_event(event).creatives:
        img, layout, theme = compose_with_layout(plan, images_for(plan, event), event)
        for element in layout.text_elements:
            fg, bg = theme.colours(element.kind)
            if element.kind == "cta":  # skip the rounded corners of the button
                x0, y0, x1, y1 = element.box
                box = (x0 + (y1 - y0) // 2, y0 + 1, x1 - (y1 - y0) // 2, y1 - 1)
            else:
                box = element.box
            pixels = np.asarray(img.crop(box)).reshape(-1, 3)
            colours, counts = np.unique(pixels, axis=0, return_counts=True)
            assert tuple(colours[counts.argmax()]) == bg, (plan.size, element.kind)
            assert (colours == fg).all(axis=1).any(), (plan.size, element.kind)
            assert contrast_ratio(fg, bg) >= 4.5


def test_cjk_without_a_cjk_font_names_the_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "cjk_candidates", lambda: ())
    event = event_with("product_display", locale="ja-JP")
    plan = plan_event(event).creatives[0]
    with pytest.raises(MissingFontError, match="pip install noto-cjk-sans-otc"):
        compose_creative(plan, images_for(plan, event), event)
    assert not fonts.cjk_available()


def _edge_image() -> Image.Image:
    img = Image.new("RGB", (64, 64), (250, 250, 250))
    ImageDraw.Draw(img).polygon([(8, 56), (32, 8), (56, 56)], fill=(200, 30, 30))
    return img.resize((256, 256)).resize((64, 64), Image.Resampling.LANCZOS)


def _gradient(img: Image.Image) -> float:
    a = np.asarray(img.convert("L"), dtype=np.float32)
    return float(np.abs(np.diff(a, axis=1)).mean() + np.abs(np.diff(a, axis=0)).mean())


def test_product_scaling_is_neither_blocky_nor_softer_than_one_step_lanczos() -> None:
    src = _edge_image()
    ours = scale_product(src, 300)
    assert ours.size == (300, 300)
    nearest = src.resize((300, 300), Image.Resampling.NEAREST)
    lanczos = src.resize((300, 300), Image.Resampling.LANCZOS)
    # Blocky output repeats each source pixel ~4.7 times per row.
    row = np.asarray(ours)[150]
    repeats = np.mean(np.all(row[1:] == row[:-1], axis=1))
    nearest_row = np.asarray(nearest)[150]
    assert repeats < np.mean(np.all(nearest_row[1:] == nearest_row[:-1], axis=1))
    assert _gradient(ours) >= _gradient(lanczos)
    assert scale_product(src.crop((0, 0, 64, 40)), 50).size == (50, 50)


def test_audiences_get_different_grounds() -> None:
    grounds = set()
    for segment in ("sporty", "luxury", "family", "young"):
        event = event_with("product_display", segment=segment)
        plan = plan_event(event).creatives[1]  # 300x250
        _img, _layout, theme = compose_with_layout(plan, images_for(plan, event), event)
        grounds.add(theme.background)
    assert len(grounds) == 4


def test_seasonal_confetti_follows_the_seed() -> None:
    event = event_with("product_display", style="seasonal")
    plan = plan_event(event).creatives[1]
    images = images_for(plan, event)
    a = compose_creative(plan, images, event)
    b = compose_creative(replace(plan, seed=plan.seed + 1), images, event)
    assert a.tobytes() != b.tobytes()
