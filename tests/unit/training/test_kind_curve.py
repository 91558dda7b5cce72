"""kind_check's curve over kept snapshots, and the A/B figure drawn from two runs' curves."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from shared.training.kind_check import plot


def test_plot_draws_both_runs_from_their_curves(tmp_path: Path) -> None:
    for name, slope in (("dfgan", 1e-6), ("hybrid", 3e-6)):
        run = tmp_path / name
        run.mkdir()
        rows = [
            {
                "snapshot": f"step_{s:06d}",
                "step": s,
                "images_seen": 32 * s,
                "wall_s": 2.0 * s,
                "kind_top1": 0.008 + slope * 32 * s,
            }
            for s in (100, 200, 300)
        ]
        (run / "kind_curve.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    plot([tmp_path / "dfgan", tmp_path / "hybrid"], tmp_path / "ab.png")
    with Image.open(tmp_path / "ab.png") as im:
        assert im.width > 2 * im.height > 400  # three panels side by side


def _run(root: Path, name: str, kinds: list[float]) -> Path:
    run = root / name
    run.mkdir()
    rows = [
        {
            "step": 300 * (i + 1),
            "images_seen": 9600 * (i + 1),
            "cpu_s": 200.0 * (i + 1),
            "kind_top1": k,
            "colour_match": 0.1 * (i + 1),
        }
        for i, k in enumerate(kinds)
    ]
    (run / "kind_curve.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return run


def test_plot_draws_every_run_and_the_baseline(tmp_path: Path) -> None:
    runs = [_run(tmp_path, "a", [0.1, 0.2]), _run(tmp_path, "b", [0.5, 0.3, 0.25])]
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"unseen_colours": {"kind_top1": 0.43, "colour_match": 0.36}}))
    plain, with_point = tmp_path / "plain.png", tmp_path / "point.png"
    plot(runs, plain)
    plot(runs, with_point, baseline=baseline)
    a, b = Image.open(plain), Image.open(with_point)
    assert a.size == b.size and a.width > 2 * a.height  # three panels side by side
    assert a.tobytes() != b.tobytes()  # the baseline point (and its legend) is drawn


def test_colour_readings_on_a_catalog_with_known_colours(tmp_path: Path) -> None:
    """Both readings name a vivid red and a vivid blue square; neither names a grey one
    captioned red; a picture without a colour word is not counted."""
    from shared.catalog.format import CatalogItem, write_metadata
    from shared.training.kind_check import colour_readings

    from .helpers import shape_image

    (tmp_path / "images").mkdir()
    pictures = {
        "red square": (220, 30, 30),
        "blue square": (30, 60, 220),
        "red circle": (128, 128, 128),
        "circle": (30, 160, 30),
    }
    items = []
    for i, (caption, rgb) in enumerate(pictures.items()):
        shape_image(rgb, caption.split()[-1], 32).save(tmp_path / f"images/{i}.png")
        items.append(CatalogItem(f"images/{i}.png", [caption], "toys", "train", caption, "user"))
    write_metadata(tmp_path, items)
    read = colour_readings(tmp_path)
    assert read == {"pictures": 3.0, "check": 2 / 3, "lab": 2 / 3}


def test_shade_check_scores_each_shade_and_draws_its_grid(tmp_path: Path) -> None:
    """A fake generator that paints every prompt's square in the shade its first word names,
    except that it draws "white" as mid grey: black and brown read right by both readings,
    white by neither, and the overall share is two thirds."""
    import torch

    from shared.catalog.augment import SHADES
    from shared.training.kind_check import shade_check

    paint = {"black": (25, 25, 30), "white": (128, 128, 128), "brown": (130, 66, 18)}
    prompts = [f"{shade} {thing}" for shade in SHADES for thing in ("handbag", "mug")]

    def embed(texts: list[str]) -> torch.Tensor:
        return torch.tensor([[float(SHADES.index(t.split()[0]))] for t in texts])

    def gen(z: torch.Tensor, sentence: torch.Tensor) -> torch.Tensor:
        out = torch.ones(len(z), 3, 32, 32)  # white ground
        for i, k in enumerate(sentence[:, 0].long().tolist()):
            rgb = torch.tensor(paint[SHADES[k]], dtype=torch.float32) / 127.5 - 1
            out[i, :, 6:26, 6:26] = rgb[:, None, None]
        return out

    report = shade_check(gen, 8, prompts, embed, seeds=2, out=tmp_path / "shades.png")
    assert report["samples"] == 12
    assert report["black_check"] == report["brown_check"] == 1.0
    assert report["black_lab"] == report["brown_lab"] == 1.0
    assert report["white_check"] == report["white_lab"] == 0.0
    assert abs(report["shade_match"] - 2 / 3) < 1e-9
    with Image.open(tmp_path / "shades.png") as im:
        assert im.width > 64 and im.height > 64


def test_shade_prompts_ask_every_shade_of_the_same_products(tmp_path: Path) -> None:
    from shared.catalog.augment import SHADES, without_colour
    from shared.catalog.format import CatalogItem, write_metadata
    from shared.training.kind_check import shade_prompts, unseen_colour_prompts

    from .helpers import SHAPES, shape_image

    (tmp_path / "images").mkdir()
    items = []
    for i, (caption, (rgb, kind)) in enumerate(SHAPES.items()):
        shape_image(rgb, kind, 32).save(tmp_path / f"images/{i}.png")
        captions = [caption, kind]  # a colourless caption names the product's base prompt
        items.append(CatalogItem(f"images/{i}.png", captions, "toys", "train", kind, "user"))
    write_metadata(tmp_path, items)
    bases = [without_colour(p) for p in unseen_colour_prompts(tmp_path, 4, 1)]
    prompts = shade_prompts(tmp_path, 4, 1)
    assert len(prompts) == len(SHADES) * len(bases) > 0
    for shade in SHADES:
        assert sorted(without_colour(p) for p in prompts if p.startswith(shade + " ")) == sorted(
            bases
        )


def test_shade_ceiling_reads_the_reach_of_each_output_range(tmp_path: Path) -> None:
    """A red square on white can be made black or white only with the wider ranges; pictures
    that are not base renders (recolours, backgrounds) are not counted."""
    from shared.catalog.format import CatalogItem, write_metadata
    from shared.training.kind_check import shade_ceiling

    from .helpers import shape_image

    (tmp_path / "images").mkdir()
    items = []
    for name in ("square__noto__base", "square__noto__blue"):
        shape_image((220, 30, 30), "square", 32).save(tmp_path / f"images/{name}.png")
        items.append(CatalogItem(f"images/{name}.png", ["square"], "toys", "train", "square", "x"))
    write_metadata(tmp_path, items)
    rows = shade_ceiling(tmp_path, ((0.7, 0.5), (2.0, 0.125)))
    assert [r["pictures"] for r in rows] == [1.0, 1.0]
    assert (rows[0]["black"], rows[0]["white"]) == (0.0, 0.0)
    assert (rows[1]["black"], rows[1]["white"]) == (1.0, 1.0)
