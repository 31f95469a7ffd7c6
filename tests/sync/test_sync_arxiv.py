"""``sync arxiv`` (API paging) and ``add`` against the replay server."""

from __future__ import annotations

import itertools
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from replay import (
    ARXIV_ENTRIES,
    FEED_HEAD,
    FIXTURES,
    ReplayServer,
    body,
    cut,
    entry_id,
    html,
    settings_for,
    status,
)

from paperlens.errors import ConfigError
from paperlens.services import Services
from paperlens.sync.add import add_papers, process_submissions
from paperlens.sync.arxiv import search_query, stream_name, sync_arxiv
from paperlens.sync.pages import SyncContext
from paperlens.sync.settings import SyncSettings

ALL = len(ARXIV_ENTRIES)
SINCE = date(2026, 1, 1)


def _arxiv_ids(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return sorted(r[0] for r in conn.execute("SELECT arxiv_id FROM papers"))


def _starts(replay: ReplayServer) -> list[int]:
    return [int(r.query["start"]) for r in replay.requests("/api/query")]


def test_pages_through_the_query_politely(services: Services, replay: ReplayServer) -> None:
    settings = settings_for(replay, arxiv_pacing_s=0.25, arxiv_page_size=5)
    with SyncContext(services, settings) as ctx:
        report = sync_arxiv(ctx, categories=["cs.LG", "cs.SE"], since=SINCE)
    assert report.ok, report.to_json()
    assert report.ingest.new == ALL == 23 and report.pages == 5
    requests = replay.requests("/api/query")
    assert _starts(replay) == [0, 5, 10, 15, 20]
    query = requests[0].query
    assert query["search_query"].startswith(
        "(cat:cs.LG OR cat:cs.SE) AND submittedDate:[202601010000 TO "
    )
    assert (query["max_results"], query["sortBy"], query["sortOrder"]) == (
        "5", "submittedDate", "ascending",
    )  # fmt: skip
    gaps = [b.at - a.at for a, b in itertools.pairwise(requests)]
    assert min(gaps) >= 0.24
    assert all("mailto:sync-tests@example.org" in r.headers["user-agent"] for r in requests)
    assert _arxiv_ids(services.settings.db) == sorted(entry_id(e) for e in ARXIV_ENTRIES)


def test_live_defaults_follow_arxiv_etiquette() -> None:
    live = SyncSettings(_env_file=None)  # type: ignore[call-arg]
    assert live.arxiv_pacing_s == 3.0 and live.arxiv_page_size <= 2000
    assert live.pacing()["export.arxiv.org"] == 3.0
    assert live.pacing()["oaipmh.arxiv.org"] == 3.0
    assert live.pacing()["api.semanticscholar.org"] >= 1.0


def test_the_next_run_starts_where_the_last_one_ended(ctx: SyncContext) -> None:
    first = sync_arxiv(ctx, categories=["cs.LG"], since=SINCE, page_size=10)
    again = sync_arxiv(ctx, categories=["cs.LG"], page_size=10)
    assert first.details["query"] != again.details["query"]
    today = ctx.now().strftime("%Y%m%d")
    assert f"submittedDate:[{today}0000 TO " in again.details["query"]
    assert again.ingest.new == 0 and again.ingest.unchanged == ALL


def test_a_failed_page_stops_the_run_and_the_next_run_resumes_there(
    services: Services, replay: ReplayServer
) -> None:
    replay.fail("/api/query", *[status(503)] * 3, where={"start": "10"})
    with SyncContext(services, settings_for(replay, max_retries=2, arxiv_page_size=5)) as ctx:
        first = sync_arxiv(ctx, categories=["cs.LG"], since=SINCE)
        assert [e.reason for e in first.errors] == ["HTTP 503: HTTP 503 (gave up after 3 attempts)"]
        assert "start=10" in first.errors[0].url
        assert first.ingest.new == 10
        second = sync_arxiv(ctx, categories=["cs.LG"], since=SINCE)
    assert second.resumed is not None and second.resumed.startswith("start=10 of 2026-01-01")
    assert _starts(replay)[-3:] == [10, 15, 20]
    assert second.ok and second.ingest.new == ALL - 10
    assert len(_arxiv_ids(services.settings.db)) == ALL


@pytest.mark.parametrize(
    ("fault", "reason"),
    [(html, "an HTML page instead of XML"), (cut, "malformed or truncated XML")],
)
def test_bad_bodies_are_reported_with_the_url_and_never_half_stored(
    services: Services, replay: ReplayServer, fault: object, reason: str
) -> None:
    replay.fail("/api/query", *[fault() for _ in range(3)], where={"start": "5"})  # type: ignore[operator]
    with SyncContext(services, settings_for(replay, arxiv_page_size=5)) as ctx:
        report = sync_arxiv(ctx, categories=["cs.LG"], since=SINCE)
        state = ctx.tables.state(stream_name(search_query(["cs.LG"], None)))
    assert len(report.errors) == 1 and reason in report.errors[0].reason
    assert "start=5" in report.errors[0].url
    assert report.ingest.new == 5  # page one only; nothing of the cut page
    assert state is not None and not state.done and state.cursor["start"] == 5


def test_an_empty_page_mid_list_is_asked_again(ctx: SyncContext, replay: ReplayServer) -> None:
    empty_feed = (FIXTURES / "arxiv_api/format_2026/id_0000.0000_empty.xml").read_bytes()
    replay.fail("/api/query", body(empty_feed, content_type="application/atom+xml"),
                where={"start": "10"})  # fmt: skip
    report = sync_arxiv(ctx, categories=["cs.LG"], since=SINCE, page_size=10)
    assert report.ok and report.ingest.new == ALL
    assert _starts(replay) == [0, 10, 10, 20]


def test_an_error_feed_is_reported(ctx: SyncContext, replay: ReplayServer) -> None:
    replay.fail("/api/query", body(replay._arxiv_error("cat:"), 400, "application/atom+xml"))
    report = sync_arxiv(ctx, query="cat:", since=SINCE)
    assert [e.reason for e in report.errors] == [
        "HTTP 400: arXiv says: incorrect id format for cat:"
    ]
    assert report.ingest.new == 0 and len(replay.requests()) == 1


def test_malformed_entries_are_rejected_and_the_rest_stored(
    ctx: SyncContext, replay: ReplayServer
) -> None:
    bad = "<entry><id>http://example.org/not-arxiv</id><title>x</title></entry>"
    feed = FEED_HEAD.replace("<opensearch:totalResults>214881<", "<opensearch:totalResults>3<")
    content = (feed + ARXIV_ENTRIES[0] + bad + ARXIV_ENTRIES[1] + "</feed>").encode()
    replay.fail("/api/query", body(content, content_type="application/atom+xml"))
    report = sync_arxiv(ctx, categories=["cs.LG"], since=SINCE, page_size=3)
    assert report.ingest.new == 2
    (rejected,) = report.rejected
    assert rejected.location == "record 2" and "not an arXiv id" in rejected.reason
    assert "/api/query?" in rejected.origin


def test_a_query_beyond_the_api_limit_is_noted(ctx: SyncContext, replay: ReplayServer) -> None:
    recorded = (FIXTURES / "arxiv_api/format_2026/q_testing_start0_max10.xml").read_bytes()
    replay.fail("/api/query", body(recorded, content_type="application/atom+xml"))
    report = sync_arxiv(ctx, query="all:testing", since=SINCE, page_size=10)
    assert any("214,881 papers" in n and "sync arxiv-oai" in n for n in report.notes)


def test_sync_arxiv_needs_a_subject(ctx: SyncContext) -> None:
    with pytest.raises(ConfigError):
        sync_arxiv(ctx)


# -- add ---------------------------------------------------------------------


def test_add_fetches_papers_by_id_url_and_doi_in_one_request(
    ctx: SyncContext, replay: ReplayServer, services: Services
) -> None:
    refs = [
        "1605.08386",
        "https://arxiv.org/abs/1707.08567v2",
        "arXiv:2104.12255v1",
        "10.48550/arXiv.2202.12139",
        "2501.99999",
        "not an id",
    ]
    report = add_papers(ctx, refs)
    statuses = {p["ref"]: p["status"] for p in report.details["papers"]}
    assert statuses == {
        "1605.08386": "added",
        "https://arxiv.org/abs/1707.08567v2": "added",
        "arXiv:2104.12255v1": "added",
        "10.48550/arXiv.2202.12139": "added",
        "2501.99999": "not_found",
        "not an id": "invalid",
    }
    (request,) = replay.requests("/api/query")
    assert request.query["id_list"] == "1605.08386,1707.08567v2,2104.12255v1,2202.12139,2501.99999"
    assert services.store.paper("1707.08567") is not None
    again = add_papers(ctx, ["1605.08386"])
    assert again.details["papers"][0]["status"] == "unchanged"


def test_add_falls_back_to_one_by_one_when_arxiv_refuses_the_list(
    ctx: SyncContext, replay: ReplayServer
) -> None:
    replay.fail(
        "/api/query", body(replay._arxiv_error("1605.08386,9999.x"), 400, "application/atom+xml")
    )
    report = add_papers(ctx, ["1605.08386", "2104.12255"])
    assert [p["status"] for p in report.details["papers"]] == ["added", "added"]
    assert len(replay.requests("/api/query")) == 3


def _queue(db: Path, refs: list[str]) -> None:
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO submissions (ref, status, created_at, updated_at) "
            "VALUES (?, 'queued', '2026-01-01T00:00:00', '2026-01-01T00:00:00')",
            [(r,) for r in refs],
        )


