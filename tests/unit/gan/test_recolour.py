"""The re-colour-only output: identity at zero, a true hue rotation, structure kept."""

from __future__ import annotations

import colorsys
import math

import pytest
import torch

from shared.gan.config import GANConfig
from shared.gan.recolour import hue_recolour


def _params(
    angle: float, sat: float = 0.0, val: float = 0.0, shape: tuple = (1, 2, 2)
) -> torch.Tensor:
    a = torch.full(shape, math.cos(angle) - 1.0)
    b = torch.full(shape, math.sin(angle))
    return torch.stack([a, b, torch.full(shape, sat), torch.full(shape, val)], dim=1)


def _pixel(r: float, g: float, b: float) -> torch.Tensor:
    """One colour in [0, 1] as a [1, 3, 2, 2] picture in [-1, 1]."""
    return (
        torch.tensor([r, g, b], dtype=torch.float32)[None, :, None, None].expand(1, 3, 2, 2) * 2 - 1
    ).clone()


def test_zero_parameters_are_the_identity() -> None:
    picture = torch.rand(2, 3, 5, 5) * 2 - 1
    out = hue_recolour(picture, torch.zeros(2, 4, 5, 5))
    assert torch.allclose(out, picture, atol=1e-5)


def test_a_third_of_a_turn_maps_red_to_green_and_green_to_blue() -> None:
    turn = _params(2 * math.pi / 3)
    assert torch.allclose(hue_recolour(_pixel(1, 0, 0), turn), _pixel(0, 1, 0), atol=1e-3)
    assert torch.allclose(hue_recolour(_pixel(0, 1, 0), turn), _pixel(0, 0, 1), atol=1e-3)


@pytest.mark.parametrize("angle", [0.7, 2.0, -2.5])
def test_grey_pixels_keep_their_value_whatever_the_hue_and_saturation(angle: float) -> None:
    for level in (0.02, 0.4, 1.0):  # black outline, grey part, white ground
        grey = _pixel(level, level, level)
        out = hue_recolour(grey, _params(angle, sat=3.0))
        assert torch.allclose(out, grey, atol=1e-5)


def test_gains_are_bounded() -> None:
    colour = _pixel(0.8, 0.3, 0.2)
    grey = colour.mean(dim=1, keepdim=True)
    for sat, low, high in ((50.0, 1.99, 2.001), (-50.0, 0.499, 0.51)):
        out = hue_recolour(colour, _params(0.0, sat=sat))
        ratio = (out - out.mean(1, keepdim=True)).norm() / (colour - grey).norm()
        assert low <= ratio <= high
    for val, level in ((50.0, 0.5 ** (2**0.7)), (-50.0, 0.5 ** (2**-0.7))):
        out = hue_recolour(_pixel(0.5, 0.5, 0.5), _params(0.0, val=val))
        assert torch.allclose((out + 1) / 2, torch.full_like(out, level), atol=1e-4)


def test_wider_ranges_reach_black_and_white_and_keep_the_default() -> None:
    """GANConfig.exemplar_gamma_range / exemplar_sat_floor: a red product can be made nearly
    black or a light grey at 2.0 and 1/8; at 0.7 and 1/2 (the defaults) it cannot."""
    from shared.catalog.augment import reads_as
    from shared.gan.sampling import to_pil
    from shared.training.export import product_pixels

    red = torch.full((1, 3, 8, 8), 1.0)
    red[:, :, 2:6, 2:6] = _pixel(0.8, 0.2, 0.2)[:, :, :1, :1]  # a red square on white ground
    colour = _pixel(0.8, 0.3, 0.2)
    grey = colour.mean(dim=1, keepdim=True)
    out = hue_recolour(colour, _params(0.0, sat=-50.0), 2.0, 0.125)
    ratio = (out - out.mean(1, keepdim=True)).norm() / (colour - grey).norm()
    assert 0.124 <= ratio <= 0.126
    reads = {}
    for ranges in ((0.7, 0.5), (2.0, 0.125)):
        for word, val in (("black", 50.0), ("white", -50.0)):
            params = _params(0.0, sat=-50.0, val=val, shape=(1, 8, 8))
            image = to_pil(hue_recolour(red, params, *ranges).clamp(-1, 1))[0]
            reads[ranges, word] = reads_as(product_pixels(image), word)
    assert reads == {
        ((0.7, 0.5), "black"): False,
        ((0.7, 0.5), "white"): False,
        ((2.0, 0.125), "black"): True,
        ((2.0, 0.125), "white"): True,
    }
    with pytest.raises(ValueError):
        GANConfig(exemplar_sat_floor=0.0)


def test_white_and_black_stay_whatever_the_gamma() -> None:
    for level in (0.0, 1.0):
        for val in (-50.0, 50.0):
            out = hue_recolour(_pixel(level, level, level), _params(1.0, sat=2.0, val=val))
            assert torch.allclose((out + 1) / 2, torch.full_like(out, level), atol=2e-3)


