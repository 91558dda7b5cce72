"""Generator/discriminator shapes, determinism, config and checkpoint round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from shared.gan.checkpoint import load_model, save_model
from shared.gan.config import GANConfig
from shared.gan.discriminator import Discriminator
from shared.gan.generator import Generator

TINY = {"z_dim": 16, "ngf": 4, "ndf": 4, "cond_hidden": 16}


def _inputs(n: int, cfg: GANConfig, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    text = torch.nn.functional.normalize(torch.randn(n, cfg.text_dim, generator=g), dim=1)
    return torch.randn(n, cfg.z_dim, generator=g), text


@pytest.mark.parametrize("size", [64, 128])
def test_shapes_and_range(size: int) -> None:
    cfg = GANConfig(image_size=size, **TINY)
    gen, disc = Generator(cfg).eval(), Discriminator(cfg).eval()
    z, text = _inputs(3, cfg)
    images = gen(z, text)
    assert images.shape == (3, 3, size, size)
    assert images.min() >= -1 and images.max() <= 1
    assert disc(images, text).shape == (3,)
    assert disc.score(images, text).shape == (3,)
    assert disc.features(images).shape[2:] == (4, 4)


def test_default_size_is_cpu_sized() -> None:
    n_params = sum(p.numel() for p in Generator(GANConfig()).parameters())
    assert 3e6 <= n_params <= 6e6


def test_bad_image_size_rejected() -> None:
    with pytest.raises(ValueError):
        GANConfig(image_size=96)


def test_generator_deterministic_in_eval() -> None:
    torch.manual_seed(0)
    cfg = GANConfig(**TINY)
    gen = Generator(cfg).eval()
    z, text = _inputs(4, cfg)
    with torch.no_grad():
        a, b = gen(z, text), gen(z.clone(), text.clone())
        c = gen(z[:2], text[:2])  # a sample does not depend on its batch-mates
    assert torch.equal(a, b)
    torch.testing.assert_close(a[:2], c)


def test_text_changes_output() -> None:
    torch.manual_seed(0)
    cfg = GANConfig(**TINY)
    gen = Generator(cfg).eval()
    for p in gen.parameters():  # the affines start as the identity; perturb to see the path
        p.data.add_(0.05 * torch.randn_like(p))
    z, text = _inputs(2, cfg)
    with torch.no_grad():
        assert not torch.allclose(gen(z, text), gen(z, text.flip(0)))


def test_config_json_round_trip() -> None:
    cfg = GANConfig(image_size=128, ngf=8, g_mults=(8, 4, 2, 1, 1, 1))
    again = GANConfig.from_json(cfg.to_json())
    assert again == cfg
    assert isinstance(again.g_mults, tuple)
    with pytest.raises(ValueError):
        GANConfig.from_json(json.dumps({"nope": 1}))


def test_save_load_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(1)
    cfg = GANConfig(**TINY)
    gen, disc = Generator(cfg).eval(), Discriminator(cfg).eval()
    version = save_model(tmp_path, cfg, gen, disc, meta={"step": 7})
    bundle = load_model(tmp_path)
    assert bundle.version == version and version.startswith("sha256:") and len(version) == 19
    assert bundle.meta["step"] == 7 and bundle.config == cfg
    assert not bundle.generator.training and bundle.discriminator is not None
    z, text = _inputs(3, cfg)
    with torch.no_grad():
        assert torch.equal(bundle.generator(z, text), gen(z, text))
        images = gen(z, text)
        assert torch.equal(bundle.discriminator.score(images, text), disc.score(images, text))
    # Same weights, same version; the files hold tensors only (safetensors, no pickle).
    assert save_model(tmp_path / "again", cfg, gen) == version
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "config.json",
        "discriminator.safetensors",
        "generator.safetensors",
        "meta.json",
    ]


def test_load_without_discriminator(tmp_path: Path) -> None:
    cfg = GANConfig(**TINY)
    save_model(tmp_path, cfg, Generator(cfg))
    assert load_model(tmp_path).discriminator is None


def test_half_precision_storage(tmp_path: Path) -> None:
    torch.manual_seed(2)
    cfg = GANConfig(**TINY)
    gen = Generator(cfg).eval()
    save_model(tmp_path / "a", cfg, gen)
    save_model(tmp_path / "b", cfg, gen, weights_dtype=torch.float16)
    full = (tmp_path / "a" / "generator.safetensors").stat().st_size
    assert (tmp_path / "b" / "generator.safetensors").stat().st_size < 0.6 * full
    bundle = load_model(tmp_path / "b")
    assert all(p.dtype == torch.float32 for p in bundle.generator.parameters())
    z, text = _inputs(2, cfg)
    with torch.no_grad():
        torch.testing.assert_close(bundle.generator(z, text), gen(z, text), atol=2e-2, rtol=0)
