"""Sources: detect an input's format and parse it into records.

A parser takes bytes, never a URL (``fetch.py`` turns URLs into bytes), so
every parser is tested on recorded real responses and the live path runs the
same code. A parser never raises for one bad record: it yields a
``ParseError`` and carries on. It raises ``UnreadableInput`` only when the
whole input is unusable.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import BinaryIO, ClassVar, Protocol

from paperlens.errors import UnknownFormat, UnreadableInput
from paperlens.model import ParseError, Record

HEAD_BYTES = 64 * 1024


class Source(Protocol):
    """One input format."""

    name: ClassVar[str]
    """The ``--format`` value, e.g. ``arxiv-atom``."""

    def sniff(self, head: bytes, filename: str) -> bool:
        """True when ``head`` (the first 64 KiB, maybe decompressed) is this format."""
        ...

    def parse(self, stream: BinaryIO, origin: str) -> Iterator[Record | ParseError]:
        """Yield a record or a parse error for every entry in the input."""
        ...


# Detection order matters: the most specific formats first, the free-text
# listing format last because it accepts almost any prose.
_MODULES: tuple[tuple[str, str, str], ...] = (
    ("arxiv-atom", "paperlens.sources.arxiv_atom", "ArxivAtom"),
    ("arxiv-oai", "paperlens.sources.arxiv_oai", "ArxivOai"),
    ("hf-daily", "paperlens.sources.hf_daily", "HfDaily"),
    ("beir", "paperlens.sources.beir", "Beir"),
    ("arxiv-jsonl", "paperlens.sources.arxiv_jsonl", "ArxivJsonl"),
    ("bibtex", "paperlens.sources.bibtex", "Bibtex"),
    ("listing", "paperlens.sources.listing", "Listing"),
)
FORMATS: tuple[str, ...] = tuple(name for name, _, _ in _MODULES)


def get_source(name: str) -> Source:
    """The source for a ``--format`` value."""
    for fmt, module, cls in _MODULES:
        if fmt == name:
            return getattr(importlib.import_module(module), cls)()  # type: ignore[no-any-return]
    raise UnknownFormat(f"unknown format {name!r}; choose one of: {', '.join(FORMATS)}")


def check_readable(head: bytes, origin: str) -> None:
    """Refuse inputs no parser can use, with a message naming the file."""
    if not head.strip():
        raise UnreadableInput(f"{origin}: empty file")
    if b"\x00" in head[:8192]:
        raise UnreadableInput(f"{origin}: binary file (contains NUL bytes), not a text format")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character may be cut where a full-size head ends; that
        # is the only error forgiven.
        cut_short = len(head) >= HEAD_BYTES and exc.reason == "unexpected end of data"
        if not cut_short:
            raise UnreadableInput(
                f"{origin}: not UTF-8 (invalid byte 0x{head[exc.start]:02x} at offset {exc.start})"
            ) from None


def detect(head: bytes, filename: str) -> Source:
    """The source whose ``sniff`` accepts ``head``; ``UnknownFormat`` lists those tried."""
    check_readable(head, filename)
    for fmt in FORMATS:
        source = get_source(fmt)
        if source.sniff(head, filename):
            return source
    raise UnknownFormat(f"{filename}: format not recognised (tried {', '.join(FORMATS)})")


__all__ = ["FORMATS", "HEAD_BYTES", "ParseError", "Record", "Source", "detect", "get_source"]


def iter_records(source: Source, stream: BinaryIO, origin: str) -> Iterator[Record | ParseError]:
    """Parse with ``source``; a convenience for tests and callers that need no batching."""
    yield from source.parse(stream, origin)
