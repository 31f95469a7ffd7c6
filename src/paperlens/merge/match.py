"""The match cascade: is this record a paper we already know?

Keys are tried in order of how much they prove: arXiv id, then DOI, then the
normalised title, then (for listing pages that print no title) the opening of
the abstract. Titles are compared exactly after normalisation, never fuzzily,
so "Scaling Laws for Neural Language Models" and "Scaling Laws for Neural
Machine Translation" stay two papers; an equal title must also agree on
authors (when both sides list some) or on the abstract, because short
generic titles ("Attention Is All You Need"-style) are reused.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from paperlens.model import Record
from paperlens.store import Candidate
from paperlens.text import abstract_key, name_key, title_key

KINDS: tuple[str, ...] = ("arxiv", "doi", "title", "abstract")
_TITLE_AGREE = 85.0  # token-set similarity for titles of an abstract match


def record_keys(record: Record) -> dict[str, str]:
    """The match keys a record offers, by kind."""
    keys: dict[str, str] = {}
    if record.arxiv_id:
        keys["arxiv"] = record.arxiv_id
    if record.doi:
        keys["doi"] = record.doi
    if record.title and (tkey := title_key(record.title)):
        keys["title"] = tkey
    if record.abstract and (akey := abstract_key(record.abstract)) and len(akey.split()) >= 12:
        keys["abstract"] = akey
    return keys


def candidate_of(record: Record, keys: dict[str, str], key: int, paper_id: str) -> Candidate:
    """A candidate describing a paper built from ``record`` (for matches inside a batch)."""
    return Candidate(
        key=key,
        id=paper_id,
        arxiv_id=record.arxiv_id,
        doi=record.doi,
        title_key=keys.get("title"),
        abstract_key=keys.get("abstract"),
        author_keys=frozenset(name_key(a) for a in record.authors),
    )


def same_paper(kind: str, record: Record, keys: dict[str, str], cand: Candidate) -> bool:
    """Decide whether ``record``, matched on ``kind``, is the paper ``cand``."""
    if record.arxiv_id and cand.arxiv_id and record.arxiv_id != cand.arxiv_id:
        return False
    if kind == "arxiv":
        return True
    if record.doi and cand.doi and record.doi != cand.doi:
        return False
    if kind == "doi":
        return True
    mine = frozenset(name_key(a) for a in record.authors)
    if kind == "title":
        if mine and cand.author_keys:
            return bool(mine & cand.author_keys)
        if "abstract" in keys and cand.abstract_key:
            return _abstracts_agree(keys["abstract"], cand.abstract_key)
        return True
    # kind == "abstract": the opening 40 words agree; titles, when both exist, must too.
    if "title" in keys and cand.title_key:
        return fuzz.token_set_ratio(keys["title"], cand.title_key) >= _TITLE_AGREE
    return True


def _abstracts_agree(a: str, b: str) -> bool:
    """Two abstract openings describe the same paper (allowing small edits between versions)."""
    return a == b or fuzz.ratio(a, b) >= 90.0
