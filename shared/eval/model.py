"""The AdGen evaluator: a small CNN image encoder trained against frozen MiniLM caption embeddings.

One network gives everything evaluation needs from an image:
- ``features``: the pooled penultimate activations (for Fréchet distance and KID),
- ``embedding``: a unit vector in the text encoder's space (cosine = text-image alignment),
- ``logits``: catalog-category logits (for the IS analogue and category confidence).

It stands in for Inception (which cannot be downloaded here) and is trained only on our catalog,
so its numbers are comparable between AdGen models, never with published FID/IS figures.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import load_file, save_file
from torch import nn

from shared.catalog.format import RESIZE_FILTER

CONFIG, WEIGHTS = "config.json", "evaluator.safetensors"


@dataclass
class EvaluatorConfig:
    image_size: int = 64
    text_dim: int = 384
    widths: tuple[int, ...] = (32, 64, 128, 256)  # at 32, 16, 8, 4 px
    categories: list[str] = field(default_factory=list)
    # alignment = sigmoid(calib_a * cosine + calib_b), fitted on val matching/mismatching pairs
    calib_a: float = 10.0
    calib_b: float = -2.0
    extra: dict[str, Any] = field(default_factory=dict)  # training record (steps, accuracy...)

    def __post_init__(self) -> None:
        self.widths = tuple(self.widths)

    @property
    def feature_dim(self) -> int:
        return self.widths[-1]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> EvaluatorConfig:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _conv(c_in: int, c_out: int, stride: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.GroupNorm(8, c_out), nn.GELU()]


@dataclass
class Encoded:
    features: torch.Tensor  # [N, feature_dim]
    embedding: torch.Tensor  # [N, text_dim], unit norm
    logits: torch.Tensor  # [N, n_categories]


class Evaluator(nn.Module):
    def __init__(self, cfg: EvaluatorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.widths
        # A 4x4 stride-2 stem halves the resolution first: most of the cost of a CNN is at full
        # resolution, and 32x32 keeps enough detail to tell products and colours apart.
        layers: list[nn.Module] = [nn.Conv2d(3, w[0], 4, 2, 1), nn.GELU()]
        for c_in, c_out in zip(w[:-1], w[1:], strict=True):
            layers += _conv(c_in, c_out, 2) + _conv(c_out, c_out, 1)
        self.trunk = nn.Sequential(*layers)
        self.proj = nn.Linear(w[-1], cfg.text_dim)
        self.classify = nn.Linear(w[-1], max(1, len(cfg.categories)))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))  # CLIP's start

    def forward(self, images: torch.Tensor) -> Encoded:
        """images: [N, 3, H, W] in [-1, 1]."""
        feats = self.trunk(images).mean(dim=(2, 3))
        return Encoded(feats, F.normalize(self.proj(feats), dim=1), self.classify(feats))

    def alignment(self, cosine: torch.Tensor) -> torch.Tensor:
        """Calibrated 0..1 alignment (an estimate of P(caption matches image))."""
        return torch.sigmoid(self.cfg.calib_a * cosine + self.cfg.calib_b)

    @torch.inference_mode()
    def encode(self, images: torch.Tensor, batch_size: int = 256) -> Encoded:
        """Batched inference on any number of images; results on the CPU."""
        device = next(self.parameters()).device
        parts = [
            self(images[i : i + batch_size].to(device)) for i in range(0, len(images), batch_size)
        ]
        if not parts:
            d = self.cfg.feature_dim
            return Encoded(
                torch.empty(0, d),
                torch.empty(0, self.cfg.text_dim),
                torch.empty(0, len(self.cfg.categories)),
            )
        return Encoded(
            *(
                torch.cat([getattr(p, k).float().cpu() for p in parts])
                for k in ("features", "embedding", "logits")
            )
        )


def pil_to_uint8(images: list[Image.Image], size: int = 64) -> torch.Tensor:
    """RGB images -> [N, 3, size, size] uint8 (resized with the catalog's filter if needed)."""
    arrs = []
    for im in images:
        rgb = im.convert("RGB")
        if rgb.size != (size, size):
            rgb = rgb.resize((size, size), RESIZE_FILTER)
        arrs.append(np.asarray(rgb, dtype=np.uint8))
    if not arrs:
        return torch.empty(0, 3, size, size, dtype=torch.uint8)
    return torch.from_numpy(np.stack(arrs)).permute(0, 3, 1, 2).contiguous()


def uint8_to_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 [N, 3, H, W] -> float [-1, 1] (the GAN's range)."""
    return images.float() / 127.5 - 1.0


def save_evaluator(out_dir: Path, model: Evaluator) -> None:
    """Weights are stored in fp16 to fit the repo's size budget; callers round the model with
    `round_to_fp16` *before* calibrating, so the saved model is exactly the calibrated one."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model.cfg.save(out_dir / CONFIG)
    state = {
        k: v.detach().cpu().to(torch.float16).contiguous() for k, v in model.state_dict().items()
    }
    save_file(state, str(out_dir / WEIGHTS), metadata={"format": "pt", "dtype": "float16"})


def round_to_fp16(model: Evaluator) -> None:
    with torch.no_grad():
        for p in model.state_dict().values():
            if p.is_floating_point():
                p.copy_(p.half().float())


def load_evaluator(model_dir: Path, device: str | torch.device = "cpu") -> Evaluator:
    cfg = EvaluatorConfig.load(Path(model_dir) / CONFIG)
    model = Evaluator(cfg)
    state = load_file(str(Path(model_dir) / WEIGHTS), device="cpu")
    model.load_state_dict({k: v.float() for k, v in state.items()})
    return model.to(device).eval().requires_grad_(False)


def has_evaluator(model_dir: Path) -> bool:
    return (Path(model_dir) / CONFIG).exists() and (Path(model_dir) / WEIGHTS).exists()
