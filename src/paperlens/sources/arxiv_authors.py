"""Free-text arXiv author lists: ``"A, B and C (MIT), D et al."`` into names and affiliations.

arXivRaw's ``<authors>`` and the snapshot's ``authors`` (when ``authors_parsed``
is missing) are TeX-flavoured free text; the OAI and JSONL sources both read
them here. The name and affiliation helpers they use live in ``arxiv_fields``.
"""

from __future__ import annotations

import re
from typing import Any

from paperlens.sources.arxiv_fields import (
    affiliation_legend,
    is_affiliation_ref,
    resolve_refs,
    split_collaboration,
    squash,
    tex_to_unicode,
)

_FOR_PHRASE_RE = re.compile(r"\s(?:for|on behalf of)\s.*\bcollaborations?\b", re.IGNORECASE)
_SUFFIX_RE = re.compile(r"(?:Jr|Sr|jr|sr)\.?|I{2,3}|IV")
ET_AL_RE = re.compile(r"et\.?\s*al\.?", re.IGNORECASE)
TRAILING_ET_AL_RE = re.compile(r"[\s,]+et\.?\s*al\.?$", re.IGNORECASE)
_SPLIT_AND_RE = re.compile(r"(?:^|\s+)(?:and|&)(?:\s+|$)")


def split_authors(text: str) -> tuple[list[tuple[str, list[str]]], bool]:
    """Split a free-text author list into ``(name, affiliations)`` pairs and a completeness flag.

    This is the arXivRaw ``<authors>`` string (and the snapshot's ``authors``
    when ``authors_parsed`` is missing): names separated by commas and "and",
    affiliations in parentheses after a name, numbered affiliations resolved
    through a trailing ``((1) X, (2) Y)`` legend, "Jr."/"III" kept with their
    name, and "et al." turned into ``authors_complete=False`` rather than a
    name. Like arXiv's own parser, an affiliation written once after several
    names ("A, B and C (MIT)") belongs to each of them.
    """
    text = squash(tex_to_unicode(text))
    tokens: list[tuple[str, str]] = []  # ("name" | "group" | "sep", text)
    buf: list[str] = []
    depth = 0

    def flush() -> None:
        fragment = "".join(buf).strip()
        buf.clear()
        if not fragment:
            return
        # "A for the ATLAS and CMS Collaborations": no split inside the "for the" phrase.
        phrase = _FOR_PHRASE_RE.search(fragment)
        head, tail = (
            (fragment[: phrase.start()], fragment[phrase.start() :]) if phrase else (fragment, "")
        )
        pieces = _SPLIT_AND_RE.split(head)
        pieces[-1] += tail
        for i, piece in enumerate(pieces):
            if i:
                tokens.append(("sep", ""))
            if piece.strip():
                tokens.append(("name", piece.strip()))

    for c in text:
        if depth:
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    tokens.append(("group", "".join(buf)))
                    buf.clear()
                    continue
            buf.append(c)
        elif c == "(":
            flush()
            depth = 1
        elif c in ",;:":
            flush()
            tokens.append(("sep", ""))
        else:
            buf.append(c)
    if depth:
        tokens.append(("group", "".join(buf)))
        buf.clear()
    flush()
    # "Youjian (Eugene) Liu": a group inside a name is a nickname, not an affiliation.
    merged: list[tuple[str, str]] = []
    for kind, value in tokens:
        if (
            kind == "name"
            and len(merged) >= 2
            and merged[-1][0] == "group"
            and merged[-2][0] == "name"
            and not merged[-1][1].lstrip().startswith("(")
        ):
            merged.pop()
            merged[-1] = ("name", f"{merged[-1][1]} {value}")
        else:
            merged.append((kind, value))
    tokens = merged

    authors: list[list[Any]] = []  # [name, affiliations, refs]
    legend: dict[str, str] = {}
    complete = True
    last_attached = -1  # index of the last author given an affiliation
    after_sep = True
    for kind, value in tokens:
        if kind == "sep":
            after_sep = True
            continue
        if kind == "name":
            if ET_AL_RE.fullmatch(value):
                complete = False
            elif TRAILING_ET_AL_RE.search(value):  # "V. Abazov et al"
                complete = False
                authors.append([TRAILING_ET_AL_RE.sub("", value), [], []])
            elif _SUFFIX_RE.fullmatch(value) and authors:
                authors[-1][0] = f"{authors[-1][0]} {value}"
            else:
                name = re.sub(r"\.(?=[^\s.\-,])", ". ", value).replace("{", "").replace("}", "")
                name, group = split_collaboration(name.strip())
                if any(ch.isalnum() for ch in name):
                    authors.append([name, [group] if group else [], []])
            after_sep = False
            continue
        # a parenthesised group
        if value.lstrip().startswith("("):
            legend.update(affiliation_legend(f"({value})"))
            continue
        if not authors or (after_sep and authors[-1][1]):
            continue
        affiliation = squash(value).strip(" ,;")
        if not affiliation:
            continue
        # Back-fill the run of authors since the last one given an affiliation.
        first = min(last_attached + 1, len(authors) - 1)
        for index in range(first, len(authors)):
            target = authors[index]
            if is_affiliation_ref(affiliation):
                target[2].append(affiliation)
            else:
                target[1].append(affiliation)
        last_attached = len(authors) - 1
    result = []
    for name, affiliations, refs in authors:
        for ref in refs:
            affiliations.extend(resolve_refs(ref, legend))
        result.append((name, affiliations))
    return result, complete


def authors_incomplete(text: str | None) -> bool:
    """True when a free-text author list ends in "et al." (the listing stopped)."""
    if not text:
        return False
    tail = text[-12:].rstrip(" .,;")
    return tail.lower().endswith(("et al", "et. al", "et.al"))
