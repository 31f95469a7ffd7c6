"""arXiv bulk metadata as JSON Lines: the Kaggle ``arxiv-metadata-oai-snapshot.json``.

One JSON object per line with ``id, submitter, authors, title, comments,
journal-ref, doi, report-no, categories, license, abstract, versions,
update_date, authors_parsed`` (see ``docs/formats/arxiv-jsonl.md``). The full
snapshot is several GB, so the file is read line by line in constant memory,
optionally through gzip, and one bad line costs only that line.

The field helpers (author names, affiliations, RFC 2822 version dates, links)
live in ``arxiv_fields``, shared with ``arxiv_oai`` and ``arxiv_atom``.

Speed: ingest must reach 10,000 records/s end to end, so this parser aims at
50,000 lines/s. Per line, the JSON parse (``orjson`` when installed, else
``json.loads``) and collapsing the abstract's line breaks are the big items;
plain author names, ``vN`` labels and GMT dates take fast paths, and regex
work (TeX accents, URLs, "et al.", collaborations) runs only when a cheap
substring test says it can match.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import zlib
from collections.abc import Callable, Iterator
from itertools import pairwise
from typing import Any, BinaryIO, ClassVar, Protocol

from paperlens.ids import normalise_doi, parse_arxiv_id
from paperlens.model import ParseError, Record, Version
from paperlens.sources.arxiv_authors import (
    ET_AL_RE,
    TRAILING_ET_AL_RE,
    authors_incomplete,
    split_authors,
)
from paperlens.sources.arxiv_fields import (
    affiliation_legend,
    clean_affiliation,
    find_links,
    is_affiliation_ref,
    join_name,
    organisations_of,
    refuse_unreadable,
    resolve_refs,
    rfc2822_date,
    split_collaboration,
    squash,
    tex_to_unicode,
    version_number,
)

logger = logging.getLogger(__name__)

_loads: Callable[[bytes], Any] = json.loads
try:  # orjson parses a snapshot line about 3x faster than json; optional, same results.
    from orjson import loads as _orjson_loads

    _loads = _orjson_loads
except ImportError:  # pragma: no cover - depends on the environment
    pass

GZIP_MAGIC = b"\x1f\x8b"
MAX_LINE_BYTES = 16 * 1024 * 1024
"""A line longer than this is reported and skipped: the longest real snapshot
line is well under 1 MiB, and a file with no newlines must not fill memory."""

# --- the JSONL source -------------------------------------------------------------------


class LineReader(Protocol):
    """What the line loop needs from a (maybe decompressing) buffered reader."""

    def peek(self, size: int, /) -> bytes: ...

    def readline(self, size: int | None = ..., /) -> bytes: ...


class _Prefixed(io.RawIOBase):
    """A raw stream that replays bytes already read, then continues with the source."""

    def __init__(self, prefix: bytes, source: BinaryIO) -> None:
        self._prefix = prefix
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        want = len(buffer)
        if self._prefix:
            data = self._prefix[:want]
            self._prefix = self._prefix[want:]
            if len(data) < want:
                data += self._source.read(want - len(data)) or b""
        else:
            data = self._source.read(want) or b""
        buffer[: len(data)] = data
        return len(data)


def open_text_lines(stream: BinaryIO) -> LineReader:
    """A buffered reader over ``stream``, decompressed when it starts with the gzip magic.

    Ingest may hand over the raw file or an already decompressed stream, so the
    magic bytes, not the file name, decide.
    """
    magic = stream.read(2) or b""
    raw = io.BufferedReader(_Prefixed(magic, stream), buffer_size=1 << 20)
    if magic == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")
    return raw


_SNIFF_KEYS = (b'"id"', b'"authors"', b'"categories"', b'"abstract"')


class ArxivJsonl:
    """The Kaggle / OAI snapshot JSON Lines format, plain or gzip."""

    name: ClassVar[str] = "arxiv-jsonl"
    bulk: ClassVar[bool] = True
    """Files of millions of lines: ingest parses them in a second process."""
    line_code: ClassVar[tuple[str, ...]] = (
        "paperlens.sources.arxiv_jsonl",
        "paperlens.sources.arxiv_fields",
        "paperlens.sources.arxiv_authors",
        "paperlens.ids",
        "paperlens.model",
    )
    """The modules whose code decides what a line parses to: ingest remembers lines by a
    digest keyed with their source code, so changing any of them forgets every line."""

    def sniff(self, head: bytes, filename: str) -> bool:
        """A first line that is a JSON object with the snapshot's keys.

        Content decides; the name does not (the snapshot ships as ``.json``).
        A still-compressed head is inflated as far as it goes.
        """
        if head[:2] == GZIP_MAGIC:
            try:
                head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 1 << 16)
            except zlib.error:
                return False
        first = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
        if not first.startswith(b"{"):
            return False
        return all(key in first for key in _SNIFF_KEYS) and (
            b'"versions"' in first or b'"authors_parsed"' in first
        )

    def parse(self, stream: BinaryIO, origin: str) -> Iterator[Record | ParseError]:
        """Yield one record per line; a bad line becomes a ``ParseError`` and reading goes on."""
        for item in self.lines(stream, origin):
            yield item if isinstance(item, ParseError) else self.parse_line(*item, origin)

    def lines(self, stream: BinaryIO, origin: str) -> Iterator[tuple[int, bytes] | ParseError]:
        """The non-blank lines and their numbers; a line that cannot be read is a ``ParseError``.

        ``parse`` is ``parse_line`` over these; ingest calls the two halves itself
        so that it can skip lines it has seen before without decoding them.
        """
        try:
            reader = open_text_lines(stream)
            head = reader.peek(8192)
        except (EOFError, OSError, zlib.error) as exc:
            yield ParseError(origin, "line 1", f"compressed stream is unreadable: {exc}")
            return
        refuse_unreadable(head, origin)
        readline = reader.readline
        n = 0
        while True:
            try:
                line = readline(MAX_LINE_BYTES)
            except (EOFError, OSError, zlib.error) as exc:
                yield ParseError(origin, f"line {n + 1}", f"compressed stream breaks: {exc}")
                return
            if not line:
                return
            n += 1
            if line[-1:] != b"\n" and len(line) >= MAX_LINE_BYTES:
                yield ParseError(origin, f"line {n}", f"line longer than {MAX_LINE_BYTES} bytes")
                yield from _skip_rest_of_line(reader, origin, n)
                continue
            if n == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]  # a UTF-8 byte-order mark, which JSON parsers reject
            if line.strip():
                yield n, line

    def parse_line(self, n: int, line: bytes, origin: str) -> Record | ParseError:
        """Line ``n`` (from ``lines``) as a record."""
        try:
            obj = _loads(line)
        except (ValueError, RecursionError) as exc:
            return ParseError(origin, f"line {n}", _json_reason(line, exc))
        return record_from_snapshot(obj, origin, f"line {n}")


def _skip_rest_of_line(reader: LineReader, origin: str, n: int) -> Iterator[ParseError]:
    try:
        while True:
            chunk = reader.readline(MAX_LINE_BYTES)
            if not chunk or chunk.endswith(b"\n"):
                return
    except (EOFError, OSError, zlib.error) as exc:
        yield ParseError(origin, f"line {n}", f"compressed stream breaks: {exc}")


def _json_reason(line: bytes, exc: Exception) -> str:
    cut = "" if line.endswith(b"\n") else "line is cut off (no newline at end of input); "
    if isinstance(exc, UnicodeDecodeError):
        return f"{cut}not UTF-8 (invalid byte at offset {exc.start})"
    if isinstance(exc, json.JSONDecodeError):
        return f"{cut}not valid JSON: {exc.msg} at column {exc.colno}"
    if isinstance(exc, RecursionError):
        return f"{cut}JSON nested too deeply"
    return f"{cut}not valid JSON: {exc}"


def _text(value: object) -> str | None:
    """A string field with whitespace collapsed; None for null, non-strings and blanks."""
    if type(value) is not str:
        return None
    return squash(value) or None


def _is_new_id(text: str) -> bool:
    return text[:4].isdigit() and text[5:].isdigit()


def _author(item: object) -> tuple[str, list[str]] | None:
    """One ``authors_parsed`` entry ``[keyname, forenames, suffix, affiliation...]``."""
    if type(item) is not list or not item or not all(type(p) is str for p in item):
        return None
    size = len(item)
    last = item[0]
    first = item[1] if size > 1 else ""
    suffix = item[2] if size > 2 else ""
    name = f"{first} {last}" if first else last
    if suffix:
        name = f"{name} {suffix}"
    # Fast path: a plain name; anything odd goes through join_name's clean-up.
    if not (name[:1].isalpha() and name.isprintable() and "  " not in name and "," not in name):
        cleaned = join_name(first, last, suffix)
        if cleaned is None:
            return None
        name = cleaned
    if name[-2:].lower() == "al":  # "et al" parsed as a name, or glued to one
        if ET_AL_RE.fullmatch(name):
            return None
        name = TRAILING_ET_AL_RE.sub("", name)
    if name[-1:] in "mM":  # ... Collaboration / Consortium
        name, group = split_collaboration(name)
        if group:
            return name, [group, *item[3:]]
    return name, item[3:]


def record_from_snapshot(obj: object, origin: str, location: str) -> Record | ParseError:
    """One snapshot object → a ``Record``; a missing or unusable ``id`` is a ``ParseError``.

    ``updated`` is the date of the latest version, like the Atom API's
    ``<updated>``; the snapshot's own ``update_date`` (when arXiv last touched
    the metadata, often years later) is kept in ``extra``. This runs once per
    line of a multi-million-line file, hence the fast paths.
    """
    if type(obj) is not dict:
        return ParseError(origin, location, f"expected a JSON object, got {type(obj).__name__}")
    raw_id = obj.get("id")
    if type(raw_id) is not str:
        return ParseError(origin, location, 'no "id" string')
    if len(raw_id) in (9, 10) and raw_id[4] == "." and raw_id.isascii() and _is_new_id(raw_id):
        arxiv_id = raw_id  # the common case, without the regex
    else:
        parsed = parse_arxiv_id(raw_id)
        if parsed is None:
            return ParseError(origin, location, f"id {raw_id[:80]!r} is not an arXiv id")
        arxiv_id = parsed[0]

    versions: list[Version] = []
    raw_versions = obj.get("versions")
    if type(raw_versions) is list:
        for item in raw_versions:
            if type(item) is dict:
                label = item.get("version")
                if type(label) is str and label[:1] == "v" and label[1:].isdigit():
                    number: int | None = int(label[1:])
                else:
                    number = version_number(label)
                if number is not None:
                    created = item.get("created")
                    when = rfc2822_date(created) if type(created) is str else None
                    versions.append(Version(number, when))
        if len(versions) > 1 and any(a.version >= b.version for a, b in pairwise(versions)):
            versions.sort(key=lambda v: v.version)
    latest = versions[-1] if versions else None
    published = versions[0].date if versions and versions[0].version == 1 else None

    authors_raw = obj.get("authors")
    authors_text = authors_raw if type(authors_raw) is str else None
    names: list[str] = []
    per_author: list[list[str]] = []
    parsed_authors = obj.get("authors_parsed")
    if type(parsed_authors) is list and parsed_authors:
        legend: dict[str, str] | None = None
        with_affiliations = False
        for item in parsed_authors:
            # Fast path for the usual [keyname, forenames, suffix] of plain strings.
            if type(item) is list and len(item) == 3:
                last, first, suffix = item
                if type(last) is str and type(first) is str and type(suffix) is str:
                    name = f"{first} {last}" if first else last
                    if suffix:
                        name = f"{name} {suffix}"
                    if (
                        name[:1].isalpha()
                        and name.isprintable()
                        and "  " not in name
                        and "," not in name
                        and not name.endswith(_SLOW_NAME_ENDINGS)
                    ):
                        names.append(name)
                        per_author.append(_NO_AFFILIATIONS)
                        continue
            author = _author(item)
            if author is None:
                continue
            name, raw_affiliations = author
            affiliations: list[str] = []
            for raw in raw_affiliations:
                if raw and is_affiliation_ref(raw.strip()):
                    if legend is None:
                        legend = affiliation_legend(authors_text or "")
                    affiliations.extend(resolve_refs(raw, legend))
                else:
                    value = clean_affiliation(raw)
                    if value:
                        affiliations.append(value)
            names.append(name)
            per_author.append(affiliations)
            with_affiliations = with_affiliations or bool(affiliations)
        if not with_affiliations:
            per_author = []
    elif authors_text:
        pairs, _ = split_authors(authors_text)
        names = [name for name, _ in pairs]
        per_author = [affiliations for _, affiliations in pairs]

    extra: dict[str, Any] = {}
    organisations: list[str] = []
    if any(per_author):
        per_author = [list(affiliations) for affiliations in per_author]
        extra["affiliations"] = per_author
        organisations = organisations_of(per_author)
    doi_text = _text(obj.get("doi"))
    doi = normalise_doi(doi_text)
    if doi and doi_text and " " in doi_text:
        dois = [d for d in (normalise_doi(part) for part in doi_text.split()) if d]
        if len(dois) > 1:
            extra["dois"] = dois
    for key, field in _EXTRA_KEYS:
        value = _text(obj.get(key))
        if value:
            extra[field] = value
    if "submitter" in extra:
        extra["submitter"] = tex_to_unicode(extra["submitter"])

    abstract = _text(obj.get("abstract"))
    comment = _text(obj.get("comments"))
    categories = obj.get("categories")
    return Record(
        source=ArxivJsonl.name,
        source_key=arxiv_id,
        origin=origin,
        location=location,
        arxiv_id=arxiv_id,
        version=latest.version if latest else None,
        versions=versions,
        doi=doi,
        title=_text(obj.get("title")),
        abstract=abstract,
        authors=names,
        authors_complete=not authors_incomplete(authors_text),
        organisations=organisations,
        categories=categories.split() if type(categories) is str else [],
        published=published,
        updated=latest.date if latest else None,
        comment=comment,
        journal_ref=_text(obj.get("journal-ref")),
        links=find_links(abstract, comment),
        extra=extra,
    )


_NO_AFFILIATIONS: list[str] = []  # shared, never mutated: copied before it is exposed
# Names ending so may hold "et al" or "for the X Collaboration"; they take the slow path.
_SLOW_NAME_ENDINGS = ("al", "al.", "ion", "ions", "ium")

_EXTRA_KEYS = (
    ("report-no", "report_no"),
    ("license", "license"),
    ("submitter", "submitter"),
    ("update_date", "update_date"),
)
