"""The frozen sentence encoder: 384-d unit vectors, sensible similarities, an LRU cache."""

from __future__ import annotations

import pytest
import torch

from shared.text.encoder import TextEncoder


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder(device="cpu", cache_size=3)


def test_shape_norm_and_order(encoder: TextEncoder) -> None:
    emb = encoder.encode(["red handbag", "blue running shoe", "red handbag"])
    assert TextEncoder.DIM == 384 and emb.shape == (3, 384) and emb.dtype == torch.float32
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(3))
    assert torch.equal(emb[0], emb[2])
    assert encoder.encode("red handbag").shape == (1, 384)
    assert encoder.encode([]).shape == (0, 384)


def test_similarity_is_meaningful(encoder: TextEncoder) -> None:
    bag, purse, pizza = encoder.encode(["handbag", "purse", "pizza"])
    assert bag @ purse > bag @ pizza


def test_cache_hits_and_eviction(encoder: TextEncoder) -> None:
    encoder.encode(["a mug"])
    hits, misses = encoder.hits, encoder.misses
    again = encoder.encode(["a mug"])
    assert encoder.hits == hits + 1 and encoder.misses == misses
    encoder.encode(["one", "two", "three"])  # cache_size 3 evicts "a mug"
    assert len(encoder._cache) <= 3
    torch.testing.assert_close(encoder.encode(["a mug"]), again)
    assert encoder.misses == misses + 4
