"""The ingest pipeline: detect → parse → merge → store, one transaction per batch.

Each batch commits together with a checkpoint (records consumed from that
input), so a killed ingest resumes after the last committed batch, and a
record whose content hash is already stored is counted unchanged and skipped
before any merge work, which makes re-running an ingest a no-op. Bulk formats
are parsed in a second process (``ingest_parse``); the merge itself is
``merge.batch``.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paperlens.errors import PaperlensError
from paperlens.ingest_parse import Chunk, Known, Prepared, parse_in_child, parse_inline, prepare
from paperlens.merge.batch import KnownLineGone, apply_prepared
from paperlens.model import Paper, ParseError, Record
from paperlens.sources import HEAD_BYTES, Source, check_readable, detect, get_source
from paperlens.store import Store

ProgressFn = Callable[[int, int, int], None]
"""``on_progress(bytes_done, bytes_total, records_done)``."""

_FINGERPRINT_BYTES = 1 << 20
_SKIP_NAMES = ("README", "readme", ".")


@dataclass(slots=True)
class IngestReport:
    """What an ingest did, for the summary table and ``--json``."""

    files: int = 0
    records: int = 0
    new: int = 0
    merged: int = 0
    updated: int = 0
    unchanged: int = 0
    signals: int = 0
    resumed: int = 0
    rejected: list[ParseError] = field(default_factory=list)
    failed_files: list[str] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.failed_files

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "records": self.records,
            "new": self.new,
            "merged": self.merged,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "signals": self.signals,
            "resumed_after": self.resumed,
            "rejected": [
                {"origin": e.origin, "location": e.location, "reason": e.reason}
                for e in self.rejected
            ],
            "failed_files": self.failed_files,
            "formats": self.formats,
            "seconds": round(self.seconds, 3),
            "records_per_second": round(self.records / self.seconds, 1) if self.seconds else None,
        }


def expand_inputs(paths: Sequence[Path]) -> list[Path]:
    """Files named directly, plus the files inside named directories (sorted).

    Inside a directory, README files and hidden files are skipped: they
    describe the data, they are not data.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and not p.name.startswith(_SKIP_NAMES)
            )
        else:
            files.append(path)
    return files


def fingerprint(path: Path) -> str:
    """Size plus a hash of the first MiB: cheap, and stable for a file that has not changed."""
    with path.open("rb") as f:
        head = f.read(_FINGERPRINT_BYTES)
    return f"{path.stat().st_size}:{hashlib.sha256(head).hexdigest()[:32]}"


def sniff_source(f: Any, origin: str, fmt: str) -> Source:
    """The source for an open binary file; ``fmt`` is a format name or ``auto``."""
    head = f.read(HEAD_BYTES)
    f.seek(0)
    if head[:2] == b"\x1f\x8b":
        head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, HEAD_BYTES)
    check_readable(head, origin)
    return get_source(fmt) if fmt != "auto" else detect(head, origin)


ChangedFn = Callable[[list[tuple[int, int, Paper]]], None]
"""``on_batch(changed)``: the ``(key, seq, paper)`` a committed batch wrote."""

PARALLEL_MIN_BYTES = 8 << 20
"""Smaller bulk files parse in-process: starting the parse process costs ~0.3 s."""


def ingest(
    store: Store,
    paths: Sequence[Path],
    *,
    fmt: str = "auto",
    batch_size: int = 2000,
    on_progress: ProgressFn | None = None,
    on_batch: ChangedFn | None = None,
    parallel: bool | None = None,
) -> IngestReport:
    """Ingest files into ``store``; per-file problems are reported, never raised.

    ``on_batch`` runs after each committed batch with the papers it wrote (the
    CLI feeds the keyword index there, so indexing overlaps with parsing).
    ``parallel`` parses bulk formats in a second process; None decides by
    format and file size, True forces it for any bulk format (tests).
    """
    with _BatchCollections() as collections, store.bulk_writes():
        return _ingest(store, paths, fmt, batch_size, on_progress, on_batch, parallel,
                       collections)  # fmt: skip


class _BatchCollections:
    """The cyclic garbage collector, run every ``EVERY`` batches instead of by allocation count.

    Ingest allocates millions of short-lived objects that reference counting
    frees; the collector, triggered by allocation counts, ran thousands of
    times, found nothing (a 10k-record ingest leaves no cycles) and re-walked
    every batch still alive each time: 11 % of the writer thread at a gen-0
    threshold of 50,000, and 14 % at the default. Collecting the young
    generations between batches still frees any cycles a source does make
    (parsers of XML or BibTeX might) before they add up.
    """

    EVERY = 25

    def __init__(self) -> None:
        self.batches = 0
        self.was_enabled = gc.isenabled()

    def __enter__(self) -> _BatchCollections:
        gc.disable()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.was_enabled:
            gc.enable()

    def batch_done(self) -> None:
        self.batches += 1
        if self.batches % self.EVERY == 0:
            gc.collect(1)


