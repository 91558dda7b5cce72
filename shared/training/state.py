"""Training state (networks, EMA, optimisers, RNGs) as flat safetensors: exact resume, no pickle.

An optimiser's state_dict is nested ({"state": {param_id: {name: tensor}}, "param_groups": [..]}).
Tensors go into the safetensors file under "opt_g/state/<id>/<name>"; the JSON-able rest
(param_groups, scalar entries) goes into the file's string metadata.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file


def flatten_optimizer(
    prefix: str, opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict[str, str]
) -> None:
    sd = opt.state_dict()
    scalars: dict[str, dict[str, Any]] = {}
    for pid, entries in sd["state"].items():
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}/state/{pid}/{name}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(pid), {})[name] = value
    meta[f"{prefix}/param_groups"] = json.dumps(sd["param_groups"])
    meta[f"{prefix}/scalars"] = json.dumps(scalars)


def unflatten_optimizer(
    prefix: str, tensors: dict[str, torch.Tensor], meta: dict[str, str]
) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith(f"{prefix}/state/"):
            _, _, pid, name = key.split("/", 3)
            state.setdefault(int(pid), {})[name] = value
    for pid, entries in json.loads(meta[f"{prefix}/scalars"]).items():
        state.setdefault(int(pid), {}).update(entries)
    return {"state": state, "param_groups": json.loads(meta[f"{prefix}/param_groups"])}


def save_training_state(
    path: str | Path,
    modules: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    generators: dict[str, torch.Generator],
    info: dict[str, Any],
) -> None:
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, str] = {"info": json.dumps(info)}
    for name, module in modules.items():
        for key, value in module.state_dict().items():
            tensors[f"{name}/{key}"] = value.detach().cpu().contiguous()
    for name, opt in optimizers.items():
        flatten_optimizer(name, opt, tensors, meta)
    for name, gen in generators.items():
        tensors[f"rng/{name}"] = gen.get_state()
    tmp = Path(str(path) + ".tmp")
    save_file(tensors, str(tmp), metadata=meta)
    tmp.replace(path)  # never leave a half-written checkpoint behind


def load_training_state(
    path: str | Path,
    modules: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    generators: dict[str, torch.Generator],
) -> dict[str, Any]:
    with safe_open(str(path), framework="pt", device="cpu") as fh:
        meta = fh.metadata()
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 (not a dict)
    for name, module in modules.items():
        sub = {k[len(name) + 1 :]: v for k, v in tensors.items() if k.startswith(f"{name}/")}
        module.load_state_dict(sub)
    for name, opt in optimizers.items():
        opt.load_state_dict(unflatten_optimizer(name, tensors, meta))
    for name, gen in generators.items():
        gen.set_state(tensors[f"rng/{name}"])
    return dict(json.loads(meta["info"]))
