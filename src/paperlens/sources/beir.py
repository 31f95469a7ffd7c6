"""BEIR corpus files: ``corpus.jsonl`` with one ``{"_id", "title", "text", "metadata"}`` per line.

BEIR (the IR benchmark suite: SciFact, NFCorpus, TREC-COVID, ...) ships every
corpus in this shape. The documents are abstracts without authors or dates,
so a record carries only the title, the abstract (``text``) and the BEIR id;
``metadata`` is kept as given in ``extra`` (it is ``{}`` in SciFact, and holds
``url``/``pubmed_id`` in some other corpora). The file is read line by line,
so a multi-GB corpus streams in constant memory, and one bad line costs only
that line.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar

from paperlens.ids import normalise_doi
from paperlens.model import ParseError, Record
from paperlens.sources import HEAD_BYTES, check_readable
from paperlens.text import clean_whitespace

logger = logging.getLogger(__name__)

NAME = "beir"

_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_FIRST_KEY_RE = re.compile(rb'^\s*\{\s*"_id"\s*:')
# Keys that mark an arXiv/Kaggle JSONL line or a paper API object rather than a BEIR document.
_PAPER_KEYS = frozenset({"abstract", "authors", "paper", "id", "submitter", "paperId"})


class Beir:
    """Parser for BEIR ``corpus.jsonl`` files."""

    name: ClassVar[str] = NAME

    def sniff(self, head: bytes, filename: str) -> bool:
        """The first line is an object with ``_id``, ``title`` and ``text`` and no paper keys.

        ``title`` is required because BEIR's ``queries.jsonl`` has the same
        ``_id``/``text``/``metadata`` shape without it, and queries are not papers.
        """
        body = head.removeprefix(b"\xef\xbb\xbf").lstrip()
        first = body.split(b"\n", 1)[0]
        if not _FIRST_KEY_RE.match(first):
            return False
        try:
            doc = json.loads(first)
        except (ValueError, RecursionError):
            # A first line longer than the head is cut; fall back to the keys seen so far.
            return b'"text"' in first and b'"title"' in first and b'"abstract"' not in first
        return (
            isinstance(doc, dict)
            and "_id" in doc
            and "text" in doc
            and "title" in doc
            and not _PAPER_KEYS & doc.keys()
        )

    def parse(self, stream: BinaryIO, origin: str) -> Iterator[Record | ParseError]:
        """Yield one record per non-blank line; a line that is not a document is a ParseError."""
        head = stream.read(HEAD_BYTES)
        check_readable(head, origin)
        for number, raw in enumerate(_lines(head, stream), start=1):
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if not raw.strip():
                continue
            yield _line_to_record(raw, origin, f"line {number}")


def _lines(head: bytes, stream: BinaryIO) -> Iterator[bytes]:
    """The lines of ``head`` followed by the rest of ``stream``, each line whole."""
    lines = head.splitlines(keepends=True)
    if lines and not lines[-1].endswith((b"\n", b"\r")):
        lines[-1] += stream.readline()
    yield from lines
    yield from stream


def _line_to_record(raw: bytes, origin: str, location: str) -> Record | ParseError:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return ParseError(
            origin,
            location,
            f"not UTF-8 (invalid byte 0x{raw[exc.start]:02x} at column {exc.start + 1})",
        )
    try:
        doc = json.loads(text.rstrip("\r\n"))
    except json.JSONDecodeError as exc:
        return ParseError(origin, location, f"not JSON ({exc.msg}, column {exc.colno})")
    except (ValueError, RecursionError) as exc:
        # int() digit limits and deep nesting raise these instead of JSONDecodeError.
        return ParseError(origin, location, f"not usable JSON: {exc}")
    if not isinstance(doc, dict):
        return ParseError(origin, location, "expected a JSON object")
    beir_id = doc.get("_id")
    if isinstance(beir_id, int) and not isinstance(beir_id, bool):
        beir_id = str(beir_id)
    if not isinstance(beir_id, str) or not beir_id.strip():
        return ParseError(origin, location, "no '_id' string")
    beir_id = _clean(beir_id).strip()
    title = doc.get("title")
    body = doc.get("text")
    if title is not None and not isinstance(title, str):
        return ParseError(origin, location, f"'title' of {beir_id} is not a string")
    if body is not None and not isinstance(body, str):
        return ParseError(origin, location, f"'text' of {beir_id} is not a string")

    extra: dict[str, Any] = {"beir_id": beir_id}
    metadata = doc.get("metadata")
    links: list[str] = []
    doi = None
    if isinstance(metadata, dict) and metadata:
        extra["beir_metadata"] = _json_safe(metadata)
        url = metadata.get("url")
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            links.append(_clean(url.strip()))
        if isinstance(metadata.get("doi"), str):
            doi = normalise_doi(_clean(metadata["doi"]))

    return Record(
        source=NAME,
        source_key=beir_id,
        origin=origin,
        location=location,
        doi=doi,
        title=_text(title),
        abstract=_text(body),
        links=links,
        extra=extra,
    )


def _text(value: str | None) -> str | None:
    """Whitespace-cleaned text, or None when there is none."""
    return clean_whitespace(_clean(value)) or None if value else None


def _clean(text: str) -> str:
    """Replace lone surrogates (legal as ``\\ud800`` escapes in JSON, not encodable) with U+FFFD."""
    return _SURROGATE_RE.sub("\ufffd", text)


def _json_safe(value: Any) -> Any:
    """A copy of parsed JSON that re-encodes: no lone surrogates, no NaN or infinities."""
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, dict):
        return {_clean(str(k)): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
