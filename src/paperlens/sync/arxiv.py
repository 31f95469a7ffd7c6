"""``sync arxiv``: new papers from the arXiv API, paged by ``start``/``max_results``.

The query is the categories OR-ed, AND the user's query, AND a
``submittedDate`` range whose end is fixed when the run starts, sorted by
submission date *ascending*. Both choices keep the pages stable while we walk
them: papers submitted during the run fall outside the range instead of
shifting every later page by one (with the API's default descending sort,
each new submission would push one paper from page N onto page N+1, and a
resumed run would see it twice or miss one).

The stream's cursor (``sync_state``) holds the range and the next ``start``
and is written with each page's papers, so a killed run resumes at the first
page it had not stored. A finished run remembers the end of its range, and the
next run without ``--since`` starts there.

arXiv's API etiquette: at most one request every 3 seconds (the fetcher's
pacing), one connection, ``max_results`` at most 2000, and no more than
30,000 results for one query; a larger range is reported, and the rest is
left for ``sync arxiv-oai``, which is the bulk interface.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from paperlens.errors import ConfigError
from paperlens.sources.fetch import FetchError
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

API_MAX_RESULTS = 30_000


def search_query(categories: Sequence[str], query: str | None) -> str:
    """The ``search_query`` without the date range: ``(cat:a OR cat:b) AND (query)``."""
    parts = []
    cats = [c.strip() for c in categories if c.strip()]
    if cats:
        parts.append("(" + " OR ".join(f"cat:{c}" for c in cats) + ")")
    if query and query.strip():
        parts.append(f"({query.strip()})")
    if not parts:
        raise ConfigError("sync arxiv needs --category or --query (or PAPERLENS_ARXIV_CATEGORIES)")
    return " AND ".join(parts)


def stream_name(search: str) -> str:
    return "arxiv:" + hashlib.sha256(search.encode()).hexdigest()[:16]


def sync_arxiv(
    ctx: SyncContext,
    *,
    categories: Sequence[str] = (),
    query: str | None = None,
    since: date | None = None,
    page_size: int | None = None,
) -> SyncReport:
    """Fetch every paper of the query submitted since ``since`` (or since the last run)."""
    report, started = ctx.start("arxiv")
    before = ctx.fetcher.stats.to_json()
    search = search_query(categories, query)
    name = stream_name(search)
    size = min(page_size or ctx.settings.arxiv_page_size, 2000)
    state = ctx.tables.state(name)
    if state and not state.done and (since is None or since.isoformat() == state.cursor["since"]):
        cursor = dict(state.cursor)
        report.resumed = f"start={cursor['start']} of {cursor['since']}..{cursor['until']}"
    else:
        if since is None:
            previous = state.cursor.get("next_since") if state and state.done else None
            since = (
                date.fromisoformat(previous)
                if previous
                else (ctx.now() - timedelta(days=ctx.settings.arxiv_default_days)).date()
            )
        until = ctx.now().strftime("%Y%m%d%H%M")
        cursor = {"search": search, "since": since.isoformat(), "until": until, "start": 0}
        with ctx.store.transaction():
            ctx.tables.save_state(name, cursor, new_run=True)
    full = (
        f"{search} AND submittedDate:[{cursor['since'].replace('-', '')}0000 TO {cursor['until']}]"
    )
    report.details["query"] = full
    source = source_for("arxiv-atom")
    total: int | None = cursor.get("total")
    empty_retries = 0
    while True:
        start = int(cursor["start"])
        params: dict[str, str | int] = {
            "search_query": full,
            "start": start,
            "max_results": size,
            "sortBy": "submittedDate",
            "sortOrder": "ascending",
        }
        try:
            fetched = ctx.fetcher.get(
                ctx.settings.arxiv_api_url, params=params, label="arxiv-atom", expect="xml"
            )
        except FetchError as exc:
            report.errors.append(Problem(exc.url, _api_reason(exc)))
            break
        page = atom_page(fetched.content)
        if page.error:
            report.errors.append(Problem(fetched.url, f"arXiv reported an error: {page.error}"))
            break
        if page.entries == 0 and total and start < min(total, API_MAX_RESULTS):
            # A known arXiv quirk: an empty page (often with totalResults 0) in the
            # middle of a result list, which a second request a few seconds later
            # fills. The total from the earlier pages stands.
            empty_retries += 1
            if empty_retries <= ctx.settings.bad_body_retries:
                continue
            report.errors.append(
                Problem(fetched.url, f"empty page at start={start} of {total} results")
            )
            break
        total = page.total if page.total is not None else total
        if total is not None and total > API_MAX_RESULTS and "capped" not in cursor:
            cursor["capped"] = True
            report.notes.append(
                f"the query matches {total:,} papers; the arXiv API returns at most "
                f"{API_MAX_RESULTS:,} per query: use a later --since or sync arxiv-oai"
            )
        limit = min(total or 0, API_MAX_RESULTS)
        empty_retries = 0
        records, rejected = parse_page(source, fetched)
        report.rejected.extend(rejected)
        cursor = {**cursor, "start": start + page.entries, "total": total}
        done = page.entries == 0 or cursor["start"] >= limit
        if done:
            cursor["next_since"] = _day(cursor["until"])
        store_page(ctx, records, report, state=name, cursor=cursor, done=done)
        ctx.progress(cursor["start"], limit, "papers")
        if done or ctx.stopping(report):
            break
    report.details["total"] = total
    return ctx.finish(report, started, before)


def _day(stamp: str) -> str:
    return datetime.strptime(stamp[:8], "%Y%m%d").date().isoformat()


def _api_reason(exc: FetchError) -> str:
    """The reason of a failed request; arXiv explains a 400 in an Atom error entry."""
    if exc.status == 400 and exc.body:
        error = atom_page(exc.body).error
        if error:
            return f"HTTP 400: arXiv says: {error}"
    return exc.reason
