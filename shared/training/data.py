"""A catalog loaded into memory for training: uint8 images and precomputed caption embeddings.

The text encoder is frozen, so every caption is embedded once up front; a step then only
indexes tensors.  Wrong-text negatives come from two places: another image's caption (a
different product) and, for captions that name a verified colour, the same caption with the
colour word swapped ("red handbag" for a blue handbag), which teaches D to check the colour.
Every product is also captioned once with each palette word and shade (``colour_words``), for the
generator's colour-word term, which needs no picture of the pair.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from shared.catalog.augment import PALETTE, SHADES, with_colour, without_colour
from shared.catalog.format import CatalogItem, load_catalog, load_image

Embed = Callable[[list[str]], torch.Tensor]


# The colour-word pass's words: the palette first (so a run without shades draws from the
# first len(PALETTE) exactly as before shades existed), then the shades.
COLOUR_WORD_ORDER = (*PALETTE, *SHADES)


def colour_of(caption: str) -> str | None:
    first = caption.split(" ", 1)[0]
    return first if first in PALETTE and " " in caption else None


@dataclass
class TrainingSet:
    items: list[CatalogItem]
    images: torch.Tensor  # [N, 3, H, W] uint8
    caption_emb: torch.Tensor  # [M, D] every caption of every item
    caption_item: torch.Tensor  # [M] item index of each caption
    colour_neg: torch.Tensor  # [N, K, D] colour-swapped captions (zeros where none)
    has_colour_neg: torch.Tensor  # [N] bool
    item_captions: list[list[int]]  # caption rows per item
    # [N, C, D]: the item's product captioned with each COLOUR_WORD_ORDER word, in that order
    colour_words: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.items)

    def sample(
        self, batch_size: int, g: torch.Generator, colour_negative_prob: float, device: torch.device
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(images in [-1, 1], matching text, wrong text) for a random batch."""
        idx = torch.randint(0, len(self.items), (batch_size,), generator=g)
        pick = torch.rand(batch_size, generator=g)
        rows = torch.tensor(
            [
                caps[int(p * len(caps))]
                for caps, p in zip(
                    (self.item_captions[i] for i in idx.tolist()), pick.tolist(), strict=True
                )
            ]
        )
        text = self.caption_emb[rows]
        # Another product's caption: shift the batch by one (products rarely repeat in a batch).
        wrong = self.caption_emb[self._other_rows(idx, g)]
        use_colour = self.has_colour_neg[idx] & (
            torch.rand(batch_size, generator=g) < colour_negative_prob
        )
        k = torch.randint(0, self.colour_neg.shape[1], (batch_size,), generator=g)
        wrong = torch.where(use_colour[:, None], self.colour_neg[idx, k], wrong)
        images = self.images[idx].float().div_(127.5).sub_(1.0)
        return images.to(device), text.to(device), wrong.to(device)

    def sample_colour_words(
        self, batch_size: int, g: torch.Generator, device: torch.device, words: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(captions "<colour> <product>" for random items and colours, the colour indices into
        COLOUR_WORD_ORDER): any product in any colour, most of them pairs no picture shows.
        ``words``: draw from the first that many (len(PALETTE): no shades); None: all."""
        if self.colour_words is None:
            raise ValueError("this training set was loaded without colour words")
        idx = torch.randint(0, len(self.items), (batch_size,), generator=g)
        n = self.colour_words.shape[1] if words is None else words
        colour = torch.randint(0, n, (batch_size,), generator=g)
        return self.colour_words[idx, colour].to(device), colour.to(device)

    def shard(self, rank: int, world: int) -> TrainingSet:
        """Every ``world``-th item from ``rank`` on: disjoint shards that cover the catalog."""
        keep = torch.arange(rank, len(self.items), world)
        return TrainingSet(
            [self.items[i] for i in keep.tolist()],
            self.images[keep],
            self.caption_emb,
            self.caption_item,
            self.colour_neg[keep],
            self.has_colour_neg[keep],
            [self.item_captions[i] for i in keep.tolist()],
            None if self.colour_words is None else self.colour_words[keep],
        )

    def _other_rows(self, idx: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        other = torch.randint(0, len(self.items), idx.shape, generator=g)
        same = other == idx
        other[same] = (other[same] + 1) % len(self.items)
        return torch.tensor([self.item_captions[i][0] for i in other.tolist()])


def load_training_set(
    catalog: str | Path,
    size: int,
    embed: Embed,
    split: str | None = "train",
    colour_negatives: int = 3,
    seed: int = 0,
) -> TrainingSet:
    items = load_catalog(catalog, split)
    if not items:
        raise ValueError(f"no {split or ''} items in {catalog}")
    images = torch.from_numpy(np.stack([np.asarray(load_image(it, size)) for it in items]))
    images = images.permute(0, 3, 1, 2).contiguous()
    texts: list[str] = []
    caption_item: list[int] = []
    item_captions: list[list[int]] = []
    for i, item in enumerate(items):
        item_captions.append(list(range(len(texts), len(texts) + len(item.captions))))
        texts.extend(item.captions)
        caption_item.extend([i] * len(item.captions))
    rng = random.Random(seed)
    neg_texts: list[str] = []
    has_neg: list[bool] = []
    for item in items:
        colour = colour_of(item.caption)
        others = [c for c in PALETTE if c != colour]
        rng.shuffle(others)
        has_neg.append(colour is not None)
        neg_texts.extend(
            with_colour(item.caption, c) if colour else item.caption
            for c in others[:colour_negatives]
        )
    word_texts = [
        with_colour(without_colour(item.caption), c) for item in items for c in COLOUR_WORD_ORDER
    ]
    unique = list(dict.fromkeys(texts + neg_texts + word_texts))
    emb = embed(unique).float().cpu()
    row = {t: j for j, t in enumerate(unique)}
    caption_emb = emb[torch.tensor([row[t] for t in texts])]
    colour_neg = emb[torch.tensor([row[t] for t in neg_texts])]
    colour_neg = colour_neg.view(len(items), colour_negatives, -1)
    words = emb[torch.tensor([row[t] for t in word_texts])]
    words = words.view(len(items), len(COLOUR_WORD_ORDER), -1)
    return TrainingSet(
        items,
        images,
        caption_emb,
        torch.tensor(caption_item),
        colour_neg,
        torch.tensor(has_neg),
        item_captions,
        words,
    )
