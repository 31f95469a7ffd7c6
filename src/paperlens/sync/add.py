"""``add``: fetch single papers by arXiv id or URL; the web app's submissions queue uses it too.

Ids are asked for in groups through the arXiv API's ``id_list`` (one request
for many papers, paced like every arXiv request). An id arXiv does not know
comes back as no entry at all (HTTP 200, ``totalResults`` 0), so "not found"
is decided per id by what came back, never by the status code.

The queue: the web app inserts ``submissions`` rows with status ``queued``
(migration ``0002_accounts.sql``); :func:`process_submissions` fetches them
and marks each ``fetched`` or ``failed`` (with the reason) in the same
transaction as the papers it stored. A network failure leaves the rows
queued for the next round rather than failing what might work in a minute.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from paperlens.ids import parse_arxiv_id
from paperlens.model import Record
from paperlens.sources.fetch import FetchError
from paperlens.sync.arxiv import _api_reason
from paperlens.sync.feeds import atom_page
from paperlens.sync.pages import (
    Problem,
    SyncContext,
    SyncReport,
    parse_page,
    source_for,
    store_page,
)

logger = logging.getLogger(__name__)

ID_LIST_SIZE = 100
NOT_AN_ID = "not an arXiv id, arXiv URL or arXiv DOI"


@dataclass(slots=True)
class Outcome:
    """What happened to one requested reference."""

    ref: str
    arxiv_id: str | None
    status: str  # "added" | "unchanged" | "not_found" | "invalid" | "error"
    reason: str | None = None
    paper_id: str | None = None


@dataclass(slots=True)
class _Want:
    ref: str
    arxiv_id: str | None
    asked: str | None
    submissions: list[int] = field(default_factory=list)


def add_papers(ctx: SyncContext, refs: Sequence[str]) -> SyncReport:
    """Fetch and store the papers named by ``refs`` (ids, ``arXiv:`` ids, abs/pdf URLs, DOIs)."""
    report, started = ctx.start("add")
    before = ctx.fetcher.stats.to_json()
    outcomes = _fetch_and_store(ctx, [_want(ref) for ref in refs], report)
    report.details["papers"] = [asdict(o) for o in outcomes]
    return ctx.finish(report, started, before)


def process_submissions(ctx: SyncContext, *, limit: int = 200) -> SyncReport:
    """Fetch the queued web submissions; each row ends ``fetched`` or ``failed``."""
    report, started = ctx.start("submissions")
    before = ctx.fetcher.stats.to_json()
    queued = ctx.tables.queued_submissions(limit=limit)
    wants: dict[str, _Want] = {}
    invalid: list[_Want] = []
    for sub in queued:
        want = _want(sub.arxiv_id or sub.ref)
        want.ref = sub.ref
        if want.arxiv_id is None:
            want.submissions.append(sub.id)
            invalid.append(want)
            continue
        wants.setdefault(want.arxiv_id, want).submissions.append(sub.id)
    outcomes = _fetch_and_store(ctx, [*wants.values(), *invalid], report)
    report.details["submissions"] = len(queued)
    report.details["papers"] = [asdict(o) for o in outcomes]
    return ctx.finish(report, started, before)


def _want(ref: str) -> _Want:
    parsed = parse_arxiv_id(ref)
    if parsed is None:
        return _Want(ref, None, None)
    ident, version = parsed
    return _Want(ref, ident, f"{ident}v{version}" if version else ident)


def _fetch_and_store(ctx: SyncContext, wants: list[_Want], report: SyncReport) -> list[Outcome]:
    outcomes: list[Outcome] = []
    tables = ctx.tables
    bad = [w for w in wants if w.arxiv_id is None]
    for want in bad:
        outcomes.append(Outcome(want.ref, None, "invalid", NOT_AN_ID))
        report.errors.append(Problem(want.ref, NOT_AN_ID))
    if any(w.submissions for w in bad):
        with ctx.store.transaction():
            for want in bad:
                tables.mark_submissions(want.submissions, "failed", error=NOT_AN_ID)
    good = [w for w in wants if w.arxiv_id is not None]
    source = source_for("arxiv-atom")
    for offset in range(0, len(good), ID_LIST_SIZE):
        group = good[offset : offset + ID_LIST_SIZE]
        params: dict[str, str | int] = {
            "id_list": ",".join(w.asked or "" for w in group),
            "start": 0,
            "max_results": len(group),
        }
        try:
            fetched = ctx.fetcher.get(
                ctx.settings.arxiv_api_url, params=params, label="arxiv-atom", expect="xml"
            )
            page = atom_page(fetched.content)
            if page.error:
                raise FetchError(fetched.url, f"arXiv reported an error: {page.error}")
            records, rejected = parse_page(source, fetched)
        except FetchError as exc:
            reason = _api_reason(exc)
            report.errors.append(Problem(exc.url, reason))
            for want in group:
                outcomes.append(Outcome(want.ref, want.arxiv_id, "error", reason))
            if exc.status == 400 and len(group) > 1:
                # One malformed id spoils the whole id_list: ask one by one.
                report.errors.pop()
                outcomes[-len(group) :] = _fetch_and_store_each(ctx, group, report)
            continue
        report.rejected.extend(rejected)
        outcomes.extend(_store_group(ctx, group, records, report))
        ctx.progress(offset + len(group), len(good), "papers")
    return outcomes


def _fetch_and_store_each(
    ctx: SyncContext, group: list[_Want], report: SyncReport
) -> list[Outcome]:
    out: list[Outcome] = []
    for want in group:
        out.extend(_fetch_and_store(ctx, [want], report))
    return out


def _store_group(
    ctx: SyncContext, group: list[_Want], records: list[Record], report: SyncReport
) -> list[Outcome]:
    by_id = {r.arxiv_id: r for r in records if r.arxiv_id}
    outcomes: list[Outcome] = []
    known = ctx.store.seen_hashes([r.content_hash for r in records]) if records else set()

    def mark() -> None:
        for want in group:
            if not want.submissions:
                continue
            if want.arxiv_id in by_id:
                ctx.tables.mark_submissions(
                    want.submissions, "fetched", arxiv_id=want.arxiv_id, error=None
                )
            else:
                ctx.tables.mark_submissions(
                    want.submissions, "failed", arxiv_id=want.arxiv_id,
                    error=f"arXiv has no paper {want.asked}",
                )  # fmt: skip

    store_page(ctx, records, report, state=None, cursor=None, also=mark)
    for want in group:
        record = by_id.get(want.arxiv_id or "")
        if record is None:
            reason = f"arXiv has no paper {want.asked}"
            outcomes.append(Outcome(want.ref, want.arxiv_id, "not_found", reason))
            report.errors.append(Problem(want.ref, reason))
            continue
        paper: Any = ctx.store.paper(want.arxiv_id or "")
        outcomes.append(
            Outcome(
                want.ref,
                want.arxiv_id,
                "unchanged" if record.content_hash in known else "added",
                paper_id=paper.id if paper else None,
            )
        )
    return outcomes
