"""arXiv API responses (``export.arxiv.org/api/query``): Atom 1.0 feeds.

Two serialisations are live in recorded responses (``docs/formats/arxiv-atom.md``):
the classic one (2016) declares the ``arxiv:``/``opensearch:`` namespaces on
every element, hard-wraps titles and abstracts and uses ``http://`` links; the
current one (2026) declares them once on ``<feed>``, reorders an entry's
children (the DOI after the authors) and uses ``https://``. Elements are found
by local name, never by position, so both read the same.

What an entry says about versions, per the arXiv API manual: ``<published>``
is when v1 was submitted and ``<updated>`` when the returned version (the
``vN`` in ``<id>``) was. Nothing in between is known, so ``versions`` holds at
most those two.

Errors come back as a feed with one entry whose ``<id>`` is
``.../api/errors#...`` (HTTP 400 for a bad id); that entry becomes a
``ParseError`` carrying arXiv's message. A feed with no entries is an empty
result, not an error.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO, ClassVar
from xml.etree.ElementTree import Element

from paperlens.ids import normalise_doi, parse_arxiv_id
from paperlens.model import ParseError, Record, Version
from paperlens.sources.arxiv_fields import (
    clean_affiliation,
    find_links,
    iso_date,
    organisations_of,
    refuse_unreadable,
    split_collaboration,
    squash,
)
from paperlens.sources.xml_stream import (
    CHUNK_BYTES,
    XmlBroken,
    XmlRefused,
    child,
    child_text,
    children,
    iter_elements,
    local_name,
)

logger = logging.getLogger(__name__)

ATOM_NS = b"http://www.w3.org/2005/Atom"
_FEED_PATHS = frozenset(("entry", "updated"))
_TOTAL_PATHS = frozenset(("totalResults", "startIndex", "itemsPerPage"))


def _text(element: Element, name: str) -> str | None:
    value = child_text(element, name)
    if value is None:
        return None
    return squash(value) or None


def _moment(text: str | None) -> datetime | None:
    """An Atom timestamp as an aware UTC datetime (the classic feed writes ``-04:00``)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def entry_record(
    entry: Element, origin: str, location: str, observed_at: datetime | None = None
) -> Record | ParseError:
    """One ``<entry>`` → a ``Record``, or a ``ParseError`` for an API error entry."""
    entry_id = squash(child_text(entry, "id") or "")
    if "api/errors" in entry_id:
        message = _text(entry, "summary") or _text(entry, "title") or entry_id
        return ParseError(origin, location, f"arXiv API error: {message}")
    parsed = parse_arxiv_id(entry_id)
    if parsed is None:
        return ParseError(origin, location, f"entry id {entry_id[:120]!r} is not an arXiv id")
    arxiv_id, version = parsed

    published = iso_date(child_text(entry, "published"))
    updated = iso_date(child_text(entry, "updated"))
    versions: list[Version] = []
    if published is not None or version == 1:
        versions.append(Version(1, published))
    if version is not None and version > 1:
        versions.append(Version(version, updated))

    names: list[str] = []
    per_author: list[list[str]] = []
    for author in children(entry, "author"):
        name = _text(author, "name")
        if not name:
            continue
        name, group = split_collaboration(name)
        names.append(name)
        raw = ("".join(sub.itertext()) for sub in children(author, "affiliation"))
        affiliations = [a for a in map(clean_affiliation, raw) if a]
        per_author.append([group, *affiliations] if group else affiliations)

    categories: list[str] = []
    primary = child(entry, "primary_category")
    if primary is not None and primary.get("term"):
        categories.append(primary.get("term", "").strip())
    for category in children(entry, "category"):
        term = (category.get("term") or "").strip()
        if term and term not in categories:
            categories.append(term)

    doi = normalise_doi(child_text(entry, "doi"))
    if doi is None:
        for link in children(entry, "link"):
            if link.get("title") == "doi":
                doi = normalise_doi(link.get("href"))
                break

    extra: dict[str, Any] = {}
    organisations: list[str] = []
    if any(per_author):
        extra["affiliations"] = per_author
        organisations = organisations_of(per_author)
    abstract = _text(entry, "summary")
    comment = _text(entry, "comment")
    return Record(
        source=ArxivAtom.name,
        source_key=arxiv_id,
        origin=origin,
        location=location,
        arxiv_id=arxiv_id,
        version=version,
        versions=versions,
        doi=doi,
        title=_text(entry, "title"),
        abstract=abstract,
        authors=names,
        organisations=organisations,
        categories=categories,
        published=published,
        updated=updated,
        comment=comment,
        journal_ref=_text(entry, "journal_ref"),
        links=find_links(abstract, comment),
        extra=extra,
        observed_at=observed_at,
    )


class ArxivAtom:
    """arXiv API Atom feeds, classic and current serialisation."""

    name: ClassVar[str] = "arxiv-atom"

    def sniff(self, head: bytes, filename: str) -> bool:
        """An XML document with an Atom ``<feed>`` that mentions arXiv (ids, links, namespace).

        It must start with markup: the recorded JSON wrappers around a feed
        (``{"url": ..., "body": "<?xml ...``) contain the same strings but are
        not XML.
        """
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        return (
            start.startswith(b"<")
            and b"<feed" in head
            and ATOM_NS in head
            and b"arxiv" in head.lower()
        )

    def parse(self, stream: BinaryIO, origin: str) -> Iterator[Record | ParseError]:
        """Yield a record per entry; a cut-off feed keeps its complete entries, then one error."""
        first = stream.read(CHUNK_BYTES) or b""
        refuse_unreadable(first, origin)
        count = 0
        observed_at: datetime | None = None
        try:
            for path, element in iter_elements(stream, _FEED_PATHS, first_chunk=first):
                if not path:
                    root = local_name(element.tag)
                    if root != "feed":
                        yield ParseError(origin, "document", f"not an Atom feed (root <{root}>)")
                        return
                elif path == "updated":
                    observed_at = _moment(element.text)
                else:
                    count += 1
                    yield entry_record(element, origin, f"record {count}", observed_at)
        except XmlRefused as exc:
            yield ParseError(origin, "document", str(exc))
        except XmlBroken as exc:
            yield ParseError(
                origin,
                f"line {exc.line}, column {exc.column}",
                f"feed breaks after {count} complete entries: {exc.reason}",
            )


def feed_totals(data: bytes) -> tuple[int | None, int | None, int | None]:
    """``(totalResults, startIndex, itemsPerPage)`` of a feed page, None where absent.

    The sync code pages through a query with these. They precede the entries,
    so a page cut off later still reports them; an unreadable value is None.
    """
    found: dict[str, int | None] = {}
    try:
        for path, element in iter_elements(io.BytesIO(data), _TOTAL_PATHS):
            if path:
                try:
                    found[path] = int((element.text or "").strip())
                except ValueError:
                    found[path] = None
                if len(found) == len(_TOTAL_PATHS):
                    break
    except (XmlBroken, XmlRefused):
        pass
    return found.get("totalResults"), found.get("startIndex"), found.get("itemsPerPage")
