"""``sync hf``: Hugging Face Daily Papers by day, with recent days polled again.

A day's list fills late (papers are added through the day and after) and
upvotes keep growing for one to two weeks, so ``sync hf`` without a date polls
today and the ``hf_repoll_days`` days before it, every time. Each poll stores
its upvotes and comment counts as observations stamped with the fetch time:
a time series, never one overwritten number (``rank/trending.py`` reads the
growth from it).

A week or a month is fetched as its days (``?date=`` per day, paged with
``p``/``limit``), not with the API's ``week``/``month`` views: a day is the
unit the re-poll needs anyway, it is the unit of the stream's cursor, and it
keeps one failed request from costing more than one day. Days that fail are
kept in the cursor and fetched first by the next run with the same days.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import date, timedelta

from paperlens.errors import ConfigError
from paperlens.sources.fetch import FetchError
from paperlens.sync.pages import (
    Problem,
    SyncContext,
    SyncReport,
    parse_page,
    source_for,
    store_page,
)

logger = logging.getLogger(__name__)

STREAM = "hf"
FIRST_DAY = date(2023, 5, 4)
"""The first day of Hugging Face Daily Papers; earlier dates have no list."""


def hf_days(
    *,
    today: date,
    day: date | None = None,
    week: str | None = None,
    month: str | None = None,
    since: date | None = None,
    repoll_days: int = 7,
) -> list[date]:
    """The days a ``sync hf`` run fetches, oldest first, none in the future."""
    given = sum(x is not None for x in (day, week, month, since))
    if given > 1:
        raise ConfigError("give at most one of --date, --week, --month and --since")
    if day is not None:
        days = [day]
    elif week is not None:
        try:
            monday = date.fromisoformat(f"{week}-1") if "-W" in week else None
        except ValueError:
            monday = None
        if monday is None:
            raise ConfigError(f"--week {week!r}: expected an ISO week like 2025-W15")
        days = [monday + timedelta(days=i) for i in range(7)]
    elif month is not None:
        try:
            first = date.fromisoformat(f"{month}-01")
        except ValueError:
            raise ConfigError(f"--month {month!r}: expected a month like 2025-04") from None
        nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        days = [first + timedelta(days=i) for i in range((nxt - first).days)]
    else:
        start = since if since is not None else today - timedelta(days=repoll_days)
        days = [start + timedelta(days=i) for i in range((today - start).days + 1)]
    return [d for d in days if FIRST_DAY <= d <= today]


def sync_hf(ctx: SyncContext, days: Sequence[date]) -> SyncReport:
    """Fetch the Daily Papers list of each day; resumes an interrupted run of the same days."""
    report, started = ctx.start("hf")
    before = ctx.fetcher.stats.to_json()
    wanted = [d.isoformat() for d in days]
    state = ctx.tables.state(STREAM)
    if state and not state.done and state.cursor.get("days") == wanted:
        cursor = dict(state.cursor)
        report.resumed = f"day {cursor['index'] + 1} of {len(wanted)}"
    else:
        cursor = {"days": wanted, "index": 0, "page": 0, "failed": []}
        with ctx.store.transaction():
            ctx.tables.save_state(STREAM, cursor, new_run=True)
    failed = set(cursor.get("failed", []))
    size = ctx.settings.hf_page_size
    # Days that failed last time first, then the rest of the list.
    queue: list[tuple[str, int | None]] = [(d, None) for d in sorted(failed)]
    queue += [(d, i) for i, d in enumerate(wanted) if i >= cursor["index"]]
    for polled, (day, index) in enumerate(queue, 1):
        page = cursor["page"] if index is not None and index == cursor["index"] else 0
        while True:
            params = {"date": day, "limit": size, "p": page}
            problem: Problem | None = None
            try:
                fetched = ctx.fetcher.get(
                    ctx.settings.hf_api_url, params=params, label="hf-daily", expect="json"
                )
            except FetchError as exc:
                problem = Problem(exc.url, exc.reason)
            else:
                items = json.loads(fetched.content)
                if not isinstance(items, list):
                    reason = "expected a JSON array of daily papers"
                    if isinstance(items, dict) and "error" in items:
                        reason = f"Hugging Face says: {items['error']}"
                    problem = Problem(fetched.url, reason)
            if problem is not None:
                report.errors.append(problem)
                failed.add(day)
                if index is not None:
                    cursor.update(index=index + 1, page=0)
                cursor["failed"] = sorted(failed)
                with ctx.store.transaction():
                    ctx.tables.save_state(STREAM, cursor)
                break
            records, rejected = parse_page(source_for("hf-daily", fetched.fetched_at), fetched)
            report.rejected.extend(rejected)
            more = len(items) >= size
            if not more:
                failed.discard(day)
            if index is not None:
                cursor.update(index=index if more else index + 1, page=page + 1 if more else 0)
            cursor["failed"] = sorted(failed)
            store_page(ctx, records, report, state=STREAM, cursor=dict(cursor))
            if not more:
                break
            page += 1
        ctx.progress(polled, len(queue), "days")
        if ctx.stopping(report):
            break
    with ctx.store.transaction():
        finished = cursor["index"] >= len(wanted)
        ctx.tables.save_state(STREAM, cursor, done=finished and not failed)
    report.details["days"] = wanted
    return ctx.finish(report, started, before)
