"""``sync arxiv-oai``: bulk harvesting through OAI-PMH ``ListRecords`` and resumption tokens.

The first request names ``metadataPrefix``, ``set``, ``from`` and ``until``;
every later one sends only the ``resumptionToken`` of the page before, as
OAI-PMH 2.0 §3.5 requires. An empty token (or none) ends the list. The token
is the stream's cursor: it is stored with each page's papers, so a killed
harvest resumes with the token of the first page it had not stored.

Tokens expire (arXiv keeps them for a while, not for days). An expired one
answers ``badResumptionToken``; the harvest then starts over from its ``from``
date, which costs requests but never correctness, because records already
stored are recognised by their content hash and counted unchanged.

``noRecordsMatch`` is not an error: nothing changed in the range. A finished
harvest remembers the date of its first ``responseDate``; the next harvest of
the same set without ``--from`` starts there (the incremental harvesting rule
of the OAI-PMH guidelines: overlap by a day rather than miss one).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from paperlens.sources.fetch import FetchError
from paperlens.sync.feeds import oai_page
from paperlens.sync.pages import (
    Problem,
    SyncContext,
    SyncReport,
    parse_page,
    source_for,
    store_page,
)

logger = logging.getLogger(__name__)


def stream_name(set_spec: str | None, prefix: str) -> str:
    return f"arxiv-oai:{set_spec or '*'}:{prefix}"


def sync_oai(
    ctx: SyncContext,
    *,
    set_spec: str | None = None,
    from_: date | None = None,
    until: date | None = None,
    full: bool = False,
    prefix: str | None = None,
) -> SyncReport:
    """Harvest the records of a set changed in ``[from_, until]`` (both optional)."""
    report, started = ctx.start("arxiv-oai")
    before = ctx.fetcher.stats.to_json()
    prefix = prefix or ctx.settings.oai_metadata_prefix
    name = stream_name(set_spec, prefix)
    state = ctx.tables.state(name)
    wanted_from = from_.isoformat() if from_ else None
    wanted_until = until.isoformat() if until else None
    if (
        state
        and not state.done
        and (from_ is None or wanted_from == state.cursor.get("from"))
        and (until is None or wanted_until == state.cursor.get("until"))
        and not full
    ):
        cursor = dict(state.cursor)
        report.resumed = f"page {cursor['page'] + 1} of the harvest from {cursor.get('from')}"
    else:
        if from_ is None and not full:
            previous = state.cursor.get("next_from") if state and state.done else None
            wanted_from = previous or (
                (ctx.now() - timedelta(days=ctx.settings.arxiv_default_days)).date().isoformat()
            )
        cursor = _fresh(set_spec, prefix, wanted_from, wanted_until)
        with ctx.store.transaction():
            ctx.tables.save_state(name, cursor, new_run=True)
    source = source_for("arxiv-oai")
    restarted = False
    while True:
        token = cursor.get("token")
        if token:
            params: dict[str, str | int] = {"verb": "ListRecords", "resumptionToken": token}
        else:
            params = {"verb": "ListRecords", "metadataPrefix": prefix}
            for key in ("set", "from", "until"):
                if cursor.get(key):
                    params[key] = cursor[key]
        try:
            fetched = ctx.fetcher.get(
                ctx.settings.arxiv_oai_url, params=params, label="arxiv-oai", expect="xml"
            )
        except FetchError as exc:
            report.errors.append(Problem(exc.url, exc.reason))
            break
        page = oai_page(fetched.content)
        if page.error_code == "badResumptionToken" and token and not restarted:
            restarted = True
            report.notes.append(
                f"resumption token expired ({page.error}); harvesting again from "
                f"{cursor.get('from') or 'the beginning'}"
            )
            cursor = _fresh(set_spec, prefix, cursor.get("from"), cursor.get("until"))
            continue
        if page.error_code == "noRecordsMatch":
            cursor = {**cursor, "token": None, "next_from": _next_from(cursor, page.response_date)}
            store_page(ctx, [], report, state=name, cursor=cursor, done=True)
            report.notes.append("no records changed in the range (noRecordsMatch)")
            break
        if page.error_code:
            report.errors.append(
                Problem(fetched.url, f"OAI-PMH error {page.error_code}: {page.error}")
            )
            break
        records, rejected = parse_page(source, fetched)
        report.rejected.extend(rejected)
        first_date = cursor.get("response_date") or page.response_date
        harvested = int(cursor.get("harvested", 0)) + page.records
        cursor = {
            **cursor,
            "token": page.token,
            "page": int(cursor.get("page", 0)) + 1,
            "response_date": first_date,
            "harvested": harvested,
        }
        done = page.token is None
        if done:
            cursor["next_from"] = _next_from(cursor, first_date)
        store_page(ctx, records, report, state=name, cursor=cursor, done=done)
        ctx.progress(harvested, page.complete_size, "records")
        if done or ctx.stopping(report):
            break
    report.details["harvest"] = {
        "set": set_spec,
        "metadataPrefix": prefix,
        "from": cursor.get("from"),
        "until": cursor.get("until"),
        "pages": cursor.get("page", 0),
    }
    return ctx.finish(report, started, before)


def _fresh(
    set_spec: str | None, prefix: str, from_: str | None, until: str | None
) -> dict[str, Any]:
    return {
        "set": set_spec,
        "prefix": prefix,
        "from": from_,
        "until": until,
        "token": None,
        "page": 0,
        "harvested": 0,
        "response_date": None,
    }


def _next_from(cursor: dict[str, Any], response_date: str | None) -> str | None:
    """Where the next incremental harvest starts: this one's first responseDate (a day)."""
    if cursor.get("until"):
        return str(cursor["until"])
    if response_date:
        return response_date[:10]
    return cursor.get("from")
