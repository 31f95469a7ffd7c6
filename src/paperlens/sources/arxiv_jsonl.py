"""arXiv bulk metadata as JSON Lines: the Kaggle ``arxiv-metadata-oai-snapshot.json``.

One JSON object per line with ``id, submitter, authors, title, comments,
journal-ref, doi, report-no, categories, license, abstract, versions,
update_date, authors_parsed`` (see ``docs/formats/arxiv-jsonl.md``). The full
snapshot is several GB, so the file is read line by line in constant memory,
optionally through gzip, and one bad line costs only that line.

The snapshot is a dump of arXiv's OAI metadata (``arXiv`` + ``arXivRaw``), so
the field helpers here (author names, affiliations, RFC 2822 version dates,
links) are also what ``arxiv_oai`` and ``arxiv_atom`` use for the same fields.

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
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from itertools import pairwise
from typing import Any, BinaryIO, ClassVar, Protocol

from paperlens.errors import UnreadableInput
from paperlens.ids import normalise_doi, parse_arxiv_id
from paperlens.model import ParseError, Record, Version

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

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_UTC_ZONES = frozenset(("GMT", "UTC", "UT", "Z", "+0000", "-0000"))

# --- dates -------------------------------------------------------------------


def rfc2822_date(text: str | None) -> date | None:
    """The UTC day of an arXiv version date such as ``Mon, 2 Apr 2007 19:18:42 GMT``.

    arXivRaw and the snapshot write every version date this way, always in
    GMT; the fast path splits the string (``parsedate_to_datetime`` is several
    times slower, and runs once per version of every paper). Anything else
    falls back to the email parser, and an unreadable date is None, not an error.
    """
    if not text:
        return None
    parts = text.split()
    try:
        if (
            len(parts) >= 4
            and parts[0].endswith(",")
            and (len(parts) < 6 or parts[5] in _UTC_ZONES)
        ):
            return date(int(parts[3]), _MONTHS[parts[2]], int(parts[1]))
    except (KeyError, ValueError):
        pass
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.date()


def iso_date(text: str | None) -> date | None:
    """The UTC day of an ISO date or timestamp (``2013-04-30``, ``2012-04-02T12:38:54Z``)."""
    if not text:
        return None
    text = text.strip()
    try:
        if len(text) <= 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def version_number(label: object) -> int | None:
    """``"v3"`` → 3; anything else → None."""
    if not isinstance(label, str):
        return None
    label = label.strip()
    if label[:1] in ("v", "V") and label[1:].isdigit():
        return int(label[1:])
    return None


# --- names and affiliations ------------------------------------------------------

_TEX_MARKS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "c": "\u0327",
    "v": "\u030c",
    "u": "\u0306",
    "H": "\u030b",
    "k": "\u0328",
    "r": "\u030a",
}
_TEX_SYMBOL_ACCENT_RE = re.compile(r"\\([`'^\"~=.])\s*(?:\{\s*(\\?[A-Za-z])\s*\}|(\\?[A-Za-z]))")
_TEX_LETTER_ACCENT_RE = re.compile(r"\\([cvuHkr])(?:\s*\{\s*(\\?[A-Za-z])\s*\}|\s+([A-Za-z]))")
_TEX_LETTERS = {"ss": "ß", "o": "ø", "O": "Ø", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ"}
_TEX_LETTERS |= {"oe": "œ", "OE": "Œ", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ"}
_TEX_LETTER_RE = re.compile(r"\\(ss|aa|AA|ae|AE|oe|OE|[oOlLij])(?![A-Za-z])\s*")


def _accent(match: re.Match[str]) -> str:
    base = match.group(2) or match.group(3)
    if base in ("\\i", "\\j"):
        base = base[1]
    return base + _TEX_MARKS[match.group(1)]


def tex_to_unicode(text: str) -> str:
    """Turn TeX accents in a name (``Bal\\'azs``, ``G\\"{o}del``, ``\\c{c}``) into Unicode.

    The free-text ``authors`` field of arXivRaw and the snapshot is TeX, while
    ``authors_parsed`` and the Atom API give Unicode; merge compares surnames,
    so both must read "Balázs". Math and other commands are left alone.
    """
    if "\\" not in text:
        return text
    text = _TEX_SYMBOL_ACCENT_RE.sub(_accent, text)
    text = _TEX_LETTER_ACCENT_RE.sub(_accent, text)
    text = _TEX_LETTER_RE.sub(lambda m: _TEX_LETTERS[m.group(1)], text)
    text = re.sub(r"\{([^{}\\]*)\}", r"\1", text)
    return unicodedata.normalize("NFC", text)


def squash(text: str) -> str:
    """Collapse hard line breaks and runs of whitespace: ``text.clean_whitespace``, faster.

    Same result as ``clean_whitespace`` (a hypothesis test pins it), about
    twice as fast on an abstract, which matters at millions of lines. The fast
    path: once newlines are spaces and the ends stripped, a string with no
    double space that ``isprintable()`` holds no other whitespace at all
    (every other whitespace character is a control or separator character,
    which ``isprintable`` rejects), so it is already clean.
    """
    s = text.replace("\n", " ").strip()
    if "  " in s or not s.isprintable():
        return " ".join(s.split())
    return s


def join_name(forenames: str | None, keyname: str | None, suffix: str | None = None) -> str | None:
    """``"Forenames Keyname Suffix"``; None when nothing name-like is left.

    arXiv's own name parser leaves debris such as a keyname ``":"`` (from
    "Keck Array and BICEP2 Collaborations: ...") or ``"Sheeley,"`` before a
    suffix; punctuation-only parts are dropped and stray commas trimmed. A
    collaboration sits in ``keyname`` alone and comes out as written.
    """
    parts = []
    for part in (forenames, keyname, suffix):
        if part:
            part = squash(part).strip(" ,;")
            if part:
                parts.append(part)
    name = " ".join(parts)
    if not any(c.isalnum() for c in name):
        return None
    return name


_FOR_GROUP_RE = re.compile(
    r"(?P<name>.*?\w.*?)[\s,]+(?P<group>(?:for|on behalf of)\s+(?:the\s+)?\S.*?"
    r"\b(?:collaborations?|consortium))\.?",
    re.IGNORECASE,
)


_FOR_PHRASE_RE = re.compile(r"\s(?:for|on behalf of)\s.*\bcollaborations?\b", re.IGNORECASE)


def split_collaboration(name: str) -> tuple[str, str | None]:
    """Split ``Dipanwita Dutta for the CMS Collaboration`` into the name and the "for the ..." part.

    arXiv metadata often writes the collaboration into the author's name
    (the whole phrase in ``keyname``, or "for the CMS" in ``forenames``). Left
    there, the surname merge compares would be "Collaboration"; split off, it
    is the author's affiliation and the collaboration an organisation.
    """
    if " for " not in name.lower() and "behalf" not in name:
        return name, None
    m = _FOR_GROUP_RE.fullmatch(name)
    if m is None:
        return name, None
    return m.group("name"), m.group("group")


_AFFILIATION_REF_RE = re.compile(r"[\d\s,;&*]*(?:\band\b[\d\s,;&*]*)*")
_ON_BEHALF_RE = re.compile(r"^(?:on behalf of|for)\s+(?:the\s+)?", re.IGNORECASE)


def is_affiliation_ref(text: str) -> bool:
    """True for footnote references like ``1 and 2`` that stand for an affiliation."""
    return _AFFILIATION_REF_RE.fullmatch(text) is not None


def clean_affiliation(text: str | None) -> str | None:
    """An affiliation as given, whitespace collapsed; None when empty or a bare ``1 and 3``."""
    if not text:
        return None
    text = squash(text).strip(" ,;")
    if not text or is_affiliation_ref(text):
        return None
    return text


def organisation_name(affiliation: str) -> str:
    """The organisation an affiliation names: ``for the CMS Collaboration`` → ``CMS Collaboration``.

    arXiv affiliations are free text; "for the"/"on behalf of" is about the author, not the body.
    """
    return _ON_BEHALF_RE.sub("", affiliation) or affiliation


def organisations_of(affiliations: Iterable[list[str]]) -> list[str]:
    """Distinct organisations across per-author affiliation lists, first-seen order."""
    seen: dict[str, None] = {}
    for per_author in affiliations:
        for affiliation in per_author:
            seen.setdefault(organisation_name(affiliation), None)
    return list(seen)


_LEGEND_RE = re.compile(r"\(\s*(\d+)\s*\)\s*([^()]*?)\s*(?:,|;|\band\b)?\s*(?=\(\s*\d+\s*\)|$)")


def affiliation_legend(text: str) -> dict[str, str]:
    """The legend ``((1) CREST, Japan, (2) Tokyo)`` of a free-text author list, by number."""
    legend: dict[str, str] = {}
    for group in _top_level_groups(text):
        if group.lstrip().startswith("("):
            for m in _LEGEND_RE.finditer(group.strip()):
                value = clean_affiliation(m.group(2))
                if value:
                    legend[m.group(1)] = value
    return legend


def resolve_refs(ref: str, legend: dict[str, str]) -> list[str]:
    """The legend entries a ``1 and 3`` reference points to."""
    return [legend[n] for n in re.findall(r"\d+", ref) if n in legend]


def _top_level_groups(text: str) -> list[str]:
    groups: list[str] = []
    depth = 0
    start = 0
    for i, c in enumerate(text):
        if c == "(":
            if depth == 0:
                start = i + 1
            depth += 1
        elif c == ")" and depth:
            depth -= 1
            if depth == 0:
                groups.append(text[start:i])
    return groups


_SUFFIX_RE = re.compile(r"(?:Jr|Sr|jr|sr)\.?|I{2,3}|IV")
_ET_AL_RE = re.compile(r"et\.?\s*al\.?", re.IGNORECASE)
_TRAILING_ET_AL_RE = re.compile(r"[\s,]+et\.?\s*al\.?$", re.IGNORECASE)
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
            if _ET_AL_RE.fullmatch(value):
                complete = False
            elif _TRAILING_ET_AL_RE.search(value):  # "V. Abazov et al"
                complete = False
                authors.append([_TRAILING_ET_AL_RE.sub("", value), [], []])
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


# --- links --------------------------------------------------------------------------

_URL_CHARS = r"[^\s<>\"'{}|\\^`\[\]]+"
_URL_RE = re.compile(r"https?://" + _URL_CHARS, re.IGNORECASE)
_BARE_HOSTS = ("github.com/", "gitlab.com/", "huggingface.co/", "bitbucket.org/")
_BARE_URL_RE = re.compile(
    r"(?<![\w/.@])(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co|bitbucket\.org)/"
    + _URL_CHARS,
    re.IGNORECASE,
)


def find_links(*texts: str | None) -> list[str]:
    """URLs written in an abstract or comment: code repositories, project pages, data.

    arXiv text wraps URLs in TeX (``\\url{...}``) and ends them with sentence
    punctuation, so trailing ``.,;:`` and an unbalanced ``)`` are trimmed. A bare
    ``github.com/...`` (no scheme) gets ``https://``. Distinct, first-seen order.

    Most abstracts hold no URL, so plain substring tests decide whether a
    regex runs at all; an alternation-led regex scanning every abstract cost
    more than parsing its JSON.
    """
    found: dict[str, None] = {}
    for text in texts:
        if not text or "/" not in text:  # one memchr; most abstracts stop here
            continue
        matches: list[str] = []
        if "://" in text:
            matches += _URL_RE.findall(text)
        if (".co" in text or ".org/" in text) and any(host in text for host in _BARE_HOSTS):
            matches += ["https://" + m for m in _BARE_URL_RE.findall(text)]
        for url in matches:
            url = url.rstrip(".,;:!?'\"")
            while url.endswith(")") and url.count(")") > url.count("("):
                url = url[:-1].rstrip(".,;:")
            if len(url) > len("https://x.y"):
                found.setdefault(url, None)
    return list(found)


# --- whole-input checks ---------------------------------------------------------------


def refuse_unreadable(head: bytes, origin: str) -> None:
    """Raise ``UnreadableInput`` for an empty or binary input; nothing else.

    Stricter checks (``sources.check_readable`` refuses any non-UTF-8 head)
    would throw away a whole snapshot for one bad byte in line 3; here that
    line becomes a ``ParseError`` and the rest is read.
    """
    if not head.strip():
        raise UnreadableInput(f"{origin}: empty file")
    if b"\x00" in head[:8192]:
        raise UnreadableInput(f"{origin}: binary file (contains NUL bytes), not a text format")


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
            if not line.strip():
                continue
            try:
                obj = _loads(line)
            except (ValueError, RecursionError) as exc:
                yield ParseError(origin, f"line {n}", _json_reason(line, exc))
                continue
            yield record_from_snapshot(obj, origin, f"line {n}")


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
        if _ET_AL_RE.fullmatch(name):
            return None
        name = _TRAILING_ET_AL_RE.sub("", name)
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
