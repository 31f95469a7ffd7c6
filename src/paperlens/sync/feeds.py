"""The paging facts of an arXiv API or OAI-PMH page: totals, tokens, error codes.

The parsers turn a page into records; a sync also needs what the page says
about *the list*: how many results the query has and where this page starts
(OpenSearch elements of the Atom feed), the OAI-PMH ``resumptionToken`` and
``responseDate``, and an error the service reported inside a 200. These are
read with the parsers' own helpers (``arxiv_atom.feed_totals``,
``arxiv_oai.resumption_token``) plus the few facts they do not give (an error
entry, the number of entries, ``responseDate``, ``completeListSize``), through
the same hardened streaming reader (``sources/xml_stream.py``). The body was
already checked to be well-formed by the fetcher.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from paperlens.errors import UnreadableInput
from paperlens.sources.arxiv_atom import feed_totals
from paperlens.sources.arxiv_oai import resumption_token
from paperlens.sources.xml_stream import XmlBroken, XmlRefused, iter_elements, local_name


@dataclass(slots=True)
class AtomPage:
    """OpenSearch facts of one arXiv API response."""

    total: int | None = None
    start: int | None = None
    per_page: int | None = None
    entries: int = 0
    error: str | None = None
    """The summary of an ``.../api/errors#...`` entry, when arXiv reports an error."""


@dataclass(slots=True)
class OaiPage:
    """OAI-PMH facts of one ListRecords response."""

    response_date: str | None = None
    error_code: str | None = None
    error: str | None = None
    token: str | None = None
    """The next resumption token; ``None`` (absent or empty) means the list is complete."""
    complete_size: int | None = None
    cursor: int | None = None
    records: int = 0


def atom_page(content: bytes) -> AtomPage:
    page = AtomPage()
    page.total, page.start, page.per_page = feed_totals(content)
    try:
        for path, element in iter_elements(io.BytesIO(content), ("entry",)):
            if path == "entry":
                ident = _child_text(element, "id")
                if "/api/errors" in ident:
                    page.error = _child_text(element, "summary") or ident
                else:
                    page.entries += 1
    except (XmlBroken, XmlRefused) as exc:
        page.error = f"unreadable feed ({exc})"
    return page


def oai_page(content: bytes) -> OaiPage:
    page = OaiPage()
    try:
        for path, element in iter_elements(
            io.BytesIO(content),
            ("responseDate", "error", "ListRecords/resumptionToken", "ListRecords/record"),
        ):
            text = " ".join((element.text or "").split())
            if path == "":
                if local_name(element.tag) != "OAI-PMH":
                    page.error_code = "notOaiPmh"
                    page.error = f"root element is <{local_name(element.tag)}>, not <OAI-PMH>"
                    return page
            elif path == "responseDate":
                page.response_date = text
            elif path == "error":
                page.error_code = element.get("code") or "error"
                page.error = text or page.error_code
            elif path == "ListRecords/resumptionToken":
                page.complete_size = _int(element.get("completeListSize", ""))
                page.cursor = _int(element.get("cursor", ""))
            elif path == "ListRecords/record":
                page.records += 1
    except (XmlBroken, XmlRefused) as exc:
        page.error_code = "unreadable"
        page.error = f"unreadable OAI-PMH response ({exc})"
        return page
    try:
        page.token = resumption_token(content)
    except UnreadableInput as exc:
        page.error_code = "unreadable"
        page.error = str(exc)
    return page


def _child_text(element: Element, name: str) -> str:
    for sub in element:
        if local_name(sub.tag) == name:
            return " ".join("".join(sub.itertext()).split())
    return ""


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None
