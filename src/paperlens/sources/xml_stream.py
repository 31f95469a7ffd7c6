"""Stream the records out of an XML document, one element at a time.

The arXiv Atom and OAI-PMH parsers share one need: walk a document that may be
large, may be cut off mid-download, and comes from the network, and hand over
each complete record element as soon as its end tag is read. This module does
that with the standard library's expat-backed ``XMLParser`` fed in chunks and
a small target that builds only the subtree being read.

Why not ``iterparse`` or ``XMLPullParser`` as is: neither reports a document
type declaration, and a DTD is how entity-expansion attacks (billion laughs,
external entities) get in. A parser target with a ``doctype`` method is told
about ``<!DOCTYPE`` before the internal subset is read, so the document is
refused before any entity is declared. The chunk before the root element is
also scanned for ``<!DOCTYPE``/``<!ENTITY``, so a DTD is refused even before
expat sees it. arXiv never sends a DTD, so refusing one costs nothing real.

Why not ``feedparser`` (the project's Atom library): it reads the whole
document, falls back to a lenient parser that silently keeps half of a cut
entry, and cannot say at which line and column a document broke.

Memory stays flat: each yielded element is detached from its parent once the
caller resumes, so a 10,000-record OAI page never lives in memory at once.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError, TreeBuilder, XMLParser

logger = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024


class XmlRefused(Exception):
    """The document declares a DTD or entities, which paperlens never expands."""


class XmlBroken(Exception):
    """The document stops being well-formed at ``line``/``column`` (both 1-based)."""

    def __init__(self, reason: str, line: int, column: int) -> None:
        super().__init__(f"{reason} at line {line}, column {column}")
        self.reason = reason
        self.line = line
        self.column = column


def local_name(tag: str) -> str:
    """``{http://www.w3.org/2005/Atom}entry`` → ``entry``.

    The parsers match on local names: the classic arXiv feed declares the
    ``arxiv:`` namespace on every element and the 2026 one once on the feed, and
    matching by local name keeps both (and any http/https drift in a namespace
    URI) on one code path.
    """
    return tag.rpartition("}")[2]


def child(element: Element, name: str) -> Element | None:
    """The first child of ``element`` whose local name is ``name``."""
    for sub in element:
        if local_name(sub.tag) == name:
            return sub
    return None


def children(element: Element, name: str) -> list[Element]:
    """All children of ``element`` whose local name is ``name``, in document order."""
    return [sub for sub in element if local_name(sub.tag) == name]


def child_text(element: Element, name: str) -> str | None:
    """The text of the first ``name`` child (all of it, nested text included), or None."""
    sub = child(element, name)
    if sub is None:
        return None
    return "".join(sub.itertext())


class _Target:
    """Builds elements like ``TreeBuilder`` and queues the ones asked for.

    ``paths`` are local-name paths below the root (``"entry"``,
    ``"ListRecords/record"``); an element whose path matches is queued when its
    end tag is read, with its parent so it can be detached later.
    """

    def __init__(self, paths: Collection[str]) -> None:
        self._builder = TreeBuilder()
        self._paths = paths
        self._names: list[str] = []
        self._stack: list[Element] = []
        self.root: Element | None = None
        self.ready: list[tuple[str, Element, Element | None]] = []

    def start(self, tag: str, attrib: dict[str, str]) -> Element:
        element = self._builder.start(tag, attrib)
        if self.root is None:
            self.root = element
        else:
            self._names.append(local_name(tag))
        self._stack.append(element)
        return element

    def end(self, tag: str) -> Element:
        element = self._builder.end(tag)
        self._stack.pop()
        if self._names:
            path = "/".join(self._names)
            if path in self._paths:
                parent = self._stack[-1] if self._stack else None
                self.ready.append((path, element, parent))
            self._names.pop()
        return element

    def data(self, text: str) -> None:
        self._builder.data(text)

    def close(self) -> Element:
        return self._builder.close()

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise XmlRefused(f"document declares a DTD (<!DOCTYPE {name}>); DTDs are not accepted")


def iter_elements(
    stream: BinaryIO, paths: Collection[str], *, first_chunk: bytes = b""
) -> Iterator[tuple[str, Element]]:
    """Yield ``(path, element)`` for every complete element at one of ``paths``.

    The first item is always ``("", root)`` once the root start tag is read, so
    a caller can refuse a document of the wrong kind before reading it all.
    ``first_chunk`` is data the caller already read from ``stream``.

    Raises ``XmlBroken`` where the document stops being well-formed (after
    yielding every element completed before that point) and ``XmlRefused`` for
    a DTD. The element's children are complete; its own siblings are not.
    """
    target = _Target(paths)
    parser = XMLParser(target=target)
    root_sent = False
    chunk = first_chunk or stream.read(CHUNK_BYTES)
    while True:
        if target.root is None and (b"<!DOCTYPE" in chunk or b"<!ENTITY" in chunk):
            raise XmlRefused("document declares a DTD or entities; DTDs are not accepted")
        broken: XmlBroken | None = None
        try:
            if chunk:
                parser.feed(chunk)
            else:
                parser.close()
        except ParseError as exc:
            line, column = exc.position
            reason = str(exc).rsplit(": line ", 1)[0]
            broken = XmlBroken(reason, line, column + 1)
        except LookupError as exc:
            # An unknown encoding in the XML declaration, which is on line 1.
            broken = XmlBroken(str(exc), 1, 1)
        if target.root is not None and not root_sent:
            root_sent = True
            yield "", target.root
        ready, target.ready = target.ready, []
        for path, element, parent in ready:
            yield path, element
            if parent is not None:
                parent.remove(element)
        if broken is not None:
            raise broken
        if not chunk:
            return
        chunk = stream.read(CHUNK_BYTES)
