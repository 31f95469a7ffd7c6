"""Papers as BibTeX, in the shape arXiv's own "Export BibTeX citation" writes.

``@misc{key, title, author, year, eprint, archivePrefix = {arXiv},
primaryClass, doi, url}`` is what arXiv hands out and what biblatex and
natbib styles already know how to print as a preprint, so a paperlens export
drops into an existing ``.bib`` without surprises.

Text is written as UTF-8, not as LaTeX accent macros: biber, bibtexu and
every LaTeX since 2018 read UTF-8, and the names stay searchable in the file.
What must be escaped is escaped: the ten LaTeX specials, except inside
``$...$`` math, which arXiv titles use on purpose (``$\\omega$Test``) and
which is kept when its braces balance. Words with inner capitals (``BERT``,
``LLMs``, ``RoFormer``) are braced so styles that lower-case titles leave
them alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from paperlens.export import (
    canonical_url,
    citation_keys,
    name_parts,
    paper_year,
    primary_category,
)
from paperlens.model import Paper

_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",  # sources.bibtex reads it back as ASCII "^"
}
_SPECIAL_RE = re.compile(r"[\\{}$&%#_~^]")
_LIGATURE_RE = re.compile(r"(?<=[?!`])(?=`)|(?<=-)(?=-)|(?<=')(?=')")
_MATH_RE = re.compile(r"(?<!\\)\$[^$]+?(?<!\\)\$")
_WORD_RE = re.compile(r"(?<![\\\w])\w[\w\-]*")
_URL_UNSAFE = {"{": "%7B", "}": "%7D", "\\": "%5C", " ": "%20"}


def to_bibtex(papers: Iterable[Paper]) -> str:
    """The papers as one ``.bib`` text, entries separated by a blank line."""
    papers = list(papers)
    entries = [_entry(paper, key) for paper, key in zip(papers, citation_keys(papers), strict=True)]
    return "\n".join(entries)


def _entry(paper: Paper, key: str) -> str:
    fields: list[tuple[str, str]] = []
    if paper.title:
        fields.append(("title", escape_title(paper.title)))
    names = [_name(a) for a in paper.authors]
    if names and not paper.authors_complete:
        names.append("others")
    if names:
        fields.append(("author", " and ".join(names)))
    year = paper_year(paper)
    if year:
        fields.append(("year", year))
    if paper.arxiv_id:
        fields.append(("eprint", paper.arxiv_id))
        fields.append(("archivePrefix", "arXiv"))
        category = primary_category(paper)
        if category:
            fields.append(("primaryClass", category))
    if paper.doi:
        fields.append(("doi", _url(paper.doi)))
    url = canonical_url(paper)
    if url:
        fields.append(("url", _url(url)))
    body = "".join(f"  {name} = {{{value}}},\n" for name, value in fields)
    return f"@misc{{{key},\n{body}}}\n"


def escape(text: str) -> str:
    """Escape the LaTeX specials of plain text (``50% & more`` -> ``50\\% \\& more``).

    TeX also reads some character pairs as one glyph (``--`` an en dash, ``?`` + backquote
    an inverted question mark, two quotes a curly one); an empty group between them keeps
    the text as written, so it reads back the same.
    """
    return _LIGATURE_RE.sub("{}", _SPECIAL_RE.sub(lambda m: _SPECIALS[m.group(0)], text))


def escape_title(title: str) -> str:
    """Escape a title, keeping balanced ``$math$`` and bracing inner-capital words."""
    out: list[str] = []
    pos = 0
    for m in _MATH_RE.finditer(title):
        if not _looks_like_math(m.group(0)):
            continue
        out.append(_protect(escape(title[pos : m.start()])))
        out.append(m.group(0))
        pos = m.end()
    out.append(_protect(escape(title[pos:])))
    return "".join(out)


def _protect(text: str) -> str:
    """Brace words with a capital after their first letter: ``BERT``, ``LLMs``, ``GPT-4``."""

    def brace(m: re.Match[str]) -> str:
        word = m.group(0)
        return "{" + word + "}" if any(c.isupper() for c in word[1:]) else word

    return _WORD_RE.sub(brace, text)


def _looks_like_math(segment: str) -> bool:
    """``$\\omega$``, ``$k$``, ``$n=2$`` are math; ``$5 budget and $`` is two prices.

    A segment counts as math when its braces balance and it either uses TeX
    (a backslash, ``^``, ``_``, braces) or is one short token without spaces.
    """
    inner = segment[1:-1]
    if not _balanced(inner):
        return False
    return any(c in inner for c in "\\^_{}") or (" " not in inner.strip() and len(inner) <= 12)


def _balanced(math: str) -> bool:
    depth = 0
    escaped = False
    for char in math:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _name(name: str) -> str:
    """One author for an ``and``-list: "First von Last", or "von Last, Jr, First" when needed.

    BibTeX reads "First Last" and "Last, First" but takes a single comma as
    "Last, First", so "Martin Luther King, Jr." must become "King, Jr.,
    Martin Luther"; a name already written "Last, First" means what BibTeX
    reads. A name BibTeX would misread any other way (two commas, the word
    "and") is braced whole, which BibTeX prints as written.
    """
    name = " ".join(name.split())
    parts = name_parts(name)
    if parts is not None and parts.jr and parts.first:
        von_last = " ".join(parts.von + parts.last)
        return escape(f"{von_last}, {' '.join(parts.jr)}, {' '.join(parts.first)}")
    if name.count(",") > 1 or re.search(r"(?i)(?:^|\s)and(?:\s|$)", name):
        return "{" + escape(name) + "}"
    return escape(name)


def _url(url: str) -> str:
    """URLs and DOIs go in raw (``\\url`` typesets them); only BibTeX-breaking characters change."""
    for char, code in _URL_UNSAFE.items():
        url = url.replace(char, code)
    return url
