"""Snippets mark exactly the words the index matched, around the densest run of matches."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperlens.index.fulltext import _analyzer
from paperlens.rank.snippet import Matcher, matched_terms, snippet

ROOT = Path(__file__).resolve().parents[2]
_ANALYZER = _analyzer(stopwords=False)
_WORD = re.compile(r"[^\W_]+")  # letters and digits, as the index splits words


def stem(word: str) -> tuple[str, ...]:
    return tuple(_ANALYZER.analyze(word))


def matcher(*query_words: str) -> Matcher:
    return Matcher({s for w in query_words for s in stem(w)}, stem)


def marked(segments: list[tuple[str, bool]]) -> list[str]:
    return [text for text, hit in segments if hit]


def corpus_words() -> list[str]:
    """Every distinct word of the shipped sample pages and fixture abstracts."""
    words: set[str] = set()
    for path in [*ROOT.glob("samples/*.txt"), *ROOT.glob("tests/fixtures/kaggle_snapshot/*")]:
        words.update(_WORD.findall(path.read_text(encoding="utf-8", errors="replace")))
    return sorted(words)


WORDS = corpus_words()


def test_the_candidate_rule_holds_for_every_word_of_the_sample_corpus() -> None:
    """The regex shortcut assumes a stem minus its last letter starts the word it came from."""
    assert len(WORDS) > 5000
    for word in WORDS:
        own = matcher(word)
        assert [m.group() for m in own.matches(word)] == [word], word


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(st.sampled_from(WORDS), min_size=1, max_size=120).map(" ".join),
    query=st.lists(st.sampled_from(WORDS), min_size=1, max_size=4),
)
def test_marks_exactly_the_words_whose_stem_the_query_has(text: str, query: list[str]) -> None:
    m = matcher(*query)
    stems = m.stems
    expected = [w for w in _WORD.findall(text) if stems & set(stem(w))]
    assert [x.group() for x in m.matches(text)] == expected
    assert matched_terms(text, m) == list(dict.fromkeys(w.lower() for w in expected))


def test_stemmed_variants_are_marked() -> None:
    text = "We studied how networks hope to generalise; the study of hoping network models."
    got = marked(snippet(text, matcher("study", "network", "hoped")))
    assert got == ["studied", "networks", "hope", "study", "hoping", "network"]


def test_the_window_goes_to_the_densest_matches_with_some_lead() -> None:
    filler = " ".join(f"word{i}" for i in range(120))
    text = f"Diffusion once. {filler} here diffusion models beat diffusion baselines. {filler}"
    segments = snippet(text, matcher("diffusion"), chars=120, lead=20)
    assert segments[0] == ("… ", False) and segments[-1] == (" …", False)
    body = "".join(t for t, _ in segments)
    assert marked(segments) == ["diffusion", "diffusion"]  # the pair, not the lone one
    assert "here diffusion models" in body
    assert not body.startswith("… ord") and len(body) < 200


@pytest.mark.parametrize("query", [(), ("absent",)])
def test_without_matches_the_snippet_is_the_opening(query: tuple[str, ...]) -> None:
    text = "First words of the abstract. " * 30
    segments = snippet(text, matcher(*query), chars=60)
    assert marked(segments) == []
    assert segments[0][0].startswith("First words") and segments[-1] == (" …", False)


def test_short_text_is_whole_and_empty_text_is_nothing() -> None:
    assert snippet("Graph networks.", matcher("network")) == [
        ("Graph ", False),
        ("networks", True),
        (".", False),
    ]
    assert snippet("", matcher("network")) == []
