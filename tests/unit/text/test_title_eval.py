"""The labelled title set and the accuracy of prompt building on it (docs/multilingual.md)."""

from collections import Counter

import pytest

from shared.catalog.concepts import load_concepts
from shared.personalize import COLOURS
from shared.text.concept_index import get_index
from shared.text.title_eval import HELD_OUT, LanguageScore, evaluate, load_titles

TITLES = load_titles()
HELD_OUT_TITLES = load_titles(HELD_OUT)


@pytest.mark.parametrize(
    ("titles", "languages"),
    [(TITLES, ("ja", "es", "de", "fr")), (HELD_OUT_TITLES, ("ja", "de", "fr"))],
    ids=["first", "held-out"],
)
def test_the_sets_are_large_and_well_formed(
    titles: list[dict[str, object]], languages: tuple[str, ...]
) -> None:
    counts = Counter(str(r["lang"]) for r in titles)
    assert counts["zh"] >= 100 and all(counts[lang] >= 15 for lang in languages)
    concepts = set(get_index().concepts)
    for rec in titles:
        assert (rec["expected_noun"] in concepts) == bool(rec["in_catalog"]), rec
        assert rec["expected_colour"] is None or rec["expected_colour"] in COLOURS, rec
    assert len({r["title"] for r in titles}) == len(titles)


def test_the_held_out_set_is_new_and_covers_the_catalog() -> None:
    assert not {r["title"] for r in TITLES} & {r["title"] for r in HELD_OUT_TITLES}
    nouns = {str(r["expected_noun"]) for r in HELD_OUT_TITLES if r["in_catalog"]}
    categories = {c.category for c in load_concepts() if c.name in nouns}
    assert len(nouns) >= 150 and len(categories) >= 10


@pytest.mark.parametrize("titles", [TITLES, HELD_OUT_TITLES], ids=["first", "held-out"])
def test_a_sample_of_chinese_titles(titles: list[dict[str, object]]) -> None:
    """Every ninth Chinese title, fast enough for the default run; the full sets are below."""
    sample = [r for r in titles if r["lang"] == "zh" and r["in_catalog"]][::9]
    zh = evaluate(sample)["zh"]
    assert zh.in_catalog >= 19
    assert zh.noun_accuracy >= 0.9, zh.misses
    assert zh.colour_accuracy >= 0.9, zh.misses


@pytest.fixture(scope="module")
def scores() -> dict[str, LanguageScore]:
    return evaluate(TITLES)


@pytest.fixture(scope="module")
def held_out() -> dict[str, LanguageScore]:
    return evaluate(HELD_OUT_TITLES)


@pytest.mark.slow
def test_measured_accuracy_does_not_regress(scores: dict[str, LanguageScore]) -> None:
    """Floors a little under what docs/multilingual.md reports (the first set, tuned on)."""
    assert scores["zh"].noun_accuracy >= 0.97, scores["zh"].misses
    assert scores["ja"].noun_accuracy >= 0.95, scores["ja"].misses
    for lang in ("zh", "ja", "es", "de", "fr"):
        assert scores[lang].colour_accuracy >= 0.95, scores[lang].misses
    for lang in ("es", "de"):
        assert scores[lang].noun_accuracy >= 0.75, scores[lang].misses


@pytest.mark.slow
def test_held_out_accuracy_does_not_regress(held_out: dict[str, LanguageScore]) -> None:
    """Floors a little under the held-out figures (never tuned on; docs/multilingual.md)."""
    assert held_out["zh"].noun_accuracy >= 0.97, held_out["zh"].misses
    assert held_out["ja"].noun_accuracy >= 0.9, held_out["ja"].misses
    assert held_out["zh"].colour_accuracy >= 0.93, held_out["zh"].misses
    for lang in ("de", "fr"):
        assert held_out[lang].noun_accuracy >= 0.7, held_out[lang].misses
        assert held_out[lang].colour_accuracy >= 0.95, held_out[lang].misses


@pytest.mark.slow
def test_issue_target_chinese_noun_top1_on_held_out_titles(
    held_out: dict[str, LanguageScore],
) -> None:
    """Issue 13: >= 90% noun top-1 on Chinese titles whose product is in the catalog."""
    assert held_out["zh"].noun_accuracy >= 0.90, held_out["zh"].misses
