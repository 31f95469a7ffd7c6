"""Hugging Face Daily Papers JSON: ``/api/daily_papers`` lists and ``/api/papers/{id}`` objects.

A daily list is a JSON array of items ``{paper: {...}, publishedAt, title,
numComments, ...}``; a single paper is the bare ``paper`` object. The schema
grew over time (see ``tests/fixtures/README.md``): 2024 papers carry only
``id, authors, publishedAt, title, summary, upvotes``; 2025 adds
``submittedOnDailyAt``, ``githubRepo``, ``projectPage``, ``ai_keywords``,
``discussionId``; 2026 adds ``ai_summary``, ``githubStars`` and an
``organization`` object. Every field beyond ``paper.id`` is optional here.

The file is walked one top-level item at a time with
``json.JSONDecoder.raw_decode`` rather than ``json.loads``: a download cut
short must still give every complete item before the break, followed by a
``ParseError`` that says where it broke. ``json.loads`` is all or nothing,
and the streaming JSON libraries (ijson) are not dependencies of paperlens;
the daily lists are small (tens of KiB), so holding the text is fine and the
only thing we need is item-level recovery, which ``raw_decode`` gives.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Generator, Iterator
from datetime import UTC, date, datetime
from typing import Any, BinaryIO, ClassVar

from paperlens.ids import parse_arxiv_id
from paperlens.model import Observation, ParseError, Record
from paperlens.sources import HEAD_BYTES, check_readable
from paperlens.text import clean_whitespace

logger = logging.getLogger(__name__)

NAME = "hf-daily"

_DECODER = json.JSONDecoder()
_WS = " \t\r\n"
# Keys only a Hugging Face paper has; arXiv JSONL and Semantic Scholar share
# "id"/"title"/"authors" but never "upvotes" nor authors with an "_id".
_SNIFF_UPVOTES_RE = re.compile(rb'"upvotes"\s*:')
_SNIFF_PAPER_RE = re.compile(rb'"paper"\s*:\s*\{\s*"id"\s*:')
_SNIFF_AUTHOR_RE = re.compile(rb'"authors"\s*:\s*\[\s*\{\s*"_id"\s*:')
_URL_RE = re.compile(r"https?://[^\s<>\"'`\]\[{}|\\^]+")
_URL_TRAIL = ".,;:!?)'\""
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# How ``surrogateescape`` carries an undecodable byte 0xNN: as U+DCNN.
_BAD_BYTE_RE = re.compile("[\udc80-\udcff]")


class HfDaily:
    """Parser for Hugging Face Daily Papers API responses."""

    name: ClassVar[str] = NAME

    def __init__(self, *, observed_at: datetime | None = None) -> None:
        """``observed_at``: when the response was fetched, if the caller knows it.

        A saved file does not say when it was downloaded, so without it the
        signals are stamped with the parse time; ``content_hash`` ignores
        signal times, so re-ingesting the same file still counts as unchanged.
        """
        self._observed_at = observed_at

    def sniff(self, head: bytes, filename: str) -> bool:
        """JSON whose first value is a daily-papers item or an HF paper object."""
        start = head.lstrip(b"\xef\xbb\xbf" + _WS.encode())[:1]
        if start not in (b"[", b"{"):
            return False
        if _SNIFF_PAPER_RE.search(head) and (
            _SNIFF_UPVOTES_RE.search(head) or _SNIFF_AUTHOR_RE.search(head)
        ):
            return True
        return bool(_SNIFF_UPVOTES_RE.search(head) and _SNIFF_AUTHOR_RE.search(head))

    def parse(self, stream: BinaryIO, origin: str) -> Iterator[Record | ParseError]:
        """Yield one record per paper; a break in the JSON ends the file with a ParseError."""
        data = stream.read()
        check_readable(data[:HEAD_BYTES], origin)
        # Bytes that are not UTF-8 past the checked head are carried as lone
        # surrogates (PEP 383), so the JSON around them still parses and only
        # the record that holds one is refused.
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "surrogateescape")
        observed_at = self._observed_at or datetime.now(UTC)
        yield from _Walker(text, origin, observed_at).walk()


# A walking step yields records and errors, then returns the position after
# the value it read, or -1 when the JSON broke and walking must stop.
_Steps = Generator[Record | ParseError, None, int]


class _Walker:
    """Walk the top-level JSON values of a document, item by item."""

    def __init__(self, text: str, origin: str, observed_at: datetime) -> None:
        self.text = text
        self.origin = origin
        self.observed_at = observed_at
        self.count = 0

    def walk(self) -> Iterator[Record | ParseError]:
        text = self.text
        pos = _skip_ws(text, 0)
        if pos == len(text):
            yield ParseError(self.origin, "line 1", "no JSON value in the file")
            return
        # Concatenated values (an array per day, or one item per line) are walked in turn.
        while pos < len(text):
            if text[pos] == "[":
                pos = yield from self._array(pos)
            else:
                pos = yield from self._value(pos)
            if pos < 0:
                return
            pos = _skip_ws(text, pos)

    def _array(self, pos: int) -> _Steps:
        text = self.text
        pos = _skip_ws(text, pos + 1)
        if pos < len(text) and text[pos] == "]":
            return pos + 1
        while True:
            pos = yield from self._value(pos)
            if pos < 0:
                return -1
            pos = _skip_ws(text, pos)
            if pos >= len(text):
                yield self._break(pos, "the array is not closed (file truncated?)")
                return -1
            if text[pos] == "]":
                return pos + 1
            if text[pos] != ",":
                yield self._break(pos, f"expected ',' or ']' after an item, found {text[pos]!r}")
                return -1
            pos = _skip_ws(text, pos + 1)

    def _value(self, pos: int) -> _Steps:
        self.count += 1
        try:
            value, end = _DECODER.raw_decode(self.text, pos)
        except json.JSONDecodeError as exc:
            yield self._break(exc.pos, exc.msg)
            return -1
        except (ValueError, RecursionError) as exc:
            # Too-long integers and too-deep nesting raise these, without a position.
            yield self._break(pos, f"unusable JSON value: {exc}")
            return -1
        location = f"record {self.count}"
        bad = _BAD_BYTE_RE.search(self.text, pos, end)
        if bad:
            line, column = self._line_column(bad.start())
            yield ParseError(
                self.origin,
                location,
                f"not UTF-8: invalid byte 0x{ord(bad.group(0)) - 0xDC00:02x} at line {line} "
                f"column {column}",
            )
        else:
            yield _item_to_record(value, self.origin, location, self.observed_at)
        return end

    def _line_column(self, pos: int) -> tuple[int, int]:
        line = self.text.count("\n", 0, pos) + 1
        return line, pos - (self.text.rfind("\n", 0, pos) + 1) + 1

    def _break(self, pos: int, msg: str) -> ParseError:
        line, column = self._line_column(pos)
        if _BAD_BYTE_RE.match(self.text, pos):
            msg = f"invalid byte 0x{ord(self.text[pos]) - 0xDC00:02x}, not UTF-8"
        done = self.count - 1
        return ParseError(
            self.origin,
            f"line {line} column {column}",
            f"JSON breaks inside record {self.count} ({msg}); "
            f"the {done} complete record{'s' if done != 1 else ''} before it "
            f"{'were' if done != 1 else 'was'} read, nothing after it",
        )


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def _item_to_record(
    value: Any, origin: str, location: str, observed_at: datetime
) -> Record | ParseError:
    """Turn one daily item (``{paper: ...}``) or bare paper object into a record."""
    if not isinstance(value, dict):
        return ParseError(origin, location, f"expected a JSON object, found {_kind(value)}")
    if "paper" in value:
        item, paper = value, value["paper"]
        if not isinstance(paper, dict):
            return ParseError(origin, location, f"'paper' is {_kind(paper)}, not an object")
    elif "id" in value:
        item, paper = {}, value
    elif "error" in value:
        return ParseError(origin, location, f"API error response: {_text(value['error'])}")
    else:
        return ParseError(origin, location, "object has neither 'paper' nor 'id'")

    hf_id = _text(paper.get("id"))
    if not hf_id:
        return ParseError(origin, location, "paper has no 'id' string")

    parsed = parse_arxiv_id(hf_id)
    title = _text(paper.get("title")) or _text(item.get("title"))
    abstract = _text(paper.get("summary")) or _text(item.get("summary"))
    links = _links(paper, abstract)

    signals: list[Observation] = []
    for kind, raw in (
        ("upvotes", paper.get("upvotes")),
        ("comments", item.get("numComments", paper.get("numComments"))),
        ("github_stars", paper.get("githubStars")),
    ):
        number = _number(raw)
        if number is not None:
            signals.append(Observation(kind, number, NAME, observed_at))

    extra: dict[str, Any] = {"hf_id": hf_id}
    keywords = paper.get("ai_keywords")
    if isinstance(keywords, list):
        extra["ai_keywords"] = [k for k in (_text(k) for k in keywords) if k]
    for key, src in (("ai_summary", "ai_summary"), ("discussion_id", "discussionId")):
        val = _text(paper.get(src))
        if val:
            extra[key] = val
    organisations, handles = _organisations(paper, item)
    if handles:
        extra["hf_organizations"] = handles

    return Record(
        source=NAME,
        source_key=hf_id,
        origin=origin,
        location=location,
        arxiv_id=parsed[0] if parsed else None,
        version=parsed[1] if parsed else None,
        title=clean_whitespace(title) if title else None,
        abstract=clean_whitespace(abstract) if abstract else None,
        authors=_authors(paper.get("authors")),
        organisations=organisations,
        published=_date(paper.get("publishedAt")),
        featured=_featured(paper, item),
        links=links,
        signals=signals,
        extra=extra,
        observed_at=observed_at,
    )


def _featured(paper: dict[str, Any], item: dict[str, Any]) -> date | None:
    """The day HF featured the paper: ``paper.submittedOnDailyAt``.

    The 2024 schema has no ``submittedOnDailyAt``; there the item's own
    ``publishedAt`` is the moment it was put on the daily list (it falls on the
    list's date, hours after the arXiv ``paper.publishedAt``). From 2025 on the
    item ``publishedAt`` is only the arXiv date shifted to US Eastern time, so
    the fallback is used only when the paper predates ``submittedOnDailyAt``.
    """
    if "submittedOnDailyAt" in paper:
        return _date(paper.get("submittedOnDailyAt"))
    return _date(item.get("publishedAt"))


def _authors(raw: Any) -> list[str]:
    """Author names in order. Hidden authors are hidden on the HF page, not anonymous."""
    if not isinstance(raw, list):
        return []
    names = []
    for author in raw:
        name = _text(author.get("name")) if isinstance(author, dict) else _text(author)
        if name and (name := clean_whitespace(name)):
            names.append(name)
    return names


def _organisations(paper: dict[str, Any], item: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Display names (``fullname``) and HF handles (``name``) of the organisation objects."""
    names: list[str] = []
    handles: list[str] = []
    for holder in (paper, item):
        org = holder.get("organization")
        if not isinstance(org, dict):
            continue
        handle = _text(org.get("name"))
        display = _text(org.get("fullname")) or handle
        if display and (display := clean_whitespace(display)) not in names:
            names.append(display)
        if handle and handle not in handles:
            handles.append(handle)
    return names, handles


def _links(paper: dict[str, Any], abstract: str | None) -> list[str]:
    """Code and project links, then URLs written in the abstract, without duplicates.

    Abstracts repeat the project page, sometimes as ``http://`` or without the
    trailing slash, so duplicates are found ignoring the scheme and a final ``/``.
    """
    found: list[str] = []
    for key in ("githubRepo", "projectPage"):
        url = _text(paper.get(key))
        if url and url.strip():
            found.append(url.strip())
    if abstract:
        for m in _URL_RE.finditer(abstract):
            url = m.group(0).rstrip(_URL_TRAIL)
            if url.count("(") < url.count(")"):
                url = url.rstrip(")")
            if len(url) > len("https://"):
                found.append(url)
    links: list[str] = []
    seen: set[str] = set()
    for url in found:
        key = url.split("://", 1)[-1].rstrip("/")
        if key not in seen:
            seen.add(key)
            links.append(url)
    return links


def _date(raw: Any) -> date | None:
    """The UTC calendar date of an ISO timestamp such as ``2025-04-09T01:51:00.484Z``."""
    text = _text(raw)
    if not text or not _DATE_RE.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def _number(raw: Any) -> float | None:
    """A finite count, or None: JSON allows NaN, huge integers and booleans, none of them counts."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    try:
        value = float(raw)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def _text(raw: Any) -> str | None:
    """A JSON string as text; lone surrogates (legal ``\\ud800`` escapes) become U+FFFD."""
    if not isinstance(raw, str):
        return None
    return _SURROGATE_RE.sub("\ufffd", raw)


def _kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
    }.get(type(value), "a number")
