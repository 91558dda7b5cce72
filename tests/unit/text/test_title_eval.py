"""The labelled title set and the accuracy of prompt building on it (docs/multilingual.md)."""

from collections import Counter

import pytest

from shared.personalize import COLOURS
from shared.text.concept_index import get_index
from shared.text.title_eval import LanguageScore, evaluate, load_titles

TITLES = load_titles()


def test_the_set_is_large_and_well_formed() -> None:
    counts = Counter(str(r["lang"]) for r in TITLES)
    assert counts["zh"] >= 100 and all(counts[lang] >= 15 for lang in ("ja", "es", "de", "fr"))
    concepts = set(get_index().concepts)
    for rec in TITLES:
        assert (rec["expected_noun"] in concepts) == bool(rec["in_catalog"]), rec
        assert rec["expected_colour"] is None or rec["expected_colour"] in COLOURS, rec
    assert len({r["title"] for r in TITLES}) == len(TITLES)


def test_a_sample_of_chinese_titles() -> None:
    """Every ninth Chinese title, fast enough for the default run; the full set is below."""
    sample = [r for r in TITLES if r["lang"] == "zh" and r["in_catalog"]][::9]
    zh = evaluate(sample)["zh"]
    assert zh.in_catalog >= 19
    assert zh.noun_accuracy >= 0.7, zh.misses
    assert zh.colour_accuracy >= 0.95, zh.misses


@pytest.fixture(scope="module")
def scores() -> dict[str, LanguageScore]:
    return evaluate(TITLES)


@pytest.mark.slow
def test_measured_accuracy_does_not_regress(scores: dict[str, LanguageScore]) -> None:
    """Floors a little under what docs/multilingual.md reports."""
    assert scores["zh"].noun_accuracy >= 0.80, scores["zh"].misses
    for lang in ("zh", "ja", "es", "de", "fr"):
        assert scores[lang].colour_accuracy >= 0.95, scores[lang].misses
    for lang in ("es", "de"):
        assert scores[lang].noun_accuracy >= 0.75, scores[lang].misses


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="issue 13 target not reached: zh noun top-1 measures "
    "84.0%, the target is 90% (docs/multilingual.md)",
)
def test_issue_target_chinese_noun_top1(scores: dict[str, LanguageScore]) -> None:
    assert scores["zh"].noun_accuracy >= 0.90
