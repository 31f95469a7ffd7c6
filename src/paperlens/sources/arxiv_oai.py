"""arXiv OAI-PMH responses (``export.arxiv.org/oai2``): ``ListRecords`` and ``GetRecord`` pages.

Two metadata formats are read (``docs/formats/arxiv-oai.md``):

- ``metadataPrefix=arXiv``: structured authors (``keyname``, ``forenames``,
  ``suffix``, ``affiliation``), ``created`` (v1) and ``updated`` (the latest
  version, present only when there is more than one). The latest version's
  *number* is not given, so ``version`` is 1 when there is no ``updated`` and
  unknown (None) otherwise.
- ``metadataPrefix=arXivRaw``: every version with its RFC 2822 date, and the
  authors as one free-text string, split here the way arXiv itself splits it.

A page is a stream of records; a harvest walks pages with the
``resumptionToken`` (``resumption_token()`` reads it for the sync code).
Deleted records (``<header status="deleted">``) carry no metadata and are
skipped. ``<error code="noRecordsMatch">`` is an empty result, any other
OAI-PMH error code is a ``ParseError`` with arXiv's message.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO, ClassVar
from xml.etree.ElementTree import Element

from paperlens.errors import UnreadableInput
from paperlens.ids import normalise_doi, parse_arxiv_id
from paperlens.model import ParseError, Record, Version
from paperlens.sources.arxiv_authors import split_authors
from paperlens.sources.arxiv_fields import (
    clean_affiliation,
    find_links,
    iso_date,
    join_name,
    organisations_of,
    refuse_unreadable,
    rfc2822_date,
    split_collaboration,
    squash,
    tex_to_unicode,
    version_number,
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

OAI_NS = b"http://www.openarchives.org/OAI/2.0/"
_PAGE_PATHS = frozenset(
    (
        "responseDate",
        "error",
        "ListRecords/record",
        "GetRecord/record",
        "ListRecords/resumptionToken",
    )
)
_TOKEN_PATH = "ListRecords/resumptionToken"
# Optional text fields kept in Record.extra, by element name.
_EXTRA_FIELDS = (
    ("report-no", "report_no"),
    ("msc-class", "msc_class"),
    ("acm-class", "acm_class"),
    ("license", "license"),
    ("submitter", "submitter"),
)


def _text(element: Element, name: str) -> str | None:
    value = child_text(element, name)
    if value is None:
        return None
    return squash(value) or None


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _arxiv_id(meta: Element, header: Element | None) -> str | None:
    """The id from ``<id>``, else from the header's ``oai:arXiv.org:<id>`` identifier."""
    candidates = [child_text(meta, "id")]
    if header is not None:
        candidates.append(child_text(header, "identifier"))
    for text in candidates:
        if text:
            parsed = parse_arxiv_id(text.strip().removeprefix("oai:arXiv.org:"))
            if parsed is not None:
                return parsed[0]
    return None


def _arxiv_authors(meta: Element) -> tuple[list[str], list[list[str]]]:
    names: list[str] = []
    per_author: list[list[str]] = []
    authors = child(meta, "authors")
    for author in children(authors, "author") if authors is not None else []:
        name = join_name(
            child_text(author, "forenames"),
            child_text(author, "keyname"),
            child_text(author, "suffix"),
        )
        if name is None:
            continue
        name, group = split_collaboration(name)
        raw = ("".join(sub.itertext()) for sub in children(author, "affiliation"))
        affiliations = [a for a in map(clean_affiliation, raw) if a]
        names.append(name)
        per_author.append([group, *affiliations] if group else affiliations)
    return names, per_author


