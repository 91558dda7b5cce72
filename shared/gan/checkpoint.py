"""Save and load a trained model directory: config.json + safetensors weights + meta.json.

Weights are plain tensors in safetensors; nothing is ever unpickled.
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

CONFIG, GENERATOR, DISCRIMINATOR, META = (
    "config.json",
    "generator.safetensors",
    "discriminator.safetensors",
    "meta.json",
)


@dataclass
class ModelBundle:
    config: GANConfig
    generator: Generator
    discriminator: AnyDiscriminator | None
    meta: dict[str, Any] = field(default_factory=dict)
    version: str = ""


def _state(module: nn.Module, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    # Only floating tensors change type: index and uint8 buffers (the exemplar bank) keep theirs.
    return {
        k: (v.detach().to(dtype) if v.is_floating_point() else v.detach()).contiguous().cpu()
        for k, v in module.state_dict().items()
    }


def file_version(path: str | Path) -> str:
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return f"sha256:{digest[:12]}"


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
    save_file(_state(generator_ema, weights_dtype), str(out / GENERATOR), metadata={"format": "pt"})
    if discriminator is not None:
        save_file(
            _state(discriminator, weights_dtype),
            str(out / DISCRIMINATOR),
            metadata={"format": "pt"},
        )
    version = file_version(out / GENERATOR)
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
    gen.load_state_dict(load_file(str(root / GENERATOR), device="cpu"))
    gen.to(device).eval().requires_grad_(False)
    disc: AnyDiscriminator | None = None
    if with_discriminator and (root / DISCRIMINATOR).exists():
        disc = build_discriminator(cfg)
        disc.load_state_dict(load_file(str(root / DISCRIMINATOR), device="cpu"))
        disc.to(device).eval().requires_grad_(False)
    meta_path = root / META
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    return ModelBundle(cfg, gen, disc, meta, file_version(root / GENERATOR))
