"""Parsing for ingest, in this process or in a second one.

Most of ingest's Python time goes into turning input into records: JSON
decoding, field clean-up, serialisation and match keys. None of that needs the
store, so for bulk line formats (a source with ``bulk = True``) it runs in a
child process that streams prepared records back in chunks: the child parses
the next chunk on one core while this process merges and writes the last one.
Everything that depends on the store (hash look-ups, matching, folding,
writing) stays here, so the result is the same as parsing in-process.

Records cross the pipe as their constructor arguments (``Record.__reduce__``),
together with their serialised form, content hash and match keys, so the
parent repeats none of that work.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from paperlens.merge.match import record_keys
from paperlens.model import ParseError, Record
from paperlens.sources import Source, get_source
from paperlens.text import abstract_key

CHUNK = 500
"""Items per message from the child: big enough to amortise a pipe round, small
enough that the child never runs far ahead of the writer (memory stays flat)."""


class Prepared(NamedTuple):
    """A parsed record with everything ingest derives from it before touching the store."""

    record: Record
    text: str
    """The stored JSON (``Record.serialise``)."""
    digest: str
    """The content hash that makes re-ingest skip unchanged records."""
    keys: dict[str, str]
    """The match keys (``merge.match.record_keys``)."""
    paper_keys: tuple[str | None, str | None]
    """Title and abstract keys of a paper with this record as its only source (the store
    indexes them; computing them again in the writer would fold the abstract twice)."""


Chunk = tuple[list[Prepared | ParseError], int]
"""Prepared items in input order, and how many bytes of the file were read so far."""


def prepare(record: Record) -> Prepared:
    text, digest = record.serialise()
    keys = record_keys(record)
    abstract = abstract_key(record.abstract) or None if record.abstract else None
    return Prepared(record, text, digest, keys, (keys.get("title"), abstract))


def parse_inline(source: Source, stream: BinaryIO, origin: str, skip: int) -> Iterator[Chunk]:
    """Parse ``stream`` here, dropping the first ``skip`` items (already committed)."""
    items = source.parse(stream, origin)
    for _ in itertools.islice(items, skip):
        pass
    chunk: list[Prepared | ParseError] = []
    for item in items:
        chunk.append(item if isinstance(item, ParseError) else prepare(item))
        if len(chunk) >= CHUNK:
            yield chunk, stream.tell()
            chunk = []
    yield chunk, stream.tell()


def parse_in_child(path: Path, source: Source, origin: str, skip: int) -> Iterator[Chunk]:
    """Like ``parse_inline`` on ``path``, with the parsing done by a child process.

    An error the child meets (an unreadable file) is raised here. Closing the
    generator early (the writer failed) stops the child.
    """
    ctx = multiprocessing.get_context("spawn")  # no fork: this process holds threads
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=_child, args=(str(path), source.name, origin, skip, sender), daemon=True
    )
    child.start()
    sender.close()
    try:
        while (message := receiver.recv()) is not None:
            if isinstance(message, BaseException):
                raise message
            yield message
    finally:
        receiver.close()
        child.join(timeout=5)
        if child.is_alive():
            child.terminate()
            child.join()


def _child(path: str, source_name: str, origin: str, skip: int, sender: Any) -> None:
    # Nothing this process allocates lives long: a higher gen-0 threshold spares
    # thousands of collections that would find no garbage.
    gc.set_threshold(50_000, 50, 100)
    try:
        with open(path, "rb") as stream:
            for chunk in parse_inline(get_source(source_name), stream, origin, skip):
                sender.send(chunk)
        sender.send(None)
    except BrokenPipeError:  # the parent stopped reading: nothing left to do
        return
    except Exception as exc:  # handed to the parent, which raises it
        sender.send(exc)
    finally:
        sender.close()
