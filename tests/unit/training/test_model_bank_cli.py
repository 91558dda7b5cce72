"""`adgen model bank`: a shop's catalog becomes an exemplar model's bank; other models refuse."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from shared.catalog.format import load_catalog, write_metadata
from shared.gan.checkpoint import BANK, load_model
from shared.gan.config import GANConfig
from shared.training.loop import train
from workers.cli.main import app

from .helpers import SHAPES, TINY, fake_embed, synthetic_catalog, tiny_options


def _model(tmp_path: Path, **cfg: object) -> Path:
    synthetic_catalog(tmp_path / "a", size=16)
    opts = tiny_options(tmp_path / "a", tmp_path / "run", 1, GANConfig(**TINY, **cfg))  # type: ignore[arg-type]
    return Path(train(opts, embed=fake_embed).model_dir)


def test_bank_command_builds_the_bank_from_another_catalog(tmp_path: Path) -> None:
    model_dir = _model(tmp_path, g_arch="exemplar", exemplar_size=8)
    (model_dir / BANK).unlink()
    synthetic_catalog(tmp_path / "shop", size=16)
    shop = load_catalog(tmp_path / "shop")[:3]
    write_metadata(tmp_path / "shop", shop)
    products = len({it.concept or it.caption for it in shop})
    result = CliRunner().invoke(app, ["model", "bank", str(model_dir), str(tmp_path / "shop")])
    assert result.exit_code == 0, result.output
    assert f"{products} products" in result.output
    model = load_model(model_dir)
    assert len(model.generator.bank_first) == products < len(SHAPES)  # the shop's only
    assert model.version in result.output


def test_bank_command_refuses_a_model_without_exemplars(tmp_path: Path) -> None:
    model_dir = _model(tmp_path)
    result = CliRunner().invoke(app, ["model", "bank", str(model_dir), str(tmp_path / "a")])
    assert result.exit_code != 0
    assert "without exemplars" in result.output
