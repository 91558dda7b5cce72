"""Measure a model's grids at a larger scale than the model card shows them.

    adgen eval kinds MODEL_DIR DATA_DIR [--prompts 128] [--seeds 2]
    adgen eval kinds baseline DATA_DIR      # retrieve + recolour, no GAN
    adgen eval kinds curve DATA_DIR --run-dir RUN  # every snapshots/step_N
    adgen eval kinds judge DATA_DIR         # the judge itself, on real pictures per split

Same measures as the export grids (colour match, D gap, kind accuracy with the colour word held
fixed, real-picture ceiling) over more prompts, so two models can be told apart: with 32
prompts and near-identical seeds one product more or less moves kind accuracy by 3 points.
Also the Lite2 diversity of seeds beside that of real renders.  ``curve`` writes one JSON line
per snapshot (with its step, images seen and wall time) to RUN_DIR/kind_curve.jsonl.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from shared.eval.model import Evaluator
from shared.gan.checkpoint import load_model
from shared.training.data import Embed
from shared.training.export import SampleFn, grid, unseen_colour_prompts
from shared.training.loop import default_prompts

BASELINE = "baseline"
VARIANTS = ("own colour", "recoloured")


def judge_check(
    data: Path, embed: Embed, evaluator: Evaluator, products: int = 60, seed: int = 0
) -> list[dict[str, Any]]:
    """How far the kind judge can be trusted: its kind accuracy on *real* catalog pictures,
    per split (the evaluator was trained on "train") and per variant ("own colour": base
    renders with their plain caption; "recoloured": the catalog's recolours, captioned and
    judged in their colour), one picture for each of up to ``products`` products.  A judge
    that reads products would score alike on every split; one that remembers its training
    pictures scores high on train only, and then a model is rewarded for copying them."""
    import random

    from PIL import Image

    from shared.catalog.augment import without_colour
    from shared.catalog.format import load_catalog
    from shared.training.data import colour_of
    from shared.training.export import kind_scores

    rows = []
    for split in ("train", "val", "test"):
        items = sorted(load_catalog(data, split), key=lambda it: it.file_name)
        random.Random(seed).shuffle(items)
        for variant in VARIANTS:
            chosen: dict[str, tuple[str, Path]] = {}  # product -> (caption, picture)
            for it in items:
                base = "__base" in it.file_name
                if variant == "own colour":
                    caption = it.captions[0] if base else None
                else:
                    caption = next((c for c in it.captions if colour_of(c)), None)
                if caption is not None and without_colour(caption) not in chosen:
                    chosen[without_colour(caption)] = (caption, it.path)
                if len(chosen) == products:
                    break
            if len(chosen) < 2:
                continue
            cells = [c for c, _ in chosen.values()]
            images = []
            for _, path in chosen.values():
                with Image.open(path) as im:
                    images.append(im.convert("RGB"))
            scores = kind_scores(images, cells, cells, embed, evaluator)
            rows.append({"split": split, "variant": variant, **scores})
    return rows


def colour_readings(data: Path, split: str = "train") -> dict[str, float]:
    """How often each colour reading (the check, shared/catalog/augment.py::visible_colour, and
    the mean Lab colour, shared/eval/lab_colour.py) names the colour in the caption of the
    catalog's coloured pictures of ``split``: the ceiling each reading has on real pictures."""
    from PIL import Image

    from shared.catalog.format import load_catalog
    from shared.eval.lab_colour import lab_colour
    from shared.training.data import colour_of
    from shared.training.export import product_colour

    check = lab = total = 0
    for it in load_catalog(data, split):
        word = next((w for w in map(colour_of, it.captions) if w), None)
        if word is None:
            continue
        with Image.open(it.path) as im:
            rgb = im.convert("RGB")
        total += 1
        check += product_colour(rgb) == word
        lab += lab_colour(rgb) == word
    if total == 0:
        return {"pictures": 0.0}
    return {"pictures": float(total), "check": check / total, "lab": lab / total}


def shade_prompts(data: Path, prompts: int = 128, seed: int = 1) -> list[str]:
    """The learnt products of ``unseen_colour_prompts`` asked in each of augment.SHADES
    ("black handbag", "white handbag", "brown handbag"): words no catalog recolour makes."""
    from shared.catalog.augment import SHADES, with_colour, without_colour

    bases = [without_colour(p) for p in unseen_colour_prompts(data, prompts, seed)]
    return [with_colour(base, shade) for shade in SHADES for base in bases]


OUTLINE_SHARE = 0.02  # share of a product's pixels that read as black for it to keep an outline