def test_gradient_reaches_every_parameter_map() -> None:
    params = (
        0.3 * torch.randn(1, 4, 3, 3, generator=torch.Generator().manual_seed(0))
    ).requires_grad_()
    picture = torch.rand(1, 3, 3, 3) * 2 - 1
    hue_recolour(picture, params).square().sum().backward()
    assert params.grad is not None
    assert all(params.grad[0, k].abs().sum() > 0 for k in range(4))


def test_config_needs_colour_maps_and_excludes_the_free_residual() -> None:
    with pytest.raises(ValueError, match="exemplar_hue"):
        GANConfig(g_arch="exemplar", exemplar_hue="pixel")  # grey maps
    with pytest.raises(ValueError, match="exemplar_hue"):
        GANConfig(
            g_arch="exemplar", exemplar_map="rgb", exemplar_residual=True, exemplar_hue="global"
        )
    with pytest.raises(ValueError, match="exemplar_hue"):
        GANConfig(g_arch="exemplar", exemplar_map="rgb", exemplar_hue="sideways")


def _colourise(angle: float, mix: float = 50.0, tint: float = 0.0) -> torch.Tensor:
    """Eight maps: no rotation/gain, a target direction ``angle`` from red, a mix and a tint."""
    shape = (1, 2, 2)
    rest = [math.cos(angle) - 1.0, math.sin(angle), mix, tint]
    return torch.stack([torch.zeros(shape)] * 4 + [torch.full(shape, v) for v in rest], dim=1)


def _hue(picture: torch.Tensor) -> float:
    rgb = ((picture[0, :, 0, 0] + 1) / 2).clamp(0, 1).tolist()
    return colorsys.rgb_to_hsv(*rgb)[0] * 360.0


def test_colourise_zeros_are_the_identity() -> None:
    picture = torch.rand(2, 3, 5, 5) * 2 - 1
    out = hue_recolour(picture, torch.zeros(2, 8, 5, 5))
    assert torch.allclose(out, picture, atol=1e-5)


@pytest.mark.parametrize("degrees", [0.0, 120.0, 215.0, 275.0])
def test_full_mix_paints_every_coloured_pixel_in_the_target_hue(degrees: float) -> None:
    """A rotation keeps a drawing's hue differences; the mix makes a two-colour product one
    colour (at the same strength: the chroma length is kept)."""
    for pixel in (_pixel(0.9, 0.2, 0.1), _pixel(0.3, 0.6, 0.2), _pixel(0.2, 0.3, 0.8)):
        out = hue_recolour(pixel, _colourise(math.radians(degrees)))
        # The chroma-plane angle and HSV's hexagonal hue differ by a few degrees off the
        # primaries and secondaries.
        assert abs((_hue(out) - degrees + 180.0) % 360.0 - 180.0) < 5.0
        before = (pixel - pixel.mean(1, keepdim=True)).norm()
        assert torch.isclose((out - out.mean(1, keepdim=True)).norm(), before, rtol=1e-3)


def test_tint_colours_grey_parts_and_leaves_white_and_black() -> None:
    blue = math.radians(215.0)
    for level in (0.0, 1.0):
        still = _pixel(level, level, level)
        assert torch.allclose(hue_recolour(still, _colourise(blue, tint=50.0)), still, atol=1e-3)
    grey = hue_recolour(_pixel(0.5, 0.5, 0.5), _colourise(blue, tint=50.0))
    rgb = ((grey[0, :, 0, 0] + 1) / 2).clamp(0, 1).tolist()
    hue, sat, _ = colorsys.rgb_to_hsv(*rgb)
    assert abs(hue * 360.0 - 215.0) < 2.0 and sat > 0.4  # reads as blue (augment.PALETTE)
    untinted = hue_recolour(_pixel(0.5, 0.5, 0.5), _colourise(blue, tint=0.0))
    assert torch.allclose(untinted, _pixel(0.5, 0.5, 0.5), atol=1e-3)  # a mix alone cannot


def test_gradient_reaches_all_eight_maps() -> None:
    params = (
        0.3 * torch.randn(1, 8, 3, 3, generator=torch.Generator().manual_seed(0))
    ).requires_grad_()
    picture = torch.rand(1, 3, 3, 3, generator=torch.Generator().manual_seed(1)) * 2 - 1
    hue_recolour(picture, params).square().sum().backward()
    assert params.grad is not None
    assert all(params.grad[0, k].abs().sum() > 0 for k in range(8))


