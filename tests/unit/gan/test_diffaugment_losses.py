"""DiffAugment keeps shapes and gradients; the losses and MA-GP behave as specified."""

from __future__ import annotations

import torch

from shared.gan.config import GANConfig
from shared.gan.diffaugment import diff_augment
from shared.gan.discriminator import Discriminator
from shared.gan.ema import EMA
from shared.gan.losses import colour_match_loss, d_hinge, g_hinge, ma_gp, mean_chroma

POLICY = "color,translation,cutout"


def test_diffaugment_shape_seed_and_gradient() -> None:
    x = (torch.rand(4, 3, 16, 16) * 2 - 1).requires_grad_(True)
    a = diff_augment(x, POLICY, torch.Generator().manual_seed(0))
    b = diff_augment(x, POLICY, torch.Generator().manual_seed(0))
    c = diff_augment(x, POLICY, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, c)
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert torch.equal(diff_augment(x, ""), x)


def test_translation_moves_content() -> None:
    x = torch.zeros(64, 1, 8, 8)
    x[:, :, 4, 4] = 1.0
    out = diff_augment(x, "translation", torch.Generator().manual_seed(0))
    peaks = out.flatten(1).argmax(dim=1)
    assert len(set(peaks.tolist())) > 1  # pixels land in different places
    assert torch.all(out.flatten(1).max(dim=1).values <= 1.0)


def test_hinge_losses() -> None:
    good = torch.full((4,), 2.0)
    bad = torch.full((4,), -2.0)
    assert d_hinge(good, bad, bad).item() == 0.0  # D already separates everything
    assert d_hinge(bad, good, good).item() > 0
    assert g_hinge(good).item() == -2.0


def test_ma_gp_positive_and_differentiable() -> None:
    torch.manual_seed(0)
    cfg = GANConfig(image_size=16, z_dim=8, ngf=4, ndf=4, cond_hidden=8)
    disc = Discriminator(cfg)
    for block in disc.blocks:
        block.gain.data.fill_(1.0)
    real = torch.rand(2, 3, 16, 16) * 2 - 1
    text = torch.randn(2, cfg.text_dim)
    gp, logits, feats = ma_gp(disc, real, text, k=2.0, p=6.0)
    assert gp.item() > 0 and logits.shape == (2,) and feats.shape[0] == 2
    gp.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in disc.parameters())


def test_ema_tracks_slowly() -> None:
    lin = torch.nn.Linear(2, 2)
    ema = EMA(lin, beta=0.9)
    start = ema.model.weight.clone()
    with torch.no_grad():
        lin.weight.add_(1.0)
    ema.update(lin, step=10_000)
    torch.testing.assert_close(ema.model.weight, start + 0.1)
    assert not ema.model.weight.requires_grad


def _on_white(rgb: tuple[float, float, float], size: int = 8) -> torch.Tensor:
    """A [1, 3, size, size] picture in [-1, 1]: a square of ``rgb`` (0-1) on white ground."""
    x = torch.ones(1, 3, size, size)
    x[0, :, 2:6, 2:6] = torch.tensor(rgb)[:, None, None]
    return x * 2 - 1


def test_mean_chroma_reads_the_product_and_ignores_white_ground() -> None:
    red, small_red = _on_white((0.9, 0.1, 0.1)), _on_white((0.9, 0.1, 0.1), size=16)
    chroma = mean_chroma(red)[0]
    assert chroma[0] > 0.3 and chroma[1] < 0 and chroma[2] < 0  # red, whatever the ground
    # More white around the same product changes the figure only through the +1 smoothing.
    assert torch.allclose(mean_chroma(small_red)[0], chroma, rtol=0.1)


def test_colour_match_loss_is_zero_for_the_same_colour_and_pulls_towards_the_real_one() -> None:
    real = _on_white((0.2, 0.3, 0.9))
    assert colour_match_loss(real, real) == 0
    fake = _on_white((0.9, 0.2, 0.1)).requires_grad_(True)
    loss = colour_match_loss(fake, real)
    assert loss > 0.1
    loss.backward()
    assert fake.grad is not None
    square = fake.grad[0, :, 3, 3]
    assert square[0] > 0 and square[2] < 0  # descent lowers red and raises blue
    assert fake.grad[0, :, 0, 0].abs().sum() == 0  # white ground is not asked to change


def _patch(rgb: tuple[int, int, int]) -> torch.Tensor:
    """A 16 px product (an 8 px square of ``rgb``) on white ground, in [-1, 1]."""
    x = torch.full((1, 3, 16, 16), 1.0)
    x[:, :, 4:12, 4:12] = torch.tensor(rgb, dtype=torch.float32)[None, :, None, None] / 127.5 - 1
    return x


SWATCHES = {
    "red": (230, 20, 20),
    "orange": (255, 140, 0),
    "yellow": (250, 220, 20),
    "green": (30, 170, 60),
    "blue": (30, 60, 220),
    "purple": (140, 40, 200),
    "pink": (240, 80, 170),
}


