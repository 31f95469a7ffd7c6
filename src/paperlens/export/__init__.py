"""Exports: papers out as BibTeX, CSL-JSON and JSON Lines, one module per format.

The formats mirror ``sources/``: what ``export.bibtex`` writes,
``sources.bibtex`` reads back to the same arXiv ids, titles and authors.
The citation keys live here because BibTeX and CSL-JSON must agree on them:
a user who exports both and cites ``wang2023patch`` in one gets the same
paper from the other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bibtexparser.middlewares.names import (
    InvalidNameError,
    NameParts,
    parse_single_name_into_parts,
)

from paperlens.model import Paper
from paperlens.text import fold

# Words too common to name a paper by, so the key takes the next word
# ("The Patch Diffusion ..." -> "patch"). Google Scholar keys do the same.
# fmt: off
_STOPWORDS = frozenset({
    "a", "an", "the", "on", "of", "in", "for", "and", "or", "to", "with", "from", "by", "at",
    "via", "is", "are", "be", "as", "its", "into", "towards", "toward", "do", "does", "how",
    "what", "when", "why", "we", "our",
})
# fmt: on
_KEY_SAFE_RE = re.compile(r"[^a-z0-9]+")
_JR = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})


def citation_keys(papers: Iterable[Paper]) -> list[str]:
    """A citation key per paper, in order: ``surname`` + ``year`` + first title word.

    Keys are stable (the same papers in the same order give the same keys, so
    a re-export does not break a LaTeX document) and unique within one export:
    a second ``wang2023patch`` becomes ``wang2023patchb``, then ``...c`` and
    so on, the way BibTeX styles suffix same-author-same-year works. Only
    ASCII letters and digits are used, because BibTeX keys with other
    characters break older toolchains.
    """
    keys: list[str] = []
    used: set[str] = set()
    for paper in papers:
        base = _base_key(paper)
        key = base
        n = 1
        while key in used:
            n += 1
            key = base + _suffix(n)
        used.add(key)
        keys.append(key)
    return keys


def _base_key(paper: Paper) -> str:
    surname = ""
    if paper.authors:
        words = fold(paper.authors[0]).split()
        surname = _KEY_SAFE_RE.sub("", _ascii(words[-1])) if words else ""
    year = paper_year(paper) or ""
    word = ""
    for token in fold(paper.title or "").split():
        token = _KEY_SAFE_RE.sub("", _ascii(token))
        if token and token not in _STOPWORDS:
            word = token
            break
    key = f"{surname}{year}{word}"
    if not key:
        key = _KEY_SAFE_RE.sub("", (paper.arxiv_id or paper.id).lower()) or "paper"
    if key[0].isdigit():
        key = "p" + key
    return key


def paper_year(paper: Paper) -> str | None:
    """The publication year: from ``published``, else a bare year a source gave in ``extra``.

    BibTeX sources know only a year and keep it as ``extra["year"]`` rather
    than inventing a day; exports still want it for keys and ``year`` fields.
    """
    if paper.published:
        return str(paper.published.year)
    year = paper.extra.get("year")
    return str(year) if isinstance(year, int) and not isinstance(year, bool) else None


def _suffix(n: int) -> str:
    """2 -> "b", 26 -> "z", 27 -> "ba"...: a letter suffix that never runs out."""
    letters = ""
    n -= 1
    while True:
        n, rest = divmod(n, 26)
        letters = chr(ord("a") + rest) + letters
        if n == 0:
            return letters


def _ascii(text: str) -> str:
    return text.encode("ascii", "ignore").decode("ascii")


def canonical_url(paper: Paper) -> str | None:
    """The paper's canonical link: its arXiv abstract page, else its DOI, else its first link."""
    if paper.arxiv_id:
        return f"https://arxiv.org/abs/{paper.arxiv_id}"
    if paper.doi:
        return f"https://doi.org/{paper.doi}"
    return paper.links[0] if paper.links else None


def primary_category(paper: Paper) -> str | None:
    """The first category when it has arXiv's shape (``cs.CL``, ``hep-th``)."""
    for category in paper.categories[:1]:
        if re.fullmatch(r"[a-z][a-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?", category):
            return category
    return None


def name_parts(name: str) -> NameParts | None:
    """BibTeX's First/von/Last/Jr split of a display name, or None when it has no such split.

    Display names are "First von Last", sometimes "Last, First", and
    sometimes "Martin Luther King, Jr.", which BibTeX's own rules would read
    as surname "Martin Luther King"; a trailing generational suffix is split
    off first for that reason.
    """
    name = " ".join(name.split())
    head, comma, tail = name.rpartition(",")
    jr = tail.strip() if comma and tail.strip().lower() in _JR and "," not in head else None
    try:
        parts = parse_single_name_into_parts(head if jr else name)
    except (InvalidNameError, ValueError, IndexError):
        return None
    if jr:
        parts.jr = [jr]
    return parts


__all__ = ["canonical_url", "citation_keys", "name_parts", "paper_year", "primary_category"]
