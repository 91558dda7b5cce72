"""Turn a training run into a small, documented model directory (the committed default model).

Writes fp16 safetensors + config/meta, a captioned grid for held-out prompts, the loss plot and
measured numbers the model card quotes.  Noise is made per sample from its seed exactly as the
worker does, so anyone can regenerate the grid.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from shared.catalog.augment import visible_colour, with_colour, without_colour
from shared.eval.metrics import kind_accuracy_metric
from shared.eval.model import Evaluator, pil_to_uint8, uint8_to_input
from shared.gan.checkpoint import load_model, save_model
from shared.gan.projected import AnyDiscriminator
from shared.gan.sampling import seeded_noise, to_pil
from shared.training.data import Embed, colour_of
from shared.training.loop import default_prompts
from shared.training.visuals import captioned_grid

SampleFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (z, sentence) -> images


def product_pixels(image: Image.Image) -> Image.Image:
    """A generated picture as RGBA whose near-white ground is transparent: what the colour and
    shade checks read (they count opaque pixels). Near-white parts enclosed by the product
    (a white plate inside its outline) stay opaque, as in the catalog's own cut-outs."""
    from shared.eval.lab_colour import GROUND
    from shared.imaging_ground import ground

    rgb = np.asarray(image.convert("RGB"))
    alpha = np.where(ground(rgb, GROUND), 0, 255).astype(np.uint8)
    return Image.fromarray(np.dstack([rgb, alpha]), "RGBA")


def product_colour(image: Image.Image) -> str | None:
    """The palette word for an image's product pixels (near-white background ignored)."""
    return visible_colour(product_pixels(image))


def unseen_colour_prompts(data: Path, n: int, seed: int) -> list[str]:
    """Held-out prompts for products the model did learn: a train-split product in a palette
    colour never paired with it in training ("purple handbag" when only red and black ones were
    seen). The exact text never occurred in training; the product kind did."""
    from shared.catalog.augment import PALETTE
    from shared.catalog.format import load_catalog

    seen: dict[str, set[str]] = {}
    base: dict[str, str] = {}
    for it in load_catalog(data, "train"):
        concept = it.concept or it.caption
        seen.setdefault(concept, set()).update(c for c in map(colour_of, it.captions) if c)
        plain = [c for c in it.captions if colour_of(c) is None]
        if plain and (concept not in base or len(plain[0]) < len(base[concept])):
            base[concept] = plain[0]
    rng = random.Random(seed)
    concepts = sorted(base)
    rng.shuffle(concepts)
    prompts = []
    for concept in concepts:
        fresh = [c for c in PALETTE if c not in seen[concept]]
        if fresh:
            prompts.append(with_colour(base[concept], rng.choice(fresh)))
        if len(prompts) == n:
            break
    return prompts


@dataclass
class GridReport:
    prompts: list[str]
    colour_prompts: int
    colour_match: float  # share of samples for colour prompts whose product reads as that colour
    d_match_minus_mismatch: float  # mean D logit, true prompt minus a shuffled prompt
    kind_top1: float = float("nan")  # evaluator picks the right product among the grid's, colour
    kind_top5: float = float("nan")  # held fixed (kind_candidates_for); chance 1/K and 5/K
    kind_candidates: int = 0
    real_kind_top1: float = float("nan")  # the same judge on real pictures of these products
    # ... on the catalog's own recoloured renders of these products, in a colour each was
    # rendered in (the real pictures nearest to "a learnt product in a new colour"), and how
    # many of those read as their colour: the judge's ceiling when the colour is not the
    # product's usual one (docs/gan.md: it is far below real_kind_top1).
    real_recoloured_kind_top1: float = float("nan")
    real_recoloured_colour_match: float = float("nan")
    # ... on real pictures of these products re-coloured into *the colour each prompt asks*
    # (real_new_colour_ceiling: the same question the model gets, asked of real pictures), how
    # many there were, and the model's own kind top-1 on just those prompts, to compare like
    # with like (a hue rotation cannot re-colour every product).
    real_new_colour_kind_top1: float = float("nan")
    real_new_colour_colour_match: float = float("nan")
    real_new_colour_pictures: int = 0
    kind_top1_where_real_new_colour: float = float("nan")
    # The colour-blind second judge (shared/eval/lite2_kind.py: Lite2 features, grey, product
    # centroids of real catalog pictures) and its ceiling on those pictures, each left out.
    lite2_kind_top1: float = float("nan")
    lite2_kind_top5: float = float("nan")
    real_lite2_kind_top1: float = float("nan")
    seed_diversity: float = float("nan")  # Lite2 cosine distance between seeds of one prompt
    real_diversity: float = float("nan")  # ... between real renders of one product
    nearest_train_distance: float = float("nan")  # Lite2 distance to the nearest train picture
    # colour_match by a reading that shares no rule with the check the colour-word pass trains
    # against (shared/eval/lab_colour.py: mean CIELAB colour of the product, nearest word).
    lab_colour_match: float = float("nan")