def metadata_record(
    meta: Element, header: Element | None, origin: str, location: str
) -> Record | ParseError:
    """An ``<arXiv>`` or ``<arXivRaw>`` metadata element → a ``Record``."""
    prefix = local_name(meta.tag)
    arxiv_id = _arxiv_id(meta, header)
    if arxiv_id is None:
        shown = (child_text(meta, "id") or "").strip()[:80]
        return ParseError(origin, location, f"no arXiv id in the record (id {shown!r})")

    complete = True
    versions: list[Version] = []
    if prefix == "arXivRaw":
        for element in children(meta, "version"):
            number = version_number(element.get("version"))
            if number is not None:
                versions.append(Version(number, rfc2822_date(child_text(element, "date"))))
        versions.sort(key=lambda v: v.version)
        latest = versions[-1] if versions else None
        version = latest.version if latest else None
        published = versions[0].date if versions and versions[0].version == 1 else None
        updated = latest.date if latest else None
        pairs, complete = split_authors(child_text(meta, "authors") or "")
        names = [name for name, _ in pairs]
        per_author = [affiliations for _, affiliations in pairs]
    else:
        published = iso_date(child_text(meta, "created"))
        last = iso_date(child_text(meta, "updated"))
        # <updated> appears only when there is more than one version.
        version = None if last is not None else (1 if published is not None else None)
        updated = last if last is not None else published
        if published is not None:
            versions.append(Version(1, published))
        names, per_author = _arxiv_authors(meta)

    extra: dict[str, Any] = {}
    organisations: list[str] = []
    if any(per_author):
        extra["affiliations"] = per_author
        organisations = organisations_of(per_author)
    doi_text = _text(meta, "doi")
    doi = normalise_doi(doi_text)
    if doi and doi_text and " " in doi_text:
        dois = [d for d in (normalise_doi(part) for part in doi_text.split()) if d]
        if len(dois) > 1:
            extra["dois"] = dois
    for name, key in _EXTRA_FIELDS:
        value = _text(meta, name)
        if value:
            extra[key] = value
    if "submitter" in extra:
        extra["submitter"] = tex_to_unicode(extra["submitter"])
    if header is not None:
        datestamp = _text(header, "datestamp")
        if datestamp:
            extra["oai_datestamp"] = datestamp

    abstract = _text(meta, "abstract")
    comment = _text(meta, "comments")
    return Record(
        source=ArxivOai.name,
        source_key=arxiv_id,
        origin=origin,
        location=location,
        arxiv_id=arxiv_id,
        version=version,
        versions=versions,
        doi=doi,
        title=_text(meta, "title"),
        abstract=abstract,
        authors=names,
        authors_complete=complete,
        organisations=organisations,
        categories=(child_text(meta, "categories") or "").split(),
        published=published,
        updated=updated,
        comment=comment,
        journal_ref=_text(meta, "journal-ref"),
        links=find_links(abstract, comment),
        extra=extra,
    )


def _record(element: Element, origin: str, location: str) -> Record | ParseError | None:
    header = child(element, "header")
    if header is not None and header.get("status") == "deleted":
        return None
    metadata = child(element, "metadata")
    meta = next(iter(metadata), None) if metadata is not None else None
    if meta is None:
        return ParseError(origin, location, "record has no metadata")
    prefix = local_name(meta.tag)
    if prefix not in ("arXiv", "arXivRaw"):
        return ParseError(
            origin,
            location,
            f"metadata format <{prefix}> is not read; use metadataPrefix=arXiv or arXivRaw",
        )
    return metadata_record(meta, header, origin, location)


class ArxivOai:
    """arXiv OAI-PMH pages in the ``arXiv`` and ``arXivRaw`` metadata formats."""

    name: ClassVar[str] = "arxiv-oai"

    def sniff(self, head: bytes, filename: str) -> bool:
        """An XML document whose root is ``<OAI-PMH>`` (any repository's errors read alike)."""
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        return start.startswith(b"<") and b"<OAI-PMH" in head and OAI_NS in head

    def parse(self, stream: BinaryIO, origin: str) -> Iterator[Record | ParseError]:
        """Yield a record per live ``<record>``; a cut-off page keeps its complete records."""
        first = stream.read(CHUNK_BYTES) or b""
        refuse_unreadable(first, origin)
        count = 0
        observed_at: datetime | None = None
        try:
            for path, element in iter_elements(stream, _PAGE_PATHS, first_chunk=first):
                if not path:
                    root = local_name(element.tag)
                    if root != "OAI-PMH":
                        yield ParseError(
                            origin, "document", f"not an OAI-PMH response (root <{root}>)"
                        )
                        return
                elif path == "responseDate":
                    observed_at = _moment(element.text)
                elif path == "error":
                    code = element.get("code") or "unknown"
                    if code != "noRecordsMatch":
                        message = squash("".join(element.itertext())) or "(no message)"
                        yield ParseError(origin, "response", f"OAI-PMH error {code}: {message}")
                elif path == _TOKEN_PATH:
                    continue
                else:
                    count += 1
                    result = _record(element, origin, f"record {count}")
                    if isinstance(result, Record):
                        result.observed_at = observed_at
                    if result is not None:
                        yield result
        except XmlRefused as exc:
            yield ParseError(origin, "document", str(exc))
        except XmlBroken as exc:
            yield ParseError(
                origin,
                f"line {exc.line}, column {exc.column}",
                f"response breaks after {count} complete records: {exc.reason}",
            )


def resumption_token(data: bytes) -> str | None:
    """The ``resumptionToken`` of a ``ListRecords`` page; None when this is the last page.

    OAI-PMH marks the last page with an empty token element or none at all.
    The token is the page's last element, so a page cut off before it cannot
    say whether more follow: that raises ``UnreadableInput`` rather than
    answer None and end a harvest early.
    """
    token: str | None = None
    try:
        for path, element in iter_elements(io.BytesIO(data), {_TOKEN_PATH}):
            if path == _TOKEN_PATH:
                token = (element.text or "").strip() or None
    except (XmlBroken, XmlRefused) as exc:
        raise UnreadableInput(
            f"OAI-PMH page is not readable ({exc}); cannot tell whether more pages follow"
        ) from exc
    return token
