"""The generator runtime a worker holds: model + text encoder on one device, loaded once."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from shared.gan.checkpoint import ModelBundle, load_model
from shared.gan.sampling import seeded_noise, to_pil
from shared.text.encoder import TextEncoder


@dataclass
class GeneratorRuntime:
    bundle: ModelBundle
    encoder: TextEncoder
    device: torch.device
    model_dir: Path
    max_batch: int = 256
    untrained: bool = False
    autocast_dtype: torch.dtype | None = None  # bf16 autocast (CUDA default) or None = fp32

    @classmethod
    def load(
        cls, model_dir: Path, device: str = "cpu", max_batch: int = 256, dtype: str = "auto"
    ) -> GeneratorRuntime:
        bundle = load_model(model_dir, device=device)
        meta = bundle.meta or {}
        dev = torch.device(device)
        if dtype == "auto":
            dtype = "bfloat16" if dev.type == "cuda" else "float32"
        if dev.type == "cuda":
            bundle.generator.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        return cls(
            bundle=bundle,
            encoder=TextEncoder(device=device),
            device=dev,
            model_dir=Path(model_dir),
            max_batch=max_batch,
            untrained=bool(meta.get("untrained", False)),
            autocast_dtype=torch.bfloat16 if dtype == "bfloat16" else None,
        )

    @property
    def version(self) -> str:
        return self.bundle.version

    def config_dict(self) -> dict[str, Any]:
        return dict(json.loads(self.bundle.config.to_json()))

    @property
    def z_dim(self) -> int:
        return int(self.bundle.config.z_dim)

    def noise(self, seeds: list[int]) -> torch.Tensor:
        return seeded_noise(seeds, self.z_dim).to(self.device)

    @torch.inference_mode()
    def generate(self, prompts: list[str], seeds: list[int]) -> list[Image.Image]:
        if len(prompts) != len(seeds):
            raise ValueError("one seed per prompt")
        out: list[Image.Image] = []
        for start in range(0, len(prompts), self.max_batch):
            p = prompts[start : start + self.max_batch]
            s = seeds[start : start + self.max_batch]
            emb = self.encoder.encode(p).to(self.device)
            with torch.autocast(
                self.device.type,
                dtype=self.autocast_dtype or torch.float32,
                enabled=self.autocast_dtype is not None,
            ):
                imgs = self.bundle.generator(self.noise(s), emb)
            out.extend(to_pil(imgs))
        return out

    def warmup(self) -> float:
        """One small forward pass so the first real event does not pay for lazy init."""
        t0 = time.perf_counter()
        self.generate(["red handbag", "blue running shoe"], [0, 1])
        return time.perf_counter() - t0


def save_untrained_model(out_dir: Path, seed: int = 0, **config_overrides: Any) -> Path:
    """A seeded, untrained generator checkpoint (demo fallback, tests, the metrics floor)."""
    from shared.gan.checkpoint import save_model
    from shared.gan.config import GANConfig
    from shared.gan.generator import Generator

    torch.manual_seed(seed)
    cfg = GANConfig(**config_overrides)
    gen = Generator(cfg).eval()
    save_model(Path(out_dir), cfg, gen, meta={"untrained": True, "seed": seed})
    return Path(out_dir)
