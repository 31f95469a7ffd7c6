"""The match cascade and the display rule, case by case."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperlens.merge.fold import fold
from paperlens.merge.match import record_keys, same_paper
from paperlens.model import Record, Version
from paperlens.store import Candidate
from paperlens.text import abstract_key, name_key, title_key
from paperlens.text import fold as text_fold

ABSTRACT = (
    "We propose a method for training diffusion models on patches of images so that training "
    "is faster and needs less data, and we show that it matches full-image training on several "
    "standard benchmarks while using a fraction of the compute budget."
)


def rec(**kw: object) -> Record:
    base: dict[str, object] = {"source": "listing", "source_key": "k"}
    base.update(kw)
    return Record(**base)  # type: ignore[arg-type]


def cand(**kw: object) -> Candidate:
    base: dict[str, object] = {
        "key": 1, "id": "pl_1", "arxiv_id": None, "doi": None,
        "title_key": None, "abstract_key": None, "author_keys": frozenset(),
    }  # fmt: skip
    base.update(kw)
    return Candidate(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "record", "candidate", "same"),
    [
        ("arxiv", rec(arxiv_id="2202.09844"), cand(arxiv_id="2202.09844"), True),
        ("doi", rec(doi="10.1/a"), cand(doi="10.1/a"), True),
        ("doi", rec(doi="10.1/a", arxiv_id="2202.09844"),
         cand(doi="10.1/a", arxiv_id="2202.09845"), False),
        # same title, overlapping authors
        ("title", rec(title="Patch Diffusion", authors=["Zhendong Wang", "A B"]),
         cand(title_key="patch diffusion", author_keys=frozenset({"wang"})), True),
        # same generic title, disjoint authors: two papers
        ("title", rec(title="Attention Is All You Need", authors=["Jane Roe"]),
         cand(title_key="attention is all you need", author_keys=frozenset({"vaswani"})), False),
        # same title, no authors on one side, same abstract
        ("title", rec(title="Patch Diffusion", abstract=ABSTRACT),
         cand(title_key="patch diffusion", abstract_key=abstract_key(ABSTRACT)), True),
        # same title, no authors, different abstracts
        ("title", rec(title="Patch Diffusion", abstract=ABSTRACT),
         cand(title_key="patch diffusion", abstract_key="something else entirely " * 5), False),
        # title-less listing entry matched on its abstract
        ("abstract", rec(abstract=ABSTRACT, arxiv_id="2304.12526"),
         cand(abstract_key=abstract_key(ABSTRACT), title_key="patch diffusion"), True),
        # abstract match but the titles disagree: not merged
        ("abstract", rec(abstract=ABSTRACT, title="Quantum error correction codes"),
         cand(abstract_key=abstract_key(ABSTRACT), title_key="patch diffusion faster"), False),
    ],
)  # fmt: skip
def test_same_paper(kind: str, record: Record, candidate: Candidate, same: bool) -> None:
    assert same_paper(kind, record, record_keys(record), candidate) is same


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Scaling Laws for Neural Language Models", "Scaling Laws for Neural Machine Translation"),
        ("Deep Residual Learning", "Deep Residual Learning II"),
        ("BERT: Pre-training of Deep Bidirectional Transformers",
         "BERT: Pre-training of Deep Bidirectional Transformers for Vision"),
    ],
)  # fmt: skip
def test_near_identical_titles_have_different_keys(a: str, b: str) -> None:
    assert title_key(a) != title_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Patch Diffusion: Faster  Training", "patch diffusion faster training"),
        ("Über-fast\n  Models", "Uber fast models"),
        ("$\\mathbf{X}$-Net", "X Net"),
    ],
)
def test_title_key_ignores_form(a: str, b: str) -> None:
    assert title_key(a) == title_key(b)


@pytest.mark.parametrize(
    ("name", "key"), [("Wang, Zhendong", "wang"), ("Zhendong Wang", "wang"), ("Z. Wäng", "wang")]
)
def test_name_key(name: str, key: str) -> None:
    assert name_key(name) == key


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=700))
def test_ascii_fast_path_folds_as_the_unicode_path(text: str) -> None:
    """ASCII text takes a bytes fast path; one accented word sends the same text down the
    general Unicode path, which must fold the ASCII part the same way."""
    assert text_fold(text + " \u00e9") == f"{text_fold(text)} e".lstrip()
    assert abstract_key(text) == " ".join(text_fold(text[:600]).split()[:40])


def test_fold_prefers_arxiv_and_complete_author_lists() -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    listing = rec(
        title="Patch diffusion (lab page title)",
        authors=["Zhendong Wang", "Yifan Jiang", "Huangjie Zheng"],
        authors_complete=False,
        organisations=["apple-ml"],
        published=date(2023, 4, 25),
        links=["https://github.com/Zhendong-Wang/Patch-Diffusion"],
        observed_at=when,
    )
    arxiv = rec(
        source="arxiv-atom",
        title="Patch Diffusion: Faster and More Data-Efficient Training of Diffusion Models",
        authors=["Zhendong Wang", "Yifan Jiang", "Huangjie Zheng", "Peihao Wang"],
        categories=["cs.CV", "cs.LG"],
        version=2,
        versions=[Version(1, date(2023, 4, 25)), Version(2, date(2023, 10, 1))],
        published=date(2023, 4, 25),
        observed_at=when,
    )
    hf = rec(source="hf-daily", featured=date(2023, 4, 27), organisations=["microsoft-research"])
    paper = fold("pl_x", [listing, arxiv, hf])
    assert paper.title.startswith("Patch Diffusion: Faster")
    assert paper.authors == arxiv.authors and paper.authors_complete
    assert paper.organisations == ["microsoft-research", "apple-ml"]
    assert paper.featured == date(2023, 4, 27)
    assert [v.version for v in paper.versions] == [1, 2] and paper.version == 2
    assert paper.links == listing.links
    assert paper.sources == ["arxiv-atom", "hf-daily", "listing"]


def test_fold_never_invents_authors() -> None:
    only_count = rec(title="T", author_count=6, authors_complete=False)
    partial = rec(title="T", authors=["A One", "B Two", "C Three"], authors_complete=False)
    paper = fold("pl_x", [only_count, partial])
    assert paper.authors == ["A One", "B Two", "C Three"]
    assert not paper.authors_complete and paper.author_count == 6
    assert fold("pl_y", [only_count]).authors == []