def _ingest(
    store: Store,
    paths: Sequence[Path],
    fmt: str,
    batch_size: int,
    on_progress: ProgressFn | None,
    on_batch: ChangedFn | None,
    parallel: bool | None,
    collections: _BatchCollections,
) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport()
    files = expand_inputs(paths)
    total = sum(p.stat().st_size for p in files if p.is_file())
    done_before = 0
    for path in files:
        origin = str(path)
        try:
            size = path.stat().st_size
            with path.open("rb") as f:
                source = sniff_source(f, origin, fmt)
                report.formats[origin] = source.name
                report.files += 1
                in_child = getattr(source, "bulk", False) and (
                    parallel if parallel is not None else size >= PARALLEL_MIN_BYTES
                )

                checkpoint = f"ingest:{source.name}:{fingerprint(path)}"
                skip = _resume_point(store, checkpoint)
                report.resumed += skip

                def chunks(
                    skip: int,
                    known: bool,
                    f: Any = f,
                    source: Source = source,
                    path: Path = path,
                    in_child: bool = in_child,
                ) -> Iterator[Chunk]:
                    if in_child:
                        # Known lines are looked up only if an earlier ingest left any.
                        db = store.path if known and store.remembers_lines() else None
                        return parse_in_child(path, source, str(path), skip, db=db)
                    return parse_inline(source, f, str(path), skip)

                def progress(done: int, base: int = done_before) -> None:
                    collections.batch_done()  # called once per committed batch
                    if on_progress:
                        on_progress(base + done, total, report.records)

                _ingest_stream(store, checkpoint, skip, chunks, batch_size, report, progress,
                               on_batch)  # fmt: skip
        except (OSError, PaperlensError) as exc:
            message = str(exc) if isinstance(exc, PaperlensError) else f"{origin}: {exc.strerror}"
            report.failed_files.append(message)
            size = path.stat().st_size if path.exists() else 0
        done_before += size
        if on_progress:
            on_progress(done_before, total, report.records)
    report.seconds = time.perf_counter() - started
    return report


def _resume_point(store: Store, checkpoint_name: str) -> int:
    """Items of the input already committed by an ingest that did not finish (else 0)."""
    state = store.checkpoint(checkpoint_name)
    return state[0] if state and not state[1] else 0


def _ingest_stream(
    store: Store,
    checkpoint_name: str,
    position: int,
    chunks: Callable[[int, bool], Iterator[Chunk]],
    batch_size: int,
    report: IngestReport,
    progress: Callable[[int], None],
    on_batch: ChangedFn | None = None,
) -> None:
    """Commit ``chunks(skip, known)`` batch by batch, each with the checkpoint after its last item.

    A ``Known`` line whose record is gone by the time its batch is written (an
    earlier line of this input replaced it) rolls the batch back; reading then
    resumes at the checkpoint with every line parsed.
    """
    committed = [position, *_counters(report)]

    def on_commit(at: int) -> None:
        committed[:] = [at, *_counters(report)]

    known = True
    while True:
        try:
            _commit_batches(store, checkpoint_name, position, chunks(position, known),
                            batch_size, report, progress, on_batch, on_commit)  # fmt: skip
            return
        except KnownLineGone:
            position, *counters = committed
            (report.records, report.new, report.merged, report.updated, report.unchanged,
             report.signals, rejected) = counters  # fmt: skip
            del report.rejected[rejected:]
            known = False


def _counters(report: IngestReport) -> list[int]:
    return [report.records, report.new, report.merged, report.updated, report.unchanged,
            report.signals, len(report.rejected)]  # fmt: skip


def _commit_batches(
    store: Store,
    checkpoint_name: str,
    position: int,
    chunks: Iterator[Chunk],
    batch_size: int,
    report: IngestReport,
    progress: Callable[[int], None],
    on_batch: ChangedFn | None,
    on_commit: Callable[[int], None],
) -> None:
    batch: list[Prepared | Known] = []
    done_bytes = 0

    def commit(position: int, read: int, *, done: bool = False) -> None:
        """Write ``batch`` with the checkpoint after its last item, in one transaction."""
        with store.transaction():
            changed = apply_prepared(store, batch, report)
            store.set_checkpoint(checkpoint_name, position, done=done)
        batch.clear()
        on_commit(position)
        progress(read)
        if on_batch and changed:
            on_batch(changed)

    with contextlib.closing(chunks):
        for items, done_bytes in chunks:
            for item in items:
                position += 1
                if isinstance(item, ParseError):
                    report.rejected.append(item)
                    continue
                report.records += 1
                batch.append(item)
                if len(batch) >= batch_size:
                    commit(position, done_bytes)
    commit(position, done_bytes, done=True)


def apply_batch(
    store: Store, batch: Sequence[Record], report: IngestReport
) -> list[tuple[int, int, Paper]]:
    """Merge and store one batch of records; the caller holds the transaction."""
    return apply_prepared(store, [prepare(r) for r in batch], report)
