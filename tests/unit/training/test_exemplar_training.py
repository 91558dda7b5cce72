"""The exemplar design through the loop: the bank is built from the run's catalog, resumes with
the run, and is rebuilt from the new catalog when a run starts from an exported model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from shared.catalog.format import load_catalog, write_metadata
from shared.gan.checkpoint import BANK, GENERATOR, MissingBankError, load_model, save_bank
from shared.gan.config import GANConfig
from shared.gan.exemplars import build_exemplar_bank
from shared.gan.generator import bank_tensors
from shared.training.loop import TrainOptions, train

from .helpers import SHAPES, TINY, fake_embed, synthetic_catalog, tiny_options

CFG = TINY


def _opts(data: Path, out: Path, steps: int, **kw: object) -> TrainOptions:
    cfg = GANConfig(**CFG, g_arch="exemplar", exemplar_size=8)  # type: ignore[arg-type]
    return tiny_options(data, out, steps, cfg, **{"checkpoint_every": 2, **kw})


def test_bank_follows_the_catalog_through_resume_and_init_from(tmp_path: Path) -> None:
    synthetic_catalog(tmp_path / "a", size=16)
    first = train(_opts(tmp_path / "a", tmp_path / "run", 2), embed=fake_embed)
    model = load_model(first.model_dir)
    assert model.config.exemplar_concepts == len(SHAPES)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["exemplar_rows"] == 32

    resumed = train(_opts(tmp_path / "a", tmp_path / "run", 4, resume=True), embed=fake_embed)
    assert torch.equal(load_model(resumed.model_dir).generator.bank_maps, model.generator.bank_maps)

    # A shop's own, smaller catalog: fine-tuning keeps the weights, takes the new products.
    synthetic_catalog(tmp_path / "b", size=16)
    write_metadata(tmp_path / "b", load_catalog(tmp_path / "b")[:2])
    tuned = train(
        _opts(tmp_path / "b", tmp_path / "tuned", 2, init_from=first.model_dir), embed=fake_embed
    )
    new = load_model(tuned.model_dir)
    assert new.config.exemplar_concepts == 2 and len(new.generator.bank_maps) == 2


def test_bank_is_its_own_file_and_a_model_without_one_says_how_to_build_it(
    tmp_path: Path,
) -> None:
    synthetic_catalog(tmp_path / "a", size=16)
    model_dir = Path(train(_opts(tmp_path / "a", tmp_path / "run", 2), embed=fake_embed).model_dir)
    weights = load_file(str(model_dir / GENERATOR))
    assert not any(k.startswith("bank_") for k in weights)  # weights only: nothing to license
    bank = load_file(str(model_dir / BANK))
    assert (model_dir / BANK).stat().st_mode & 0o777 == 0o644  # readable by a non-root worker
    assert set(bank) == {"bank_keys", "bank_row_concept", "bank_maps", "bank_first", "bank_count"}
    model = load_model(model_dir)
    z = torch.randn(4, CFG["z_dim"], generator=torch.Generator().manual_seed(0))
    text = fake_embed(list(SHAPES)[:4])
    before = model.generator(z, text)

    # Written before the split: the bank inside generator.safetensors still loads, same pictures.
    legacy = tmp_path / "legacy"
    shutil.copytree(model_dir, legacy)
    (legacy / BANK).unlink()
    save_file({**weights, **bank}, str(legacy / GENERATOR))
    assert torch.equal(load_model(legacy).generator(z, text), before)

    (legacy / GENERATOR).write_bytes((model_dir / GENERATOR).read_bytes())
    with pytest.raises(MissingBankError, match="adgen model bank"):
        load_model(legacy)


def test_a_bank_from_another_catalog_changes_what_is_retrieved_and_the_version(
    tmp_path: Path,
) -> None:
    synthetic_catalog(tmp_path / "a", size=16)
    model_dir = Path(train(_opts(tmp_path / "a", tmp_path / "run", 2), embed=fake_embed).model_dir)
    old = load_model(model_dir)
    synthetic_catalog(tmp_path / "b", size=16)
    items = load_catalog(tmp_path / "b")[:3]
    new_bank = build_exemplar_bank(items, fake_embed, 16, old.config.exemplar_size, 6, "grey")
    version = save_bank(model_dir, bank_tensors(new_bank))
    new = load_model(model_dir)
    assert version == new.version != old.version
    assert json.loads((model_dir / "meta.json").read_text())["version"] == old.version  # as made
    assert len(new.generator.bank_first) == len(new_bank.concepts) < len(SHAPES)
    assert new.config.exemplar_concepts == len(SHAPES)  # the config keeps the training figure
    z = torch.randn(2, CFG["z_dim"], generator=torch.Generator().manual_seed(0))
    assert new.generator(z, fake_embed(["a", "b"])).shape == (2, 3, 16, 16)