def outlined(product: Image.Image) -> bool:
    """Whether a product (RGBA as ``export.product_pixels`` cuts it out) keeps a dark outline:
    at least ``OUTLINE_SHARE`` of its pixels (enclosed white included, ground not) darker than
    the black threshold. The catalog's drawings are outlined; a white product that lost its
    outline fades into the white ground."""
    from shared.catalog.augment import DARK_VALUE

    rgba = np.asarray(product)
    opaque = rgba[..., 3] > 128
    dark = rgba[..., :3].max(axis=2) < DARK_VALUE * 255  # HSV value is the largest channel
    return bool(opaque.any() and (dark & opaque).sum() >= OUTLINE_SHARE * opaque.sum())


def shade_check(
    gen: SampleFn, z_dim: int, chosen: list[str], embed: Embed, seeds: int, out: Path | None
) -> dict[str, float]:
    """Share of samples whose product reads as the shade asked, per shade and in all, by the
    check (augment.reads_as) and by the mean Lab reading; ``out``: a captioned grid of the
    first 16 samples in every shade."""
    from shared.catalog.augment import SHADES, reads_as
    from shared.eval.lab_colour import lab_colour
    from shared.gan.sampling import to_pil
    from shared.training.export import product_pixels, sample_cells
    from shared.training.visuals import captioned_grid

    cells, _, images = sample_cells(gen, z_dim, chosen, embed, seeds)
    pil = to_pil(images) if cells else []
    words = [c.split(" ", 1)[0] for c in cells]
    products = [product_pixels(im) for im in pil]
    check = [reads_as(p, w) for p, w in zip(products, words, strict=True)]
    lab = [lab_colour(im) == w for im, w in zip(pil, words, strict=True)]
    report: dict[str, float] = {"samples": float(len(cells))}
    show: list[int] = []
    for shade in SHADES:
        rows = [i for i, w in enumerate(words) if w == shade]
        if rows:
            report[f"{shade}_check"] = sum(check[i] for i in rows) / len(rows)
            report[f"{shade}_lab"] = sum(lab[i] for i in rows) / len(rows)
            show += rows[:16]
    whites = [products[i] for i, w in enumerate(words) if w == "white"]
    if whites:  # white on white ground: only the outline shows where the product ends
        report["white_outlined"] = sum(map(outlined, whites)) / len(whites)
    if cells:
        report["shade_match"] = sum(check) / len(check)
        report["shade_lab_match"] = sum(lab) / len(lab)
    if out is not None and show:
        title = "shade words: the colour-word pass's black, white and brown"
        captioned_grid([pil[i] for i in show], [cells[i] for i in show], title=title).save(out)
    return report


# (exemplar_gamma_range, exemplar_sat_floor) pairs shade_ceiling reports: the default, then wider.
CEILING_RANGES = ((0.7, 0.5), (1.5, 0.25), (2.0, 0.125), (2.5, 0.0625))


def shade_ceiling(
    data: Path, ranges: tuple[tuple[float, float], ...] = CEILING_RANGES, split: str = "train"
) -> list[dict[str, float]]:
    """The most black and white the re-colour output can make the catalog: every base picture
    of ``split`` at the output's limits (largest gamma and least saturation gain for black,
    smallest gamma for white; colourise uses one setting per picture, so this is its reach),
    read by the check. One row per (gamma range, saturation floor)."""
    import numpy as np
    import torch

    from shared.catalog.augment import reads_as
    from shared.catalog.format import load_catalog, load_image
    from shared.gan.recolour import hue_recolour
    from shared.gan.sampling import to_pil
    from shared.training.export import product_pixels

    items = [it for it in load_catalog(data, split) if it.path.stem.endswith("__base")]
    if not items:
        return []
    arrays = [np.array(load_image(it, 64).convert("RGB")) for it in items]
    pictures = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    rows = []
    for gamma_range, sat_floor in ranges:
        row = {"gamma_range": gamma_range, "sat_floor": sat_floor, "pictures": float(len(items))}
        for word, value in (("black", 50.0), ("white", -50.0)):
            params = torch.zeros(len(items), 4, *pictures.shape[2:])
            params[:, 2], params[:, 3] = -50.0, value  # least saturation, extreme gamma
            out = hue_recolour(pictures, params, gamma_range, sat_floor).clamp(-1.0, 1.0)
            hits = [reads_as(product_pixels(im), word) for im in to_pil(out)]
            row[word] = sum(hits) / len(hits)
        rows.append(row)
    return rows


