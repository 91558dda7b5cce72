"""A tiny evaluator trained in-session on synthetic coloured shapes ("red circle"...), with a
hashed bag-of-words text encoder standing in for MiniLM (fast, deterministic, and structured
like the real one: captions sharing a word share a direction)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from shared.eval.train import EvaluatorTrainOptions, train_evaluator
from shared.gan.checkpoint import load_model
from shared.generation import GeneratorRuntime, save_untrained_model
from tests.conftest import TINY_GAN

COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 170, 50),
    "blue": (30, 60, 220),
    "yellow": (235, 200, 20),
    "purple": (140, 40, 170),
    "black": (20, 20, 20),
}
SHAPES = ("circle", "square", "triangle", "cross")
CATEGORY = {"circle": "round things", "square": "boxes", "triangle": "signs", "cross": "tools"}
SIZE = 32  # small images keep the in-test training to seconds


class HashEncoder:
    DIM = 384

    def __init__(self) -> None:
        self.calls = 0

    @staticmethod
    def _word(word: str) -> torch.Tensor:
        seed = int(hashlib.sha256(word.encode()).hexdigest()[:8], 16)
        return torch.randn(HashEncoder.DIM, generator=torch.Generator().manual_seed(seed))

    def encode(self, texts: list[str] | str) -> torch.Tensor:
        self.calls += 1
        if isinstance(texts, str):
            texts = [texts]
        rows = [
            sum((self._word(w) for w in t.lower().split()), torch.zeros(self.DIM)) for t in texts
        ]
        return F.normalize(torch.stack(rows), dim=1) if rows else torch.empty(0, self.DIM)


def draw_shape(
    shape: str, colour: tuple[int, int, int], rng: np.random.Generator, size: int = SIZE
) -> Image.Image:
    im = Image.new("RGB", (size, size), (255, 255, 255))
    d = ImageDraw.Draw(im)
    r = int(rng.integers(size // 5, size // 3))
    cx, cy = (int(v) for v in rng.integers(r + 2, size - r - 2, 2))
    box = (cx - r, cy - r, cx + r, cy + r)
    if shape == "circle":
        d.ellipse(box, fill=colour)
    elif shape == "square":
        d.rectangle(box, fill=colour)
    elif shape == "triangle":
        d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
    else:
        w = r // 3
        d.rectangle((cx - w, cy - r, cx + w, cy + r), fill=colour)
        d.rectangle((cx - r, cy - w, cx + r, cy + w), fill=colour)
    return im


def build_shapes_catalog(root: Path, per_concept: int = 8, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for colour, rgb in COLOURS.items():
        for shape in SHAPES:
            for k in range(per_concept):
                name = f"images/{shape}__{colour}__{k}.png"
                draw_shape(shape, rgb, rng).save(root / name)
                split = "test" if k == 0 else "val" if k == 1 else "train"
                lines.append(
                    {
                        "file_name": name,
                        "split": split,
                        "category": CATEGORY[shape],
                        "captions": [f"{colour} {shape}", f"a {colour} {shape}"],
                        "concept": f"{colour} {shape}",
                    }
                )
    with open(root / "metadata.jsonl", "w", encoding="utf-8") as fh:
        for rec in lines:
            fh.write(json.dumps(rec) + "\n")
    return root


@pytest.fixture(scope="session")
def shapes_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_shapes_catalog(tmp_path_factory.mktemp("shapes"))


@pytest.fixture(scope="session")
def hash_encoder() -> HashEncoder:
    return HashEncoder()


@pytest.fixture(scope="session")
def tiny_evaluator(
    shapes_catalog: Path, hash_encoder: HashEncoder, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, float]]:
    out = tmp_path_factory.mktemp("evaluator")
    torch.set_num_threads(2)
    opts = EvaluatorTrainOptions(
        steps=120, batch_size=32, lr=3e-3, widths=(8, 16, 32), bank_size=40, image_size=SIZE
    )
    metrics = train_evaluator(shapes_catalog, out, hash_encoder, opts)
    return out, metrics


@pytest.fixture(scope="session")
def runtime(
    tmp_path_factory: pytest.TempPathFactory, hash_encoder: HashEncoder
) -> GeneratorRuntime:
    model_dir = save_untrained_model(tmp_path_factory.mktemp("gan"), seed=0, **TINY_GAN)
    # An untrained D is still a D: realism is computed whenever a discriminator is present.
    from shared.gan.checkpoint import save_model
    from shared.gan.discriminator import Discriminator

    bundle = load_model(model_dir)
    save_model(
        model_dir,
        bundle.config,
        bundle.generator,
        Discriminator(bundle.config),
        meta={"untrained": True},
    )
    return GeneratorRuntime(
        bundle=load_model(model_dir),
        encoder=hash_encoder,  # type: ignore[arg-type]
        device=torch.device("cpu"),
        model_dir=model_dir,
        untrained=True,
    )
