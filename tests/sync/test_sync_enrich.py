"""``enrich`` against the replay server, answering with recorded Semantic Scholar items."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable

import pytest
from replay import FIXTURES, ReplayServer, body, settings_for, status

from paperlens.services import Services
from paperlens.store.sync import SyncTables
from paperlens.sync.add import add_papers
from paperlens.sync.enrich import FIELDS, enrich
from paperlens.sync.pages import SyncContext

S2 = FIXTURES / "semantic_scholar"
PAPERS = ["1605.08386", "1707.08567", "2104.12255"]


def _recorded() -> Callable[[list[str]], bytes]:
    """A batch answer built from recorded items: a full paper, an unknown one, a sparse one."""
    match = json.loads((S2 / "paper_search_match_attention_is_all_you_need.json").read_text())
    refs = json.loads((S2 / "paper_references_page1.json").read_text())["data"]
    sparse = json.loads((S2 / "paper_batch_authors.json").read_text())[0]
    full = {
        **match["data"][0],
        "referenceCount": len(refs),
        "references": [r["citedPaper"] for r in refs],
        "tldr": {"model": "tldr@v2.0.0", "text": "A  transformer\nbuilt on attention."},
    }

    def answer(ids: list[str]) -> bytes:
        return json.dumps([full, None, sparse][: len(ids)]).encode()

    return answer


@pytest.fixture
def stored(ctx: SyncContext) -> SyncContext:
    add_papers(ctx, PAPERS)
    return ctx


def _key(services: Services, arxiv_id: str) -> int:
    key = services.store.resolve(arxiv_id)
    assert key is not None
    return key


def test_enrich_stores_counts_as_signals_references_and_tldr(
    stored: SyncContext, replay: ReplayServer, services: Services
) -> None:
    replay.s2_response = _recorded()
    report = enrich(stored, limit=10)
    assert report.ok, report.to_json()
    assert (report.details["enriched"], report.details["not_found"]) == (2, 1)
    assert report.signals == 2
    (request,) = replay.requests("/graph/v1/paper/batch")
    assert request.method == "POST" and request.query == {"fields": FIELDS}
    assert json.loads(request.body) == {"ids": [f"ARXIV:{p}" for p in PAPERS]}
    assert "x-api-key" not in request.headers

    tables = SyncTables(services.store)
    first = tables.enrichment(_key(services, PAPERS[0]))
    assert first is not None and first.status == "found"
    assert (first.citation_count, first.influential_citation_count) == (136941, 17456)
    assert first.tldr == "A transformer built on attention."
    assert len(first.references) == 50 and first.reference_count == 50
    assert first.references[0].title.startswith("Group lending or individual lending?")
    paper = services.store.paper(PAPERS[0])
    assert paper is not None
    assert {(s.kind, s.value) for s in paper.signals} == {
        ("citations", 136941.0), ("influential_citations", 17456.0),
    }  # fmt: skip
    missing = tables.enrichment(_key(services, PAPERS[1]))
    assert missing is not None and missing.status == "not_found"
    sparse = tables.enrichment(_key(services, PAPERS[2]))
    assert sparse is not None and sparse.citation_count is None

    again = enrich(stored, limit=10)  # everything is fresh: nothing to ask
    assert again.fetch["requests"] == 0


def test_api_key_is_sent_and_batches_are_paced(services: Services, replay: ReplayServer) -> None:
    settings = settings_for(replay, s2_api_key="secret-key", s2_batch_size=1, s2_pacing_s=0.3)
    with SyncContext(services, settings) as ctx:
        add_papers(ctx, PAPERS)
        replay.s2_response = _recorded()
        enrich(ctx, limit=10)
    batches = replay.requests("/graph/v1/paper/batch")
    assert len(batches) == 3 and all(r.headers["x-api-key"] == "secret-key" for r in batches)
    assert all(b.at - a.at >= 0.29 for a, b in itertools.pairwise(batches))


def test_429_is_waited_out(stored: SyncContext, replay: ReplayServer) -> None:
    replay.s2_response = _recorded()
    replay.fail("/graph/v1", status(429, Retry_After="1"))
    report = enrich(stored, limit=10)
    assert report.ok and report.details["enriched"] == 2 and report.fetch["retries"] == 1


def test_unreachable_semantic_scholar_is_reported_and_stops(
    services: Services, replay: ReplayServer
) -> None:
    with SyncContext(services, settings_for(replay, max_retries=1, s2_batch_size=1)) as ctx:
        add_papers(ctx, PAPERS)
        replay.fail("/graph/v1", status(503), status(503))
        report = enrich(ctx, limit=10)
        assert len(report.errors) == 1 and "HTTP 503" in report.errors[0].reason
        assert len(replay.requests("/graph/v1")) == 2  # no hammering of the next batches
        assert SyncTables(services.store).enrichment(_key(services, PAPERS[0])) is None


def test_an_error_body_is_reported(stored: SyncContext, replay: ReplayServer) -> None:
    error = (S2 / "error_paper_not_found_http404.json").read_bytes()
    replay.fail("/graph/v1", body(error, 404))
    report = enrich(stored, limit=10)
    assert report.errors[0].reason == 'HTTP 404: {"error":"Paper with id 0 not found"}'


def test_malformed_items_are_rejected_the_rest_stored(
    stored: SyncContext, replay: ReplayServer
) -> None:
    replay.s2_response = lambda ids: json.dumps(
        [{"paperId": "a", "citationCount": "many"}, "nonsense", {"paperId": "c"}]
    ).encode()
    report = enrich(stored, limit=10)
    assert [(e.location, e.reason) for e in report.rejected] == [
        ("item 1", "citationCount is 'many', not a count"),
        ("item 2", "expected an object, found str"),
    ]
    assert report.details["enriched"] == 1


def test_a_short_answer_cannot_be_paired_and_is_reported(
    stored: SyncContext, replay: ReplayServer
) -> None:
    replay.s2_response = lambda ids: b"[null]"
    report = enrich(stored, limit=10)
    assert report.errors[0].reason == "1 results for 3 ids; cannot pair them"
