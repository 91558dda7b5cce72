"""Save and load a trained model directory: config.json + safetensors weights + meta.json.

Weights are plain tensors in safetensors; nothing is ever unpickled.

An exemplar generator's bank (the catalog pictures it retrieves from, ``shared.gan.exemplars``)
is kept apart from the weights, in ``bank.safetensors``: the weights are what training made and
are committed; the bank is the deployment's catalog and is built where the model runs
(``adgen model bank MODEL_DIR CATALOG_DIR``), so a shop serves its own products and no
catalog picture is committed.  Directories written before the split (bank inside
``generator.safetensors``) still load.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from shared.gan.config import GANConfig
from shared.gan.generator import Generator
from shared.gan.projected import AnyDiscriminator, build_discriminator

CONFIG, GENERATOR, DISCRIMINATOR, META, BANK = (
    "config.json",
    "generator.safetensors",
    "discriminator.safetensors",
    "meta.json",
    "bank.safetensors",
)
BANK_PREFIX = "bank_"


class MissingBankError(FileNotFoundError):
    """An exemplar model directory without the catalog it retrieves from."""


@dataclass
class ModelBundle:
    config: GANConfig
    generator: Generator
    discriminator: AnyDiscriminator | None
    meta: dict[str, Any] = field(default_factory=dict)
    version: str = ""


def _state(module: nn.Module, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    # Only weights change type: the exemplar bank keeps its own (float32 keys, uint8 maps), so
    # a bank rebuilt from the same catalog (adgen model bank) is the exported one, byte for byte.
    return {
        k: (v.detach().to(dtype) if v.is_floating_point() and not k.startswith(BANK_PREFIX) else v)
        .detach()
        .contiguous()
        .cpu()
        for k, v in module.state_dict().items()
    }


def _write(tensors: dict[str, torch.Tensor], path: Path) -> None:
    save_file(tensors, str(path), metadata={"format": "pt"})
    # safetensors writes through a private temporary file (mode 0600); a bank built as root in
    # a Docker image must stay readable by the unprivileged worker user.
    path.chmod(0o644)


# The bank tensors that say which pictures a model draws from.  The retrieval keys are left out
# of the version: they are the encoder's embeddings of the catalog's captions and differ in the
# last bits between machines, and hosts serving the same model must record the same version.
_BANK_CONTENT = ("bank_maps", "bank_row_concept", "bank_first", "bank_count")


def model_version(model_dir: str | Path, bank: dict[str, torch.Tensor] | None = None) -> str:
    """Content hash of what decides a model's pictures: the generator weights and, for an
    exemplar model with a bank file, the bank's pictures and their product index (``bank``:
    the file's tensors when the caller has already loaded them)."""
    root = Path(model_dir)
    digest = hashlib.sha256((root / GENERATOR).read_bytes())
    if bank is None and (root / BANK).exists():
        bank = load_file(str(root / BANK), device="cpu")
    if bank:
        for name in _BANK_CONTENT:
            digest.update(bank[name].contiguous().numpy().tobytes())
    return f"sha256:{digest.hexdigest()[:12]}"


def save_bank(model_dir: str | Path, tensors: dict[str, torch.Tensor]) -> str:
    """Write (or replace) an exemplar model's bank; returns the model's version with it (the
    bank is part of it: another catalog draws other pictures).  meta.json is left alone: it
    records the version the model was exported with, and may be a committed file."""
    _write({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, Path(model_dir) / BANK)
    return model_version(model_dir)


def save_model(
    out_dir: str | Path,
    cfg: GANConfig,
    generator_ema: nn.Module,
    discriminator: nn.Module | None = None,
    meta: dict[str, Any] | None = None,
    weights_dtype: torch.dtype = torch.float32,
) -> str:
    """Write the model directory; returns its version id (hash of the generator weights).

    ``weights_dtype=torch.float16`` halves the files (the committed default model); loading
    always builds float32 modules, so callers never see the storage type.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg.save(out / CONFIG)
    state = _state(generator_ema, weights_dtype)
    weights = {k: v for k, v in state.items() if not k.startswith(BANK_PREFIX)}
    _write(weights, out / GENERATOR)
    if len(weights) < len(state):
        _write({k: v for k, v in state.items() if k.startswith(BANK_PREFIX)}, out / BANK)
    if discriminator is not None:
        _write(_state(discriminator, weights_dtype), out / DISCRIMINATOR)
    version = model_version(out)
    (out / META).write_text(
        json.dumps({**(meta or {}), "version": version}, indent=2, sort_keys=True, default=str)
        + "\n",
        encoding="utf-8",
    )
    return version


def load_model(
    model_dir: str | Path, device: str | torch.device = "cpu", with_discriminator: bool = True
) -> ModelBundle:
    root = Path(model_dir)
    cfg = GANConfig.load(root / CONFIG)
    gen = Generator(cfg)
    weights = load_file(str(root / GENERATOR), device="cpu")
    bank: dict[str, torch.Tensor] = {}  # stays empty for bank-less and pre-split directories
    if cfg.g_arch == "exemplar":
        bank = _bank(root, weights)
        weights.update(bank)
        gen.resize_bank({k: v.shape for k, v in weights.items() if k.startswith(BANK_PREFIX)})
    gen.load_state_dict(weights)
    gen.to(device).eval().requires_grad_(False)
    disc: AnyDiscriminator | None = None
    if with_discriminator and (root / DISCRIMINATOR).exists():
        disc = build_discriminator(cfg)
        disc.load_state_dict(load_file(str(root / DISCRIMINATOR), device="cpu"))
        disc.to(device).eval().requires_grad_(False)
    meta_path = root / META
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    return ModelBundle(cfg, gen, disc, meta, model_version(root, bank))


def _bank(root: Path, weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    if (root / BANK).exists():
        return load_file(str(root / BANK), device="cpu")
    if any(k.startswith(BANK_PREFIX) for k in weights):  # written before the split
        return {}
    raise MissingBankError(
        f"{root} is an exemplar model and has no {BANK} (the catalog pictures it retrieves "
        f"from); build it from a catalog: adgen model bank {root} CATALOG_DIR "
        "(the default catalog: adgen data build --out CATALOG_DIR)"
    )
