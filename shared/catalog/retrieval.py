"""Which catalog product a text names: one retrieval row per product and colour.

Shared by the retrieve + recolour baseline (``shared.eval.baseline``) and the exemplar
generator (``shared.gan.exemplars``), so both read a prompt the same way.  Each training
product gets its shortest name, plain and in every palette colour ("handbag", "red handbag",
...): the nearest row then names the product and the colour the prompt asks for.  Indexing every
alias measured worse (more near-synonyms of other products compete; docs/evaluation.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.catalog.augment import PALETTE, with_colour, without_colour
from shared.catalog.format import CatalogItem

# Catalog pictures sit on white: a pixel brighter than this in every channel is ground, not
# product (the baseline's cut-out and the exemplar silhouettes both read it this way).
WHITE_CUTOFF = 235


@dataclass(frozen=True)
class ProductRows:
    pictures: dict[str, list[CatalogItem]]  # concept -> its pictures (no coloured grounds)
    rows: list[tuple[str, str | None]]  # (concept, colour or None) per retrieval row
    texts: list[str]  # the text embedded for each row


def product_rows(items: list[CatalogItem]) -> ProductRows:
    pictures: dict[str, list[CatalogItem]] = {}
    plain: dict[str, str] = {}
    for it in items:
        concept = it.concept or it.caption
        if "__background" not in it.file_name:  # those carry no white to cut out
            pictures.setdefault(concept, []).append(it)
        for cap in it.captions:
            bare = without_colour(cap)
            if concept not in plain or len(bare) < len(plain[concept]):
                plain[concept] = bare
    rows: list[tuple[str, str | None]] = []
    texts: list[str] = []
    for concept in sorted(pictures):
        for colour in (None, *PALETTE):
            rows.append((concept, colour))
            texts.append(with_colour(plain[concept], colour) if colour else plain[concept])
    return ProductRows(pictures, rows, texts)
