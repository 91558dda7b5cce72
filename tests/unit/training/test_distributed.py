"""`train` under torchrun: two CPU ranks (gloo) stay identical, rank 0 alone writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from shared.training.data import TrainingSet
from shared.training.distributed import Ranks

from .helpers import fake_embed, synthetic_catalog

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = """
import hashlib, os, sys
from pathlib import Path
from shared.gan.config import GANConfig
from shared.training.loop import TrainOptions, train
from tests.unit.training.helpers import fake_embed
cat, out, steps = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
cfg = GANConfig(image_size=16, z_dim=8, ngf=4, ndf=4, cond_hidden=8)
res = train(TrainOptions(data=cat, out=out, cfg=cfg, steps=steps, batch_size=2, seed=3,
                         device="cpu", precision="fp32", threads=1, gp_every=2, log_every=1,
                         sample_every=100, checkpoint_every=100, n_prompts=2,
                         distributed=True), embed=fake_embed)
weights = b"".join(p.detach().numpy().tobytes() for p in res.generator.parameters())
Path(sys.argv[4], "rank" + os.environ["RANK"]).write_text(hashlib.sha256(weights).hexdigest())
"""


def test_shards_are_disjoint_and_cover_the_catalog(tmp_path: Path) -> None:
    from shared.training.data import load_training_set

    synthetic_catalog(tmp_path / "cat")
    data: TrainingSet = load_training_set(tmp_path / "cat", 16, fake_embed)
    shards = [data.shard(r, 3) for r in range(3)]
    files = [it.file_name for s in shards for it in s.items]
    assert sorted(files) == sorted(it.file_name for it in data.items)
    assert len(set(files)) == len(files)
    first = shards[1]
    assert torch.equal(first.images[0], data.images[1])  # rows follow their items


def test_one_process_is_a_no_op() -> None:
    ranks, model = Ranks(), torch.nn.Linear(2, 1)
    model(torch.ones(1, 2)).sum().backward()
    before = model.weight.grad.clone()
    ranks.average_gradients(model)
    ranks.broadcast(model)
    assert torch.equal(model.weight.grad, before) and ranks.agree(True) and ranks.writer


def test_two_gloo_ranks_train_in_lockstep(tmp_path: Path) -> None:
    synthetic_catalog(tmp_path / "cat")
    (tmp_path / "script.py").write_text(SCRIPT)
    (tmp_path / "digests").mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nnodes",
        "1",
        "--nproc_per_node",
        "2",
        str(tmp_path / "script.py"),
        str(tmp_path / "cat"),
        str(tmp_path / "run"),
        "3",
        str(tmp_path / "digests"),
    ]
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    digests = {p.name: p.read_text() for p in (tmp_path / "digests").iterdir()}
    assert set(digests) == {"rank0", "rank1"}
    assert digests["rank0"] == digests["rank1"]  # averaged gradients keep the replicas equal
    options = json.loads((tmp_path / "run" / "options.json").read_text())
    assert options["world_size"] == 2 and options["images_per_step"] == 4
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "log.jsonl").open()]
    assert steps == [1, 2, 3]  # one writer: no line twice
    meta = json.loads((tmp_path / "run" / "model" / "meta.json").read_text())
    assert meta["images_seen"] == 3 * 2 * 2
