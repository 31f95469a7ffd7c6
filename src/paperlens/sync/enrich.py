"""``enrich``: citation counts, references and TLDRs from the Semantic Scholar Graph API.

One ``POST /paper/batch`` asks for up to ``s2_batch_size`` papers by
``ARXIV:<id>`` or ``DOI:<doi>``; the answer is a JSON array in the order of
the ids, with ``null`` for a paper Semantic Scholar does not know. Requests
are paced to at most one a second (``s2_pacing_s``; the public limit without a
key is shared by everyone, so a 429 is expected and waited out with backoff).
``PAPERLENS_S2_API_KEY`` is sent as ``x-api-key`` when set.

Citation counts are signals, observed at the fetch time (a time series like
upvotes); the TLDR and the reference list are the paper's current enrichment
and are replaced on each refresh. Enrichment is optional: when Semantic
Scholar is unreachable the run reports it and stops, and nothing else in
paperlens waits for it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from paperlens.ids import normalise_doi, parse_arxiv_id
from paperlens.model import Observation, ParseError
from paperlens.sources.fetch import CachedResponse, Fetched, FetchError
from paperlens.store.sync import Enrichment, Reference, ts
from paperlens.sync.pages import Problem, SyncContext, SyncReport

logger = logging.getLogger(__name__)

SOURCE = "semantic-scholar"
FIELDS = (
    "externalIds,citationCount,influentialCitationCount,referenceCount,tldr,"
    "references.externalIds,references.title"
)


def s2_id(arxiv_id: str | None, doi: str | None) -> str:
    """The batch-endpoint id for a paper: its arXiv id when it has one, else its DOI."""
    return f"ARXIV:{arxiv_id}" if arxiv_id else f"DOI:{doi}"


def enrich(ctx: SyncContext, *, limit: int) -> SyncReport:
    """Enrich up to ``limit`` papers: never-enriched first, then the stalest."""
    report, started = ctx.start("enrich")
    before = ctx.fetcher.stats.to_json()
    age = timedelta(days=ctx.settings.enrich_max_age_days)
    todo = ctx.tables.papers_to_enrich(limit=limit, refreshed_before=ctx.now() - age)
    headers = {}
    if ctx.settings.s2_api_key is not None:
        headers["x-api-key"] = ctx.settings.s2_api_key.get_secret_value()
    url = ctx.settings.s2_api_url.rstrip("/") + "/paper/batch"
    size = ctx.settings.s2_batch_size
    found = not_found = 0
    for offset in range(0, len(todo), size):
        chunk = todo[offset : offset + size]
        ids = [s2_id(arxiv_id, doi) for _key, arxiv_id, doi in chunk]
        try:
            fetched = ctx.fetcher.post_json(
                url, {"ids": ids}, params={"fields": FIELDS}, label="s2-batch", headers=headers
            )
        except FetchError as exc:
            report.errors.append(Problem(exc.url, exc.reason))
            report.notes.append("Semantic Scholar unavailable; enrichment stopped (optional)")
            break
        counts = apply_batch_response(ctx, fetched, [k for k, _a, _d in chunk], report)
        found += counts[0]
        not_found += counts[1]
        ctx.progress(offset + len(chunk), len(todo), "papers")
        if ctx.stopping(report):
            break
    report.details["enriched"] = found
    report.details["not_found"] = not_found
    return ctx.finish(report, started, before)


def apply_batch_response(
    ctx: SyncContext,
    fetched: Fetched | CachedResponse,
    keys: Sequence[int | None],
    report: SyncReport,
) -> tuple[int, int]:
    """Store one batch answer for the papers ``keys`` (in request order); returns found/missing.

    Also used by ``reparse``, which rebuilds ``keys`` from the cached request.
    """
    try:
        items = json.loads(fetched.content)
    except ValueError as exc:
        report.errors.append(Problem(fetched.url, f"malformed JSON ({exc})"))
        return 0, 0
    if not isinstance(items, list):
        reason = "expected a JSON array"
        if isinstance(items, dict) and "error" in items:
            reason = f"Semantic Scholar says: {items['error']}"
        report.errors.append(Problem(fetched.url, reason))
        return 0, 0
    if len(items) != len(keys):
        report.errors.append(
            Problem(fetched.url, f"{len(items)} results for {len(keys)} ids; cannot pair them")
        )
        return 0, 0
    at = fetched.fetched_at
    found = missing = 0
    store = ctx.store
    with store.transaction():
        for i, (key, item) in enumerate(zip(keys, items, strict=True)):
            if key is None:
                continue
            if item is None:
                ctx.tables.save_enrichment(
                    key, Enrichment("not_found", None, None, None, None, None, ts(at), [])
                )
                missing += 1
                continue
            enrichment = _enrichment(item, at)
            if isinstance(enrichment, str):
                report.rejected.append(ParseError(fetched.url, f"item {i + 1}", enrichment))
                continue
            ctx.tables.save_enrichment(key, enrichment)
            signals = [
                Observation(kind, float(value), SOURCE, at)
                for kind, value in (
                    ("citations", enrichment.citation_count),
                    ("influential_citations", enrichment.influential_citation_count),
                )
                if value is not None
            ]
            if signals:
                report.extra_signals += store.add_signals(key, signals)
            found += 1
    report.pages += 1
    report.records += found
    return found, missing


def _enrichment(item: Any, at: datetime) -> Enrichment | str:
    """An item of the batch answer as an Enrichment, or why it cannot be one."""
    if not isinstance(item, dict):
        return f"expected an object, found {type(item).__name__}"
    counts: dict[str, int | None] = {}
    for name in ("citationCount", "influentialCitationCount", "referenceCount"):
        value = item.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            return f"{name} is {value!r}, not a count"
        counts[name] = value
    tldr = item.get("tldr")
    text = tldr.get("text") if isinstance(tldr, dict) else None
    refs = []
    for ref in item.get("references") or []:
        if not isinstance(ref, dict):
            continue
        raw_ext = ref.get("externalIds")
        ext: dict[str, Any] = raw_ext if isinstance(raw_ext, dict) else {}
        arxiv = parse_arxiv_id(str(ext.get("ArXiv"))) if ext.get("ArXiv") else None
        title = ref.get("title")
        refs.append(
            Reference(
                s2_paper_id=ref.get("paperId") if isinstance(ref.get("paperId"), str) else None,
                arxiv_id=arxiv[0] if arxiv else None,
                doi=normalise_doi(str(ext.get("DOI"))) if ext.get("DOI") else None,
                title=" ".join(title.split()) if isinstance(title, str) else None,
            )
        )
    paper_id = item.get("paperId")
    return Enrichment(
        status="found",
        s2_paper_id=paper_id if isinstance(paper_id, str) else None,
        tldr=" ".join(text.split()) if isinstance(text, str) and text.strip() else None,
        citation_count=counts["citationCount"],
        influential_citation_count=counts["influentialCitationCount"],
        reference_count=counts["referenceCount"],
        fetched_at=ts(at),
        references=refs,
    )


def keys_for_request(ctx: SyncContext, request_json: Any) -> list[int | None]:
    """Paper keys for the ids of a cached batch request (``reparse``)."""
    ids = request_json.get("ids", []) if isinstance(request_json, dict) else []
    keys: list[int | None] = []
    for ident in ids:
        kind, _, value = str(ident).partition(":")
        ref = value if kind in ("ARXIV", "DOI") else ident
        keys.append(ctx.store.resolve(ref))
    return keys