def test_lights_lift_whitens_the_fill_and_keeps_the_outline() -> None:
    """exemplar_lift "lights": at full lift a light-grey fill becomes white (LIGHTS_TOP, just
    under ground level) while a dark-grey outline stays; the gamma lifts that outline to mid
    grey (a white product then fades into the white ground); darkening and the identity are
    the gamma's, unchanged."""
    from shared.eval.lab_colour import GROUND
    from shared.gan.recolour import LIGHTS_FROM, LIGHTS_TOP

    full = _params(0.0, val=-50.0)
    outline, fill = _pixel(0.24, 0.24, 0.24), _pixel(0.7, 0.7, 0.7)
    gamma_outline = (hue_recolour(outline, full, 2.0) + 1) / 2
    assert float(gamma_outline.mean()) > 0.65  # what the gamma does to an outline
    lit_outline = (hue_recolour(outline, full, 2.0, lift="lights") + 1) / 2
    assert torch.allclose(lit_outline, torch.full_like(lit_outline, 0.24), atol=1e-4)
    lit_fill = (hue_recolour(fill, full, 2.0, lift="lights") + 1) / 2
    assert torch.allclose(lit_fill, torch.full_like(lit_fill, LIGHTS_TOP), atol=1e-4)
    assert 0.7 < LIGHTS_TOP * 255 < GROUND  # white by the check, yet never ground
    red = (
        hue_recolour(
            _pixel(0.86, 0.12, 0.12), _params(0.0, sat=-50.0, val=-50.0), 2.0, 0.125, lift="lights"
        )
        + 1
    ) / 2
    assert float(red.min()) > 0.8  # a saturated fill is light by its value: it can turn white
    half = (hue_recolour(fill, _params(0.0, val=-math.atanh(0.5)), 2.0, lift="lights") + 1) / 2
    halfway = 0.7 + 0.5 * (LIGHTS_TOP - 0.7)
    assert torch.allclose(half, torch.full_like(half, halfway), atol=1e-3)
    assert LIGHTS_FROM > 0.24
    for val in (0.0, 50.0):  # identity and darkening: the same as the gamma's
        params = _params(0.3, sat=0.5, val=val)
        colour = _pixel(0.8, 0.3, 0.2)
        assert torch.allclose(
            hue_recolour(colour, params, 2.0, lift="lights"), hue_recolour(colour, params, 2.0)
        )
    params = torch.randn(2, 8, 5, 5, requires_grad=True)
    hue_recolour(torch.rand(2, 3, 5, 5) * 2 - 1, params, 2.0, lift="lights").sum().backward()
    assert params.grad is not None and torch.isfinite(params.grad).all()
    with pytest.raises(ValueError, match="exemplar_lift"):
        GANConfig(exemplar_lift="levels")


def _drawing() -> torch.Tensor:
    """[1, 3, 12, 12] in [-1, 1]: white ground, a light-grey 8x8 square with no outline, and a
    white 2x2 hole inside it (enclosed white, not ground)."""
    x = torch.ones(1, 3, 12, 12)
    x[..., 2:10, 2:10] = 0.7
    x[..., 5:7, 5:7] = 1.0
    return x * 2 - 1


def test_rim_lift_gives_a_white_product_an_outline_where_it_meets_the_ground() -> None:
    """exemplar_lift "rim": as "lights", and the pixels of the product that touch the
    border-connected ground go dark by the same share as the rest goes light, so a drawing
    with no outline of its own keeps one when it is made white. The white it encloses gets no
    rim, and without lightening nothing differs from "lights"."""
    from shared.catalog.augment import DARK_VALUE
    from shared.gan.recolour import LIGHTS_TOP, RIM_LEVEL

    full = _params(0.0, val=-50.0, shape=(1, 12, 12))
    rim = (hue_recolour(_drawing(), full, 2.0, lift="rim") + 1) / 2
    lights = (hue_recolour(_drawing(), full, 2.0, lift="lights") + 1) / 2
    edge = torch.zeros(12, 12, dtype=torch.bool)
    edge[2:10, 2:10] = True
    edge[3:9, 3:9] = False  # the square's outermost ring of pixels
    assert torch.allclose(rim[0, :, edge], torch.full((3, 28), RIM_LEVEL), atol=1e-4)
    assert RIM_LEVEL < DARK_VALUE  # reads as an outline
    inner = torch.zeros(12, 12, dtype=torch.bool)
    inner[3:9, 3:9] = True
    assert torch.equal(rim[0, :, inner], lights[0, :, inner])  # the hole's edge: no rim
    assert torch.allclose(lights[0, :, edge], torch.full((3, 28), LIGHTS_TOP), atol=1e-4)
    assert float(rim[0, :, 0, 0].min()) == 1.0  # the ground stays white
    half = (
        hue_recolour(
            _drawing(), _params(0.0, val=-math.atanh(0.5), shape=(1, 12, 12)), 2.0, lift="rim"
        )
        + 1
    ) / 2
    assert torch.allclose(
        half[0, :, 2, 2], torch.full((3,), 0.7 - 0.5 * (0.7 - RIM_LEVEL)), atol=1e-3
    )
    for val in (0.0, 50.0):  # identity and darkening: exactly "lights"
        params = _params(0.3, sat=0.5, val=val, shape=(1, 12, 12))
        assert torch.equal(
            hue_recolour(_drawing(), params, 2.0, lift="rim"),
            hue_recolour(_drawing(), params, 2.0, lift="lights"),
        )
    params = torch.randn(1, 8, 12, 12, requires_grad=True)
    hue_recolour(_drawing(), params, 2.0, lift="rim").sum().backward()
    assert params.grad is not None and torch.isfinite(params.grad).all()
    assert GANConfig(exemplar_lift="rim").exemplar_lift == "rim"