def kind_candidates_for(prompts: list[str]) -> list[list[str]]:
    """For each prompt, every grid product in *that prompt's* colour (or none): "yellow hammer"
    -> ["yellow hammer", "yellow violin", ...], so only the product tells them apart."""
    kinds = [without_colour(p) for p in prompts]
    out = []
    for p in prompts:
        colour = colour_of(p)
        out.append([with_colour(k, colour) if colour else k for k in kinds])
    return out


def kind_scores(
    images: list[Image.Image],
    cells: list[str],
    prompts: list[str],
    embed: Embed,
    evaluator: Evaluator,
) -> dict[str, float]:
    """kind_accuracy_metric for grid cells (``cells[i]`` is one of ``prompts``)."""
    candidates = kind_candidates_for(prompts)
    texts = sorted({t for row in candidates for t in row})
    text_emb = torch.nn.functional.normalize(embed(texts).float(), dim=1)
    row_of = {t: i for i, t in enumerate(texts)}
    per_prompt = torch.stack([text_emb[[row_of[t] for t in row]] for row in candidates])
    index = {p: i for i, p in enumerate(prompts)}
    which = [index[c] for c in cells]
    pixels = uint8_to_input(pil_to_uint8(images, evaluator.cfg.image_size))  # as eval reads PNGs
    image_emb = evaluator.encode(pixels).embedding
    return kind_accuracy_metric(image_emb, per_prompt[which], np.asarray(which))


def real_kind_ceiling(
    data: Path, prompts: list[str], embed: Embed, evaluator: Evaluator, per_prompt: int = 2
) -> dict[str, float]:
    """kind_scores for real catalog pictures of the grid's products (captions without the colour
    word, as the pictures are in their own colours): what the judge reads off real products."""
    from shared.catalog.format import load_catalog

    kinds = [without_colour(p) for p in prompts]
    found: dict[str, list[Path]] = {k: [] for k in kinds}
    for it in load_catalog(data):
        for k in set(it.captions) & found.keys():
            if len(found[k]) < per_prompt:
                found[k].append(it.path)
    cells = [k for k in kinds for _ in found[k]]
    if len(set(cells)) < 2:
        return {}
    images = []
    for k in kinds:
        for path in found[k]:
            with Image.open(path) as im:
                images.append(im.convert("RGB"))
    return kind_scores(images, cells, kinds, embed, evaluator)


def real_recoloured_ceiling(
    data: Path, prompts: list[str], embed: Embed, evaluator: Evaluator, per_prompt: int = 2
) -> dict[str, float]:
    """kind_scores (and colour match) for the catalog's recoloured renders of the grid's
    products: per product the first colour it was rendered in (sorted, so the draw is fixed),
    up to ``per_prompt`` pictures, captioned and judged in that colour like the grid's cells.
    Products never recoloured (grey, black and white drawings) are left out."""
    from shared.catalog.format import load_catalog

    kinds = {without_colour(p) for p in prompts}
    found: dict[str, list[tuple[str, Path]]] = {}
    for it in sorted(load_catalog(data), key=lambda it: it.file_name):
        for caption in it.captions:
            kind = without_colour(caption)
            if colour_of(caption) is None or kind not in kinds:
                continue
            chosen = found.setdefault(kind, [])
            if len(chosen) < per_prompt and all(c == caption for c, _ in chosen):
                chosen.append((caption, it.path))
    pairs = [pair for kind in sorted(found) for pair in found[kind]]
    if len({c for c, _ in pairs}) < 2:
        return {}
    images = []
    for _, path in pairs:
        with Image.open(path) as im:
            images.append(im.convert("RGB"))
    cells = [c for c, _ in pairs]
    scores = kind_scores(images, cells, sorted(set(cells)), embed, evaluator)
    read = [product_colour(im) == colour_of(c) for im, c in zip(images, cells, strict=True)]
    return {**scores, "colour_match": sum(read) / len(read), "pictures": float(len(read))}


