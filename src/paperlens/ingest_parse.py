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

The child also remembers lines: each raw line is hashed (keyed with the
parser's source code) and remembered by its place (the input's path and line
number); a line whose digest matches the one remembered there, and whose
record is still stored, is not decoded at all. It crosses as
``Known(content_hash)``, which the writer counts as unchanged after checking
the hash once more. That makes re-ingesting an unchanged file cost a read and
a hash per line.
"""

from __future__ import annotations

import gc
import hashlib
import importlib
import itertools
import multiprocessing
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from paperlens.merge.match import record_keys
from paperlens.model import ParseError, Record
from paperlens.sources import Source, get_source
from paperlens.store import open_store
from paperlens.text import stored_keys

CHUNK = 500
"""Items per message from the child: big enough to amortise a pipe round."""
AHEAD = 8
"""Chunks the child may run ahead of the writer: two default batches, ~20 MB."""


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
    line: tuple[int, int, bytes] | None = None
    """Where it came from and what that line was, for a bulk source read in the child:
    ``(file_key(origin), line number, line digest)``."""


class Known(NamedTuple):
    """A line whose record was stored by an earlier ingest: only its content hash."""

    digest: str


Chunk = tuple[list[Prepared | Known | ParseError], int]
"""Items in input order, and how many bytes of the file were read so far."""


def prepare(record: Record, line: tuple[int, int, bytes] | None = None) -> Prepared:
    text, digest = record.serialise()
    keys = record_keys(record)  # folds title and abstract: stored_keys reads its caches
    return Prepared(record, text, digest, keys, stored_keys(record.title, record.abstract), line)


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


def parse_in_child(
    path: Path, source: Source, origin: str, skip: int, *, db: Path | None
) -> Iterator[Chunk]:
    """Like ``parse_inline`` on ``path``, with the parsing done by a child process.

    With ``db``, lines whose records that store holds come back as ``Known``.
    A thread receives up to ``AHEAD`` chunks ahead of the writer: with only the
    pipe between them, the child stalled while the writer committed a batch
    and the writer stalled while the child parsed the next one (each process
    was idle a third of the time). An error the child meets (an unreadable
    file) is raised here. Closing the generator early (the writer failed)
    stops the child.
    """
    ctx = multiprocessing.get_context("spawn")  # no fork: this process holds threads
    receiver, sender = ctx.Pipe(duplex=False)
    args = (str(path), source.name, origin, skip, str(db) if db else None, sender)
    child = ctx.Process(target=_child, args=args, daemon=True)
    child.start()
    sender.close()
    ahead: queue.Queue[Any] = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()
    pump = threading.Thread(target=_pump, args=(receiver, ahead, stop), daemon=True)
    pump.start()
    try:
        while (message := ahead.get()) is not None:
            if isinstance(message, BaseException):
                raise message
            yield message
    finally:
        stop.set()
        child.join(timeout=5)
        if child.is_alive():
            child.terminate()
            child.join()
        pump.join()


def _pump(receiver: Any, ahead: queue.Queue[Any], stop: threading.Event) -> None:
    """Move messages from the child's pipe to ``ahead`` until the last one (or ``stop``)."""
    try:
        while True:
            try:
                message = receiver.recv()
            except (EOFError, OSError):
                message = EOFError("the parse process ended before the end of the input")
            while True:
                try:
                    ahead.put(message, timeout=0.1)
                    break
                except queue.Full:
                    if stop.is_set():
                        return
            if message is None or isinstance(message, BaseException):
                return
    finally:
        receiver.close()


def _child(
    path: str, source_name: str, origin: str, skip: int, db: str | None, sender: Any
) -> None:
    # Nothing this process allocates lives long: a higher gen-0 threshold spares
    # thousands of collections that would find no garbage.
    gc.set_threshold(50_000, 50, 100)
    store = open_store(db) if db else None
    try:
        source = get_source(source_name)
        with open(path, "rb") as stream:
            for items in _line_chunks(source, stream, origin, skip, store):
                sender.send((items, stream.tell()))
        sender.send(None)
    except BrokenPipeError:  # the parent stopped reading: nothing left to do
        return
    except Exception as exc:  # handed to the parent, which raises it
        sender.send(exc)
    finally:
        sender.close()
        if store is not None:
            store.close()


def _line_chunks(
    source: Any, stream: BinaryIO, origin: str, skip: int, store: Any
) -> Iterator[list[Prepared | Known | ParseError]]:
    """Chunks of items for a bulk source: known lines as ``Known``, the rest parsed."""
    lines = source.lines(stream, origin)
    for _ in itertools.islice(lines, skip):
        pass
    key = line_key(source)
    file = file_key(origin)
    while block := list(itertools.islice(lines, CHUNK)):
        digests = {
            item[0]: _digest(item[1], key) for item in block if not isinstance(item, ParseError)
        }
        known = store.known_lines(file, list(digests.items())) if store else {}
        items: list[Prepared | Known | ParseError] = []
        for item in block:
            if isinstance(item, ParseError):
                items.append(item)
            elif content_hash := known.get(item[0]):
                items.append(Known(content_hash))
            else:
                record = source.parse_line(*item, origin)
                line = (file, item[0], digests[item[0]])
                items.append(record if isinstance(record, ParseError) else prepare(record, line))
        yield items


def _digest(line: bytes, key: bytes) -> bytes:
    return hashlib.blake2b(line, key=key, digest_size=16).digest()


def file_key(origin: str) -> int:
    """An input's path as a signed 64-bit integer: the first column of remembered lines."""
    return int.from_bytes(hashlib.blake2b(origin.encode(), digest_size=8).digest(), signed=True)


def line_key(source: Any) -> bytes:
    """The key for line digests: a hash of the code that turns a line into a record."""
    code = hashlib.blake2b(digest_size=32)
    for name in source.line_code:
        module = importlib.import_module(name)
        code.update(Path(module.__file__ or name).read_bytes())
    return code.digest()
