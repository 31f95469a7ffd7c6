"""One page at a time: parse a fetched body and store its records with the stream's cursor.

Every live sync is a loop of *fetch a page → parse it → store the records and
the cursor that points past the page, in one transaction*. That transaction is
the whole resume story: after a kill -9 the database holds either the page and
the cursor after it, or neither, so the next run neither skips nor repeats a
page (and repeating one would still be harmless: a record whose content hash
is stored is counted unchanged).

A page that cannot be used as a whole (empty, cut short, HTML instead of data,
an error document) never reaches the store: the fetcher refuses it and the
sync reports the URL and the reason. Items a parser rejects inside a good page
are reported with the URL and their location, and the rest of the page is
stored.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from paperlens.config import Settings
from paperlens.ingest import IngestReport, apply_batch
from paperlens.model import ParseError, Record
from paperlens.services import Services
from paperlens.sources import Source, get_source
from paperlens.sources.fetch import Fetched, Fetcher, FetchPolicy
from paperlens.store.sync import SyncTables
from paperlens.sync.settings import SyncSettings

logger = logging.getLogger(__name__)

ProgressFn = Callable[[int, int | None, str], None]
"""``on_progress(done, total_or_None, what)``: units are the sync's own (papers, days)."""


@dataclass(slots=True)
class Problem:
    """A page or request that gave nothing usable: the URL and why."""

    url: str
    reason: str

    def __str__(self) -> str:
        return f"{self.url}: {self.reason}"


@dataclass(slots=True)
class SyncReport:
    """What a sync did, for the summary table and ``--json``."""

    kind: str
    pages: int = 0
    records: int = 0
    ingest: IngestReport = field(default_factory=IngestReport)
    extra_signals: int = 0
    errors: list[Problem] = field(default_factory=list)
    rejected: list[ParseError] = field(default_factory=list)
    resumed: str | None = None
    notes: list[str] = field(default_factory=list)
    fetch: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def signals(self) -> int:
        return self.ingest.signals + self.extra_signals

    @property
    def ok(self) -> bool:
        return not self.errors and not self.rejected

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "requests": self.fetch.get("requests", 0),
            "retries": self.fetch.get("retries", 0),
            "pages": self.pages,
            "records": self.records,
            "new": self.ingest.new,
            "merged": self.ingest.merged,
            "updated": self.ingest.updated,
            "unchanged": self.ingest.unchanged,
            "signals": self.signals,
            "errors": [{"url": e.url, "reason": e.reason} for e in self.errors],
            "rejected": [
                {"url": e.origin, "location": e.location, "reason": e.reason} for e in self.rejected
            ],
            "resumed": self.resumed,
            "notes": self.notes,
            "fetch": self.fetch,
            **self.details,
            "seconds": round(self.seconds, 3),
        }