def real_new_colour_ceiling(
    data: Path, prompts: list[str], embed: Embed, evaluator: Evaluator
) -> dict[str, Any]:
    """kind_scores for *real* pictures of the grid's products in the colour each prompt asks:
    every base render (one per art style; the default builder's ``__base`` files, so a shop
    catalog without them gets no figure) of the prompt's product, re-coloured by the catalog
    builder's own method (``augment.recolour``, kept only where the result reads as that colour)
    and judged exactly like the grid's cells, among all of ``prompts``. For
    ``unseen_colour_prompts`` the colours were never paired with these products in training,
    so this is what the judge gives a real product in a new colour, the question those prompts
    ask of a model (the catalog's own recolours, ``real_recoloured_ceiling``, are training
    pictures the judge has seen in that colour); for held-out products, what it gives a real
    picture of a product it never saw, in the colour asked. ``"prompts"``: those with at least
    one such picture, so a model can be read on the same ones."""
    from shared.catalog.augment import recolour
    from shared.catalog.format import load_catalog
    from shared.eval.baseline import cut_out, on_white

    wanted: dict[str, list[str]] = {}  # product -> the colour prompts that ask for it
    for p in prompts:
        if colour_of(p):
            wanted.setdefault(without_colour(p), []).append(p)
    images: list[Image.Image] = []
    cells: list[str] = []
    for it in sorted(load_catalog(data), key=lambda it: it.file_name):
        kinds = {without_colour(c) for c in it.captions} & wanted.keys()
        if "__base" not in it.file_name or not kinds:
            continue
        with Image.open(it.path) as im:
            cut = cut_out(im.convert("RGB"))
        for kind in sorted(kinds):
            for prompt in wanted[kind]:
                changed = recolour(cut, colour_of(prompt) or "")
                if changed is not None:
                    images.append(on_white(changed))
                    cells.append(prompt)
    if len(set(cells)) < 2:
        return {}
    scores = kind_scores(images, cells, prompts, embed, evaluator)
    read = [product_colour(im) == colour_of(c) for im, c in zip(images, cells, strict=True)]
    return {
        **scores,
        "colour_match": sum(read) / len(read),
        "pictures": float(len(read)),
        "prompts": sorted(set(cells)),
    }


@dataclass
class ExportReport:
    version: str
    held_out: GridReport  # test-split products (never seen)
    unseen_colours: GridReport  # train-split products in colours never seen with them
    shade_words: dict[str, float]  # kind_check.shade_check on n_prompts learnt products


@torch.no_grad()
def sample_cells(
    gen: SampleFn, z_dim: int, prompts: list[str], embed: Embed, per_prompt: int, chunk: int = 256
) -> tuple[list[str], torch.Tensor, torch.Tensor]:
    """Every prompt ``per_prompt`` times, cell i with noise seed 1000 + i (as the worker seeds
    it), in forward passes of at most ``chunk``: (cells, their sentence embeddings, images)."""
    cells = [p for p in prompts for _ in range(per_prompt)]
    if not cells:
        return cells, torch.empty(0), torch.empty(0)
    emb = embed(cells).float()
    parts = [
        gen(
            seeded_noise(list(range(1000 + i, 1000 + min(i + chunk, len(cells)))), z_dim),
            emb[i : i + chunk],
        )
        for i in range(0, len(cells), chunk)
    ]
    return cells, emb, torch.cat(parts)