def test_colour_word_shares_read_like_the_colour_check() -> None:
    from shared.catalog.augment import PALETTE
    from shared.gan.losses import colour_word_loss, colour_word_shares, palette_targets
    from shared.gan.sampling import to_pil
    from shared.training.export import product_colour

    names, targets = palette_targets(PALETTE)
    assert names == list(PALETTE)
    for word, rgb in SWATCHES.items():
        x = _patch(rgb)
        assert product_colour(to_pil(x)[0]) == word  # the check reads the swatch as its word
        for i, name in enumerate(names):
            good, wrong, _ = colour_word_shares(x, targets[i : i + 1])[0].tolist()
            if name == word:
                assert good > 0.85 and wrong < 0.15, (word, good, wrong)
                assert float(colour_word_loss(x, targets[i : i + 1])) < 0.2
            else:
                assert good < 0.1 and wrong > 0.85, (word, name, good, wrong)
    # Dark orange reads brown to the check and to the loss alike.
    dark = _patch((150, 80, 0))
    assert product_colour(to_pil(dark)[0]) == "brown"
    assert float(colour_word_shares(dark, targets[1:2])[0, 0]) < 0.05


def test_colour_word_loss_pulls_grey_products_towards_the_word() -> None:
    from shared.catalog.augment import PALETTE
    from shared.gan.losses import colour_word_loss, palette_targets

    _, targets = palette_targets(PALETTE)
    grey = _patch((128, 128, 128)).requires_grad_(True)
    colour_word_loss(grey, targets[4:5]).backward()  # "blue"
    assert grey.grad is not None and torch.isfinite(grey.grad).all()
    step = -grey.grad[0, :, 8, 8]  # descent direction at a product pixel
    assert step[2] > step[0] and step[2] > step[1]  # more blue
    assert float(grey.grad[0, :, 0, 0].abs().sum()) == 0.0  # the white ground is left alone


SHADE_SWATCHES = {
    "black": (25, 25, 30),
    "white": (215, 215, 220),  # light grey: a purely white product would be ground
    "brown": (128, 64, 16),  # hue 26, saturation 0.88, value 0.50: brown to both readings
}


def test_shades_read_like_the_shade_check_and_palette_rows_are_unchanged() -> None:
    from shared.catalog.augment import PALETTE, SHADES, reads_as, visible_shade
    from shared.eval.lab_colour import lab_colour
    from shared.gan.losses import colour_word_loss, colour_word_shares, palette_targets
    from shared.gan.sampling import to_pil
    from shared.training.export import product_pixels

    names, targets = palette_targets(PALETTE, SHADES)
    assert names == [*PALETTE, *SHADES]
    assert torch.equal(targets[: len(PALETTE)], palette_targets(PALETTE)[1])
    for word, rgb in {**SHADE_SWATCHES, "red": SWATCHES["red"], "grey": (128, 128, 128)}.items():
        x = _patch(rgb)
        product = product_pixels(to_pil(x)[0])
        assert visible_shade(product) == (word if word in SHADES else None), word
        if word in SHADES:  # the independent Lab reading agrees on every swatch the loss aims at
            assert lab_colour(to_pil(x)[0]) == word
        for name in SHADES:
            i = names.index(name)
            good, wrong, short = colour_word_shares(x, targets[i : i + 1])[0].tolist()
            if name == word:
                assert reads_as(product, name)
                # Brown's value band is narrow (dark enough to be brown, light enough to be
                # coloured), so its soft share peaks lower than the other words'.
                least = 0.55 if word == "brown" else 0.75
                assert good > least and wrong < 0.15 and short < 0.05, (word, good, wrong, short)
                assert float(colour_word_loss(x, targets[i : i + 1])) < 0.2
            else:
                assert not reads_as(product, name)
                assert good < 0.1, (word, name, good)


def test_shade_words_pull_a_grey_product_darker_lighter_and_browner() -> None:
    from shared.catalog.augment import PALETTE, SHADES
    from shared.gan.losses import colour_word_loss, colour_word_shares, palette_targets

    names, targets = palette_targets(PALETTE, SHADES)

    def step_at_product(word: str) -> torch.Tensor:
        grey = _patch((128, 128, 128)).requires_grad_(True)
        i = names.index(word)
        colour_word_loss(grey, targets[i : i + 1]).backward()
        assert grey.grad is not None and torch.isfinite(grey.grad).all()
        assert float(grey.grad[0, :, 0, 0].abs().sum()) == 0.0  # ground left alone
        return -grey.grad[0, :, 8, 8]

    assert (step_at_product("black") < 0).all()  # every channel darker
    assert (step_at_product("white") > 0).all()  # every channel lighter
    brown = step_at_product("brown")
    assert brown[0] > brown[1] > brown[2]  # towards orange: red up most, blue least

    # A bright orange product asked in brown is too bright, not the wrong colour: it is pulled
    # darker (red, its value, down) rather than greyed, and nothing counts it as wrong.
    i = names.index("brown")
    orange = _patch((255, 128, 0)).requires_grad_(True)
    _, wrong, _ = colour_word_shares(orange, targets[i : i + 1])[0].tolist()
    assert wrong < 0.05
    colour_word_loss(orange, targets[i : i + 1]).backward()
    assert orange.grad is not None and float(orange.grad[0, 0, 8, 8]) > 0  # descent: red down