class SyncContext:
    """What a sync needs: the services, its settings, one fetcher, the sync tables."""

    def __init__(
        self,
        services: Services,
        sync_settings: SyncSettings,
        *,
        fetcher: Fetcher | None = None,
        on_progress: ProgressFn | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.services = services
        self.settings = sync_settings
        self.fetcher = fetcher or Fetcher(fetch_policy(services.settings, sync_settings))
        self._own_fetcher = fetcher is None
        self.tables = SyncTables(services.store)
        self.on_progress = on_progress
        self.should_stop = should_stop

    def __enter__(self) -> SyncContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._own_fetcher:
            self.fetcher.close()

    @property
    def store(self) -> Any:
        return self.services.store

    def now(self) -> datetime:
        return self.services.clock()

    def progress(self, done: int, total: int | None, what: str) -> None:
        if self.on_progress is not None:
            self.on_progress(done, total, what)

    def stopping(self, report: SyncReport) -> bool:
        """True when the worker was told to stop; the run ends after the stored page."""
        if self.should_stop is not None and self.should_stop():
            report.notes.append("stopped on request; the next run resumes from here")
            return True
        return False

    def start(self, kind: str) -> tuple[SyncReport, float]:
        return SyncReport(kind), time.perf_counter()

    def finish(self, report: SyncReport, started: float, before: dict[str, Any]) -> SyncReport:
        after = self.fetcher.stats.to_json()
        report.fetch = {
            k: round(v - before.get(k, 0), 2) if isinstance(v, float) else v - before.get(k, 0)
            for k, v in after.items()
        }
        report.seconds = time.perf_counter() - started
        return report


def fetch_policy(settings: Settings, sync: SyncSettings) -> FetchPolicy:
    """The fetcher's behaviour from the settings; the cache sits in the data directory."""
    return FetchPolicy(
        user_agent=sync.user_agent(),
        pacing=sync.pacing(),
        connect_timeout=sync.connect_timeout_s,
        read_timeout=sync.read_timeout_s,
        max_retries=sync.max_retries,
        bad_body_retries=sync.bad_body_retries,
        backoff_base=sync.backoff_base_s,
        backoff_max=sync.backoff_max_s,
        retry_after_max=sync.retry_after_max_s,
        cache_dir=settings.data_dir / "http-cache" if sync.http_cache else None,
    )


def parse_page(
    source: Source, fetched: Fetched | Any, *, origin: str | None = None
) -> tuple[list[Record], list[ParseError]]:
    """Records and rejected items of one page; records are stamped with the fetch time.

    Never raises. A parser that gives up on the whole body (or a parser bug)
    makes the page one rejected item and no records: the run goes on, the
    body is in the raw cache, and ``reparse`` stores its papers once the
    parser is fixed. A stream that stopped on such a page would stop there
    on every run.
    """
    url = origin or fetched.url
    records: list[Record] = []
    errors: list[ParseError] = []
    try:
        items: Iterator[Record | ParseError] = source.parse(io.BytesIO(fetched.content), url)
        for item in items:
            if isinstance(item, ParseError):
                errors.append(item)
                continue
            if item.observed_at is None:
                item.observed_at = fetched.fetched_at
            records.append(item)
    except Exception as exc:
        logger.exception("%s: the %s parser failed", url, source.name)
        return [], [ParseError(url, "document", f"the {source.name} parser failed: {exc}")]
    return records, errors


def store_page(
    ctx: SyncContext,
    records: Sequence[Record],
    report: SyncReport,
    *,
    state: str | None,
    cursor: dict[str, Any] | None,
    done: bool = False,
    also: Callable[[], None] | None = None,
) -> None:
    """Apply a page's records and move the stream's cursor, all in one transaction.

    Signals are a time series: a poll whose record is otherwise unchanged
    (same upvotes as last time, so the same content hash, so ``apply_batch``
    skips it) still records its observations at the new fetch time.
    """
    store = ctx.store
    with store.transaction():
        with_signals = [r for r in records if r.signals]
        seen = store.seen_hashes([r.content_hash for r in with_signals]) if with_signals else set()
        apply_batch(store, records, report.ingest)
        for record in with_signals:
            if record.content_hash in seen:
                key = _paper_key(store, record)
                if key is not None:
                    report.extra_signals += store.add_signals(key, record.signals)
        if also is not None:
            also()
        if state is not None and cursor is not None:
            ctx.tables.save_state(state, cursor, done=done)
    report.records += len(records)
    report.pages += 1


def _paper_key(store: Any, record: Record) -> int | None:
    for ref in (record.arxiv_id, record.doi, record.source_key):
        if ref:
            key: int | None = store.resolve(ref)
            if key is not None:
                return key
    return None


def source_for(label: str, fetched_at: datetime | None = None) -> Source:
    """The parser for a cache label; the HF parser is told when the poll happened."""
    if label == "hf-daily":
        from paperlens.sources.hf_daily import HfDaily

        return HfDaily(observed_at=fetched_at)
    return get_source(label)