def measure(
    model_dir: Path | str,
    data: Path,
    embed: Embed,
    evaluator: Evaluator,
    prompts: int = 128,
    seeds: int = 2,
    seed: int = 1,
    diversity: bool = True,
    grids: Path | None = None,
) -> dict[str, Any]:
    """``model_dir`` "baseline": the retrieve + recolour baseline instead of a model.
    ``grids``: keep each set's grid there (PNG per set), not only its figures."""
    sets = {
        "held_out": default_prompts(data, prompts, seed),
        "unseen_colours": unseen_colour_prompts(data, prompts, seed),
    }
    gen: SampleFn
    if str(model_dir) == BASELINE:
        from shared.eval.baseline import RetrieveRecolour

        gen, disc, z_dim = RetrieveRecolour.build(data, embed), None, 100
        out: dict[str, Any] = {"model": BASELINE, "version": "retrieve+recolour"}
    else:
        bundle = load_model(model_dir)
        gen, disc, z_dim = bundle.generator, bundle.discriminator, bundle.config.z_dim
        out = {
            "model": str(model_dir),
            "version": bundle.version,
            "step": bundle.meta.get("step"),
            "wall_s": bundle.meta.get("wall_s"),
            "cpu_s": bundle.meta.get("cpu_s"),
        }
    with tempfile.TemporaryDirectory() as tmp:
        where = grids or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        for name, chosen in sets.items():
            report = asdict(
                grid(
                    gen,
                    disc,
                    z_dim,
                    chosen,
                    embed,
                    seeds,
                    name,
                    where / f"{name}.png",
                    evaluator,
                    data,
                    diversity,
                )
            )
            report["prompts"] = len(chosen)
            out[name] = report
        shades = shade_prompts(data, prompts, seed)
        out["shade_words"] = shade_check(gen, z_dim, shades, embed, seeds, where / "shades.png")
    return out


def curve(
    run_dir: Path,
    data: Path,
    embed: Embed,
    evaluator: Evaluator,
    prompts: int = 128,
    seeds: int = 2,
    seed: int = 1,
) -> list[dict[str, Any]]:
    """kind_check on every kept snapshot not measured yet (appends to kind_curve.jsonl)."""
    path = run_dir / "kind_curve.jsonl"
    done = {json.loads(line)["snapshot"] for line in path.open()} if path.exists() else set()
    batch = json.loads((run_dir / "options.json").read_text())["batch_size"]
    rows = []
    for snap in sorted((run_dir / "snapshots").glob("step_*")):
        if snap.name in done or not (snap / "meta.json").exists():
            continue
        m = measure(snap, data, embed, evaluator, prompts, seeds, seed, diversity=True)
        u = m["unseen_colours"]
        row = {
            "snapshot": snap.name,
            "step": m["step"],
            "images_seen": m["step"] * batch,
            "wall_s": m["wall_s"],
            "cpu_s": m.get("cpu_s"),
            "kind_top1": u["kind_top1"],
            "kind_top5": u["kind_top5"],
            "colour_match": u["colour_match"],
            "lab_colour_match": u["lab_colour_match"],
            "seed_diversity": u["seed_diversity"],
            "real_diversity": u["real_diversity"],
            "nearest_train_distance": u["nearest_train_distance"],
            "real_kind_top1": u["real_kind_top1"],
            "real_recoloured_kind_top1": u["real_recoloured_kind_top1"],
            "real_new_colour_kind_top1": u["real_new_colour_kind_top1"],
            "kind_top1_where_real_new_colour": u["kind_top1_where_real_new_colour"],
            "lite2_kind_top1": u["lite2_kind_top1"],
            "real_lite2_kind_top1": u["real_lite2_kind_top1"],
            "held_out_kind_top1": m["held_out"]["kind_top1"],
            "shade_match": m["shade_words"].get("shade_match"),
            "shade_lab_match": m["shade_words"].get("shade_lab_match"),
        }
        with path.open("a") as fh:
            fh.write(json.dumps(row) + "\n")
        rows.append(row)
    return rows


def plot(run_dirs: list[Path], out: Path, prompts: int = 128, baseline: Path | None = None) -> None:
    """One figure: kind top-1 of each run's kind_curve.jsonl against images seen, run time and
    colour accuracy (chance is 1 / prompts: the candidates are the other prompts' products).
    ``baseline``: the JSON ``adgen eval kinds baseline`` prints, shown as a point."""
    from shared.training.visuals import kind_curve_plot

    curves = {}
    for run in run_dirs:
        lines = (run / "kind_curve.jsonl").read_text().splitlines()
        curves[run.name] = [json.loads(line) for line in lines if line.strip()]
    references = {}
    if baseline is not None:
        unseen = json.loads(baseline.read_text())["unseen_colours"]
        references["retrieve + recolour"] = (unseen["colour_match"], unseen["kind_top1"])
        recoloured = unseen.get("real_recoloured_kind_top1")  # baselines measured before lack it
        if recoloured is not None and recoloured == recoloured:
            point = (unseen["real_recoloured_colour_match"], recoloured)
            references["real renders, recoloured by the catalog"] = point
        new = unseen.get("real_new_colour_kind_top1")  # measured since session 15
        if new is not None and new == new:
            point = (unseen["real_new_colour_colour_match"], new)
            references["real renders, recoloured into the asked (new) colour"] = point
    kind_curve_plot(
        curves,
        out,
        chance=1 / prompts,
        title=f"kind top-1, {prompts} learnt products in unseen colours",
        references=references,
    )