@torch.no_grad()
def grid(
    gen: SampleFn,
    disc: AnyDiscriminator | None,
    z_dim: int,
    prompts: list[str],
    embed: Embed,
    samples_per_prompt: int,
    title: str,
    out: Path,
    evaluator: Evaluator | None = None,
    data: Path | None = None,
    diversity: bool = False,
) -> GridReport:
    """A captioned grid (noise per seed, exactly as the worker makes it) and what it measures;
    kind accuracy with an ``evaluator``, and its real-picture ceiling from catalog ``data``;
    with ``diversity``, the Lite2 spread of seeds beside that of real renders."""
    cells, emb, images = sample_cells(gen, z_dim, prompts, embed, samples_per_prompt)
    pil = to_pil(images)
    captioned_grid(pil, cells, columns=8, title=title).save(out, optimize=True)
    wanted = [colour_of(c) for c in cells]
    judged = [(w, product_colour(im)) for w, im in zip(wanted, pil, strict=True) if w]
    match = sum(w == got for w, got in judged) / len(judged) if judged else float("nan")
    gap = float("nan")
    if disc is not None:
        real = disc.score(images, emb)
        wrong = disc.score(images, emb.roll(samples_per_prompt, dims=0))
        gap = float((real - wrong).mean())
    report = GridReport(prompts, len(judged), match, gap)
    if judged:
        from shared.eval.lab_colour import lab_colour

        second = [(w, lab_colour(im)) for w, im in zip(wanted, pil, strict=True) if w]
        report.lab_colour_match = sum(w == got for w, got in second) / len(second)
    if evaluator is not None and len(prompts) > 1:
        kind = kind_scores(pil, cells, prompts, embed, evaluator)
        report.kind_top1, report.kind_top5 = kind["kind_top1"], kind["kind_top5"]
        report.kind_candidates = int(kind["kind_candidates"])
        if data is not None:
            ceiling = real_kind_ceiling(data, prompts, embed, evaluator)
            report.real_kind_top1 = ceiling.get("kind_top1", float("nan"))
            if judged:  # a colour grid: also the ceiling for real pictures in a new colour
                again = real_recoloured_ceiling(data, prompts, embed, evaluator)
                report.real_recoloured_kind_top1 = again.get("kind_top1", float("nan"))
                report.real_recoloured_colour_match = again.get("colour_match", float("nan"))
                new = real_new_colour_ceiling(data, prompts, embed, evaluator)
                if new:
                    report.real_new_colour_kind_top1 = new["kind_top1"]
                    report.real_new_colour_colour_match = new["colour_match"]
                    report.real_new_colour_pictures = int(new["pictures"])
                    same = [i for i, c in enumerate(cells) if c in set(new["prompts"])]
                    mine = kind_scores(
                        [pil[i] for i in same], [cells[i] for i in same], prompts, embed, evaluator
                    )
                    report.kind_top1_where_real_new_colour = mine["kind_top1"]
    if data is not None and len(prompts) > 1:
        from shared.eval.lite2_kind import lite2_kind_scores

        blind = lite2_kind_scores(pil, cells, prompts, Path(data))
        report.lite2_kind_top1 = blind.get("lite2_kind_top1", float("nan"))
        report.lite2_kind_top5 = blind.get("lite2_kind_top5", float("nan"))
        report.real_lite2_kind_top1 = blind.get("real_lite2_kind_top1", float("nan"))
    if diversity and samples_per_prompt > 1:
        from shared.eval.diversity import nearest_train_distance, real_diversity, sample_diversity

        report.seed_diversity = sample_diversity(pil, cells)
        if data is not None:
            report.real_diversity = real_diversity(data, prompts)
            report.nearest_train_distance = nearest_train_distance(pil, Path(data))
    return report


@torch.no_grad()
def export_model(
    run_dir: str | Path,
    out_dir: str | Path,
    data_dir: str | Path,
    embed: Embed,
    n_prompts: int = 32,
    samples_per_prompt: int = 2,
    seed: int = 1,
    weights_dtype: torch.dtype = torch.float16,
    evaluator: Evaluator | None = None,
) -> ExportReport:
    run, out = Path(run_dir), Path(out_dir)
    bundle = load_model(run / "model")
    cfg, gen, disc = bundle.config, bundle.generator, bundle.discriminator
    out.mkdir(parents=True, exist_ok=True)
    options = json.loads((run / "options.json").read_text())
    meta = {
        **bundle.meta,
        "trained_steps": bundle.meta.get("total_steps", bundle.meta.get("step")),
        "weights_dtype": str(weights_dtype).replace("torch.", ""),
        "train_images": options["train_images"],
        "batch_size": options["batch_size"],
        "source_run": str(run),
    }
    version = save_model(out, cfg, gen, disc, meta=meta, weights_dtype=weights_dtype)
    if (run / "loss.png").exists():
        shutil.copy(run / "loss.png", out / "loss.png")
    held_out = grid(
        gen,
        disc,
        cfg.z_dim,
        default_prompts(Path(data_dir), n_prompts, seed),
        embed,
        samples_per_prompt,
        f"held-out (test split) products, never seen; "
        f"{samples_per_prompt} seeds each; model {version}",
        out / "samples.png",
        evaluator,
        Path(data_dir),
    )
    unseen = grid(
        gen,
        disc,
        cfg.z_dim,
        unseen_colour_prompts(Path(data_dir), n_prompts, seed),
        embed,
        samples_per_prompt,
        f"train-split products in colours never paired "
        f"with them; {samples_per_prompt} seeds each; model {version}",
        out / "samples_unseen_colours.png",
        evaluator,
        Path(data_dir),
    )
    from shared.training.kind_check import shade_check, shade_prompts

    shades = shade_check(
        gen,
        cfg.z_dim,
        shade_prompts(Path(data_dir), n_prompts, seed),
        embed,
        samples_per_prompt,
        out / "samples_shades.png",
    )
    return ExportReport(version, held_out, unseen, shades)
