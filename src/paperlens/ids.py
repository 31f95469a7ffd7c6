"""Identifiers: arXiv ids (new and old style, with versions), DOIs and paperlens ids.

arXiv has two id schemes: ``YYMM.NNNN[N]`` since 2007 and ``archive[.SUB]/YYMMNNN``
before (``quant-ph/0201082``, ``math.GT/0309136``). Both may carry ``vN``.
We store the id without its version and keep versions separately, so the
same paper seen as ``2202.09844v1`` and ``2202.09844v3`` merges.
"""

from __future__ import annotations

import hashlib
import re

_NEW = r"(?P<new>\d{4}\.\d{4,5})"
_OLD = r"(?P<old>[a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7})"
_VERSION = r"(?:v(?P<version>\d+))?"
ARXIV_ID_RE = re.compile(rf"(?:{_NEW}|{_OLD}){_VERSION}(?![\d])")
_ARXIV_FULL_RE = re.compile(rf"^(?:arxiv:\s*)?(?:{_NEW}|{_OLD}){_VERSION}$", re.IGNORECASE)
_ARXIV_IN_URL_RE = re.compile(
    rf"arxiv\.org/(?:abs|pdf|html)/(?:{_NEW}|{_OLD}){_VERSION}", re.IGNORECASE
)
_DOI_RE = re.compile(r"(10\.\d{4,9}/[^\s\"<>]+)", re.IGNORECASE)
_ARXIV_DOI_RE = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)


def parse_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """Return ``(id_without_version, version)`` for an arXiv id, URL or DOI, else None.

    Accepts ``2202.09844``, ``arXiv:2202.09844v2``, ``https://arxiv.org/abs/...``,
    ``quant-ph/0201082v1`` and the arXiv DOI ``10.48550/arXiv.2202.09844``.
    """
    text = text.strip()
    doi = _ARXIV_DOI_RE.match(text)
    if doi:
        text = doi.group(1)
    m = _ARXIV_FULL_RE.match(text) or _ARXIV_IN_URL_RE.search(text)
    if not m:
        return None
    return _result(m)


def _result(m: re.Match[str]) -> tuple[str, int | None] | None:
    new = m.group("new")
    if new and not _valid_new(new):
        return None
    ident = new or _normalise_old(m.group("old"))
    version = m.group("version")
    return ident, int(version) if version else None


def _valid_new(ident: str) -> bool:
    """New-style ids have a real month and 4 digits before 2015, 5 from 1501 on."""
    yymm, number = ident.split(".")
    if not 1 <= int(yymm[2:]) <= 12:
        return False
    return len(number) == (5 if int(yymm) >= 1501 else 4)


def _normalise_old(old: str) -> str:
    archive, number = old.split("/")
    # The archive is lower case except a subject class like math.GT.
    if "." in archive:
        head, sub = archive.split(".", 1)
        return f"{head.lower()}.{sub.upper()}/{number}"
    return f"{archive.lower()}/{number}"


def find_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """Find the first arXiv id mentioned anywhere in free text (``arXiv:2306.13394``)."""
    m = re.search(r"arxiv[:\s./]*(?:abs/|pdf/)?" + ARXIV_ID_RE.pattern, text, re.IGNORECASE)
    if not m:
        return None
    return _result(m)


def normalise_doi(text: str | None) -> str | None:
    """Lower-case a DOI and strip resolver prefixes; DOIs are case-insensitive (ISO 26324)."""
    if not text:
        return None
    m = _DOI_RE.search(text.strip())
    if not m:
        return None
    return m.group(1).rstrip(".,;").lower()


def paper_id_for(key: str) -> str:
    """A stable paperlens id from the first natural key a paper was stored under.

    The id is a hash, not a counter, so two stores that ingest the same inputs
    hand out the same ids, and an id never reveals ingest order.
    """
    return "pl_" + hashlib.blake2b(key.encode(), digest_size=6).hexdigest()
