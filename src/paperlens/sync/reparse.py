"""``reparse``: run today's parsers over every raw response kept in the HTTP cache.

After a parser fix, the papers it got wrong are fixed without asking arXiv or
Hugging Face again: every cached body is parsed with the parser named in its
header and stored like a fresh page, oldest first, stamped with its original
fetch time. Records whose content did not change are recognised by their
hash and skipped, so a reparse with unchanged parsers stores nothing new, and
signals keep their original observation times (no duplicate observations).

The walk is resumable like a sync: its cursor is the last cache file stored.
"""

from __future__ import annotations

import logging

from paperlens.sources.fetch import cache_files, read_cache
from paperlens.sync.enrich import apply_batch_response, keys_for_request
from paperlens.sync.pages import (
    Problem,
    SyncContext,
    SyncReport,
    parse_page,
    source_for,
    store_page,
)

logger = logging.getLogger(__name__)

STREAM = "reparse"
PARSED_LABELS = ("arxiv-atom", "arxiv-oai", "hf-daily")


def reparse(ctx: SyncContext, *, restart: bool = False) -> SyncReport:
    """Re-parse and store every cached response; resumes an interrupted reparse."""
    report, started = ctx.start("reparse")
    before = ctx.fetcher.stats.to_json()
    cache_dir = ctx.services.settings.data_dir / "http-cache"
    files = cache_files(cache_dir)
    state = ctx.tables.state(STREAM)
    last = ""
    if state and not state.done and not restart:
        last = str(state.cursor.get("last", ""))
        report.resumed = f"after {last}"
    else:
        with ctx.store.transaction():
            ctx.tables.save_state(STREAM, {"last": ""}, new_run=True)
    todo = [p for p in files if p.relative_to(cache_dir).as_posix() > last]
    skipped = 0
    for n, path in enumerate(todo, 1):
        rel = path.relative_to(cache_dir).as_posix()
        cursor = {"last": rel}
        try:
            cached = read_cache(path)
        except (OSError, ValueError, KeyError, EOFError) as exc:
            report.errors.append(Problem(str(path), f"unreadable cache file ({exc})"))
            continue
        if cached.label in PARSED_LABELS:
            records, rejected = parse_page(source_for(cached.label, cached.fetched_at), cached)
            report.rejected.extend(rejected)
            store_page(ctx, records, report, state=STREAM, cursor=cursor)
        elif cached.label == "s2-batch":
            keys = keys_for_request(ctx, cached.request_json)
            apply_batch_response(ctx, cached, keys, report)
            with ctx.store.transaction():
                ctx.tables.save_state(STREAM, cursor)
        else:
            skipped += 1
        ctx.progress(n, len(todo), "responses")
        if ctx.stopping(report):
            break
    else:
        with ctx.store.transaction():
            ctx.tables.save_state(STREAM, {"last": ""}, done=True)
    report.details["responses"] = len(todo)
    report.details["skipped_labels"] = skipped
    return ctx.finish(report, started, before)
