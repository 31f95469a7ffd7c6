"""Papers as CSL-JSON, the input of citeproc, pandoc, Zotero and Mendeley.

Preprints follow what Zotero writes for an arXiv paper: ``type: "article"``
(CSL 1.0.2: "a preprint, working paper, or other article not yet
published"), ``publisher: "arXiv"`` and ``number: "arXiv:2306.13549"``, which
citation styles print as the preprint identifier. The ``id`` is the same
citation key the BibTeX export uses, so ``[@yin2023survey]`` in pandoc works
with either file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from paperlens.export import canonical_url, citation_keys, name_parts
from paperlens.model import Paper


def to_csl_json(papers: Iterable[Paper]) -> list[dict[str, Any]]:
    """One CSL item per paper; dump it with ``json.dumps(..., ensure_ascii=False)``."""
    papers = list(papers)
    return [_item(p, key) for p, key in zip(papers, citation_keys(papers), strict=True)]


def _item(paper: Paper, key: str) -> dict[str, Any]:
    item: dict[str, Any] = {"id": key, "type": "article"}
    if paper.title:
        item["title"] = paper.title
    if paper.authors:
        item["author"] = [csl_name(a) for a in paper.authors]
    if paper.published:
        d = paper.published
        item["issued"] = {"date-parts": [[d.year, d.month, d.day]]}
    elif isinstance(paper.extra.get("year"), int):
        item["issued"] = {"date-parts": [[paper.extra["year"]]]}
    if paper.arxiv_id:
        item["publisher"] = "arXiv"
        item["number"] = f"arXiv:{paper.arxiv_id}"
    if paper.doi:
        item["DOI"] = paper.doi
    url = canonical_url(paper)
    if url:
        item["URL"] = url
    if paper.abstract:
        item["abstract"] = paper.abstract
    if paper.journal_ref:
        item["note"] = paper.journal_ref
    return item


def csl_name(name: str) -> dict[str, str]:
    """A CSL name: ``{given, family}`` by BibTeX's name rules, or ``{literal}``.

    BibTeX's First/von/Last split (shared with ``sources.bibtex``) knows that
    "Albert Villanova del Moral" is family "Moral" with particle "del", and
    that "King, Jr., Martin Luther" has suffix "Jr.". A single word
    ("OpenAI"), a name with "and" in it, or one the rules cannot split stays ``literal``, which
    styles print as written instead of abbreviating a made-up given name.
    """
    name = " ".join(name.split())
    if " " not in name.replace(",", " ").strip() or re.search(r"(?i)(?:^|\s)and(?:\s|$)", name):
        return {"literal": name}
    parts = name_parts(name)
    if parts is None or not parts.last or not parts.first:
        return {"literal": name}
    out = {"family": " ".join(parts.last), "given": " ".join(parts.first)}
    if parts.von:
        out["non-dropping-particle"] = " ".join(parts.von)
    if parts.jr:
        out["suffix"] = " ".join(parts.jr)
    return out