def test_the_web_submissions_queue_is_processed(
    ctx: SyncContext, services: Services, replay: ReplayServer
) -> None:
    db = services.settings.db
    _queue(db, ["https://arxiv.org/pdf/1605.08386", "1605.08386", "2501.99999", "hello"])
    report = process_submissions(ctx)
    assert report.details["submissions"] == 4
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT ref, arxiv_id, status, error FROM submissions ORDER BY id")
        assert rows.fetchall() == [
            ("https://arxiv.org/pdf/1605.08386", "1605.08386", "fetched", None),
            ("1605.08386", "1605.08386", "fetched", None),
            ("2501.99999", "2501.99999", "failed", "arXiv has no paper 2501.99999"),
            ("hello", None, "failed", "not an arXiv id, arXiv URL or arXiv DOI"),
        ]
    assert len(replay.requests("/api/query")) == 1
    assert process_submissions(ctx).details["submissions"] == 0


def test_a_network_failure_leaves_submissions_queued(
    services: Services, replay: ReplayServer
) -> None:
    _queue(services.settings.db, ["1605.08386"])
    replay.fail("/api/query", *[status(503)] * 2)
    with SyncContext(services, settings_for(replay, max_retries=1)) as ctx:
        report = process_submissions(ctx)
        assert report.errors and "HTTP 503" in report.errors[0].reason
        with sqlite3.connect(services.settings.db) as conn:
            assert conn.execute("SELECT status FROM submissions").fetchone()[0] == "queued"
        process_submissions(ctx)
    with sqlite3.connect(services.settings.db) as conn:
        assert conn.execute("SELECT status FROM submissions").fetchone()[0] == "fetched"
