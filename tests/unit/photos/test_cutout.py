"""Cut-out quality: the background goes, the product's pixels stay byte for byte."""

from __future__ import annotations

import numpy as np
from PIL import Image

from shared.compose.scaling import paste_cutout, scale_photo
from shared.photos.cutout import border_matte, cutout
from tests.unit.photos import hostile


def _crop_offset(original: Image.Image, framed: Image.Image, alpha: np.ndarray) -> np.ndarray:
    """The framed cut-out's pixels mapped back onto the original photo's grid."""
    ys, xs = np.nonzero(alpha > 8)
    box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    side = framed.width
    w, h = box[2] - box[0], box[3] - box[1]
    ox, oy = (side - w) // 2, (side - h) // 2
    return np.asarray(framed)[oy : oy + h, ox : ox + w], box  # type: ignore[return-value]


def test_product_on_white_is_cut_out_with_a_soft_edge() -> None:
    photo = hostile.product_on_white(200)
    alpha = border_matte(np.asarray(photo))
    assert alpha is not None
    assert alpha[0, 0] == 0 and alpha[100, 60] == 255  # background gone, product kept
    assert alpha[100, 100] == 255  # the white square inside the product is not background
    rim = alpha[100, 45:55]  # across the left edge of the disc
    assert ((rim > 0) & (rim < 255)).any(), "the anti-aliased rim becomes partial alpha"
    assert (alpha == 0).mean() > 0.4


def test_product_pixels_are_unchanged_after_compositing() -> None:
    photo = hostile.product_on_white(200)
    framed, matte = cutout(photo)
    assert matte == "border" and framed.width == framed.height
    alpha = border_matte(np.asarray(photo))
    assert alpha is not None
    part, box = _crop_offset(photo, framed, alpha)
    original = np.asarray(photo)[box[1] : box[3], box[0] : box[2]]
    opaque = part[..., 3] == 255
    assert opaque.sum() > 7000  # the disc is 100 px across
    assert np.array_equal(part[opaque][:, :3], original[opaque])
    # ... and still identical once pasted on a creative background at 1:1 scale.
    canvas = Image.new("RGB", (framed.width + 40, framed.height + 40), (20, 120, 60))
    tile = scale_photo(framed, framed.width)
    paste_cutout(canvas, tile, (20, 20), shadow=4, shadow_colour=(0, 0, 0))
    out = np.asarray(canvas)[20 : 20 + framed.height, 20 : 20 + framed.width]
    fa = np.asarray(framed)
    full = fa[..., 3] == 255
    assert np.array_equal(out[full], fa[full][:, :3])
    assert tuple(out[2, 2]) == (20, 120, 60)  # transparent corner shows the background


def test_alpha_png_is_kept_exactly() -> None:
    rgba = Image.new("RGBA", (64, 48), (0, 0, 0, 0))
    rng = np.random.default_rng(1)
    body = rng.integers(0, 256, size=(20, 30, 4), dtype=np.uint8)
    body[..., 3] = 255
    body[0, 0, 3] = 128
    rgba.paste(Image.fromarray(body, "RGBA"), (10, 12))
    framed, matte = cutout(rgba)
    assert matte == "alpha"
    px = np.asarray(framed)
    ys, xs = np.nonzero(px[..., 3])
    assert np.array_equal(px[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1], body)


def test_a_scene_photo_is_kept_whole() -> None:
    rng = np.random.default_rng(2)
    scene = Image.fromarray(rng.integers(0, 256, size=(60, 90, 3), dtype=np.uint8), "RGB")
    framed, matte = cutout(scene)
    assert matte == "none"
    px = np.asarray(framed)
    ys, xs = np.nonzero(px[..., 3])
    assert np.array_equal(
        px[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1, :3], np.asarray(scene)
    )
    assert (px[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1, 3] == 255).all()


def test_shadow_becomes_a_faint_dark_shadow_not_a_grey_patch() -> None:
    photo = hostile.product_on_white(200, shadow=True)
    framed, _ = cutout(photo)
    px = np.asarray(framed).astype(int)
    alpha = px[..., 3]
    shadowy = (alpha > 0) & (alpha < 64)
    assert shadowy.sum() > 200
    assert px[shadowy][:, :3].mean() < 60  # un-mixed from white: dark, low alpha


def test_jpeg_noise_in_the_background_is_tolerated() -> None:
    import io

    buf = io.BytesIO()
    hostile.product_on_white(160).save(buf, format="JPEG", quality=75)
    photo = Image.open(buf).convert("RGB")
    alpha = border_matte(np.asarray(photo))
    assert alpha is not None
    corners = np.concatenate([alpha[:30, :30].ravel(), alpha[-30:, -30:].ravel()])
    assert (corners == 0).all()
    assert alpha[80, 50] == 255
