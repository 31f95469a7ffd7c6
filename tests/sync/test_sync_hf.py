"""``sync hf`` against the replay server: days, re-polls as a time series, bad days, resume."""

from __future__ import annotations

import json
import sqlite3
from datetime import date

import pytest
from replay import ReplayServer, cut, html, settings_for, status

from paperlens.errors import ConfigError
from paperlens.services import Services
from paperlens.sync.hf import hf_days, sync_hf
from paperlens.sync.pages import SyncContext

D1 = date(2024, 5, 29)
D2 = date(2025, 4, 9)


def _series(services: Services, arxiv_id: str, kind: str = "upvotes") -> list[float]:
    paper = services.store.paper(arxiv_id)
    assert paper is not None
    return [s.value for s in paper.signals if s.kind == kind]


def test_a_day_is_stored_with_its_upvotes_and_comments(
    ctx: SyncContext, replay: ReplayServer, services: Services
) -> None:
    report = sync_hf(ctx, [D1])
    assert report.ok, report.to_json()
    assert (report.ingest.new, report.signals, report.pages) == (8, 16, 1)
    (request,) = replay.requests("/api/daily_papers")
    assert request.query == {"date": "2024-05-29", "limit": "100", "p": "0"}
    assert _series(services, "2405.18407") == [18.0]
    paper = services.store.paper("2405.18407")
    assert paper is not None and paper.featured == D1


def test_every_poll_adds_observations_and_never_overwrites(
    ctx: SyncContext, replay: ReplayServer, services: Services
) -> None:
    sync_hf(ctx, [D1])
    again = sync_hf(ctx, [D1])
    assert (again.ingest.new, again.ingest.unchanged, again.signals) == (0, 8, 16)

    def more_upvotes(content: bytes) -> bytes:
        items = json.loads(content)
        for item in items:
            item["paper"]["upvotes"] += 5
        return json.dumps(items).encode()

    replay.hf_transform = more_upvotes
    grown = sync_hf(ctx, [D1])
    assert grown.ingest.new == 0 and grown.ingest.merged == 8 and grown.signals == 16
    assert _series(services, "2405.18407") == [18.0, 18.0, 23.0]
    assert _series(services, "2405.18407", "comments") == [5.0, 5.0, 5.0]
    assert services.store.count() == 8


def test_a_week_is_fetched_as_its_seven_days(ctx: SyncContext, replay: ReplayServer) -> None:
    days = hf_days(today=date(2024, 6, 30), week="2024-W22")
    report = sync_hf(ctx, days)
    asked = [r.query["date"] for r in replay.requests("/api/daily_papers")]
    assert asked == [f"2024-05-{d}" for d in range(27, 32)] + ["2024-06-01", "2024-06-02"]
    assert report.ingest.new == 8 and report.ok


def test_a_day_longer_than_a_page_is_paged(services: Services, replay: ReplayServer) -> None:
    with SyncContext(services, settings_for(replay, hf_page_size=5)) as ctx:
        report = sync_hf(ctx, [D1])
    pages = [(r.query["limit"], r.query["p"]) for r in replay.requests("/api/daily_papers")]
    assert pages == [("5", "0"), ("5", "1")]
    assert report.ingest.new == 8 and report.pages == 2


def test_malformed_items_are_reported_with_the_url_and_the_rest_stored(
    ctx: SyncContext, replay: ReplayServer, services: Services
) -> None:
    def spoil(content: bytes) -> bytes:
        items = json.loads(content)
        return json.dumps([{"paper": 5}, *items, {"paper": {"title": "no id"}}]).encode()

    replay.hf_transform = spoil
    report = sync_hf(ctx, [D1])
    assert report.ingest.new == 8
    assert [(e.location, e.reason) for e in report.rejected] == [
        ("record 1", "'paper' is a number, not an object"),
        ("record 10", "paper has no 'id' string"),
    ]
    assert all("/api/daily_papers?date=2024-05-29" in e.origin for e in report.rejected)
    assert not report.ok


@pytest.mark.parametrize(
    ("fault", "reason"),
    [(html, "HTML page instead of JSON"), (cut, "truncated JSON")],
)
def test_a_bad_day_is_reported_the_others_stored_and_retried_next_run(
    services: Services, replay: ReplayServer, fault: object, reason: str
) -> None:
    replay.fail("/api/daily_papers", *[fault() for _ in range(3)], where={"date": "2024-05-29"})  # type: ignore[operator]
    with SyncContext(services, settings_for(replay)) as ctx:
        first = sync_hf(ctx, [D1, D2])
        assert [e.url.split("?")[1] for e in first.errors] == ["date=2024-05-29&limit=100&p=0"]
        assert reason in first.errors[0].reason
        assert first.ingest.new == 8  # D2 only: nothing of the bad day was written
        with sqlite3.connect(services.settings.db) as conn:
            stored = {r[0] for r in conn.execute("SELECT arxiv_id FROM papers")}
        assert not any(a.startswith("2405.") for a in stored)
        state = ctx.tables.state("hf")
        assert state is not None and not state.done and state.cursor["failed"] == ["2024-05-29"]

        second = sync_hf(ctx, [D1, D2])
        assert second.ok and second.ingest.new == 8
        assert replay.requests()[-1].query["date"] == "2024-05-29"  # only the failed day
        state = ctx.tables.state("hf")
        assert state is not None and state.done


def test_429_mid_run_is_waited_out(ctx: SyncContext, replay: ReplayServer) -> None:
    replay.fail("/api/daily_papers", status(429, Retry_After="1"), where={"date": "2025-04-09"})
    report = sync_hf(ctx, [D1, D2])
    assert report.ok and report.ingest.new == 16
    assert report.fetch["retries"] == 1 and report.fetch["requests"] == 3


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"day": date(2025, 4, 9)}, ["2025-04-09"]),
        ({"since": date(2025, 4, 8)}, ["2025-04-08", "2025-04-09", "2025-04-10"]),
        ({"repoll_days": 1}, ["2025-04-09", "2025-04-10"]),
        ({"repoll_days": 0}, ["2025-04-10"]),
        ({"week": "2025-W15"}, ["2025-04-07", "2025-04-08", "2025-04-09", "2025-04-10"]),
        ({"month": "2023-05"}, [f"2023-05-{d:02d}" for d in range(4, 32)]),
        ({"day": date(2026, 1, 1)}, []),
    ],
)
def test_hf_days(kwargs: dict, expected: list[str]) -> None:  # type: ignore[type-arg]
    days = hf_days(today=date(2025, 4, 10), **kwargs)
    assert [d.isoformat() for d in days] == expected


@pytest.mark.parametrize(
    "kwargs",
    [{"week": "2025-15"}, {"month": "2025-13"}, {"day": D1, "week": "2025-W15"}],
)
def test_hf_days_refuses_bad_input(kwargs: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError):
        hf_days(today=date(2025, 4, 10), **kwargs)


def test_a_parser_failure_is_reported_and_the_run_goes_on(
    ctx: SyncContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from paperlens.sources.hf_daily import HfDaily

    real = HfDaily.parse
    calls: list[str] = []

    def flaky(self: HfDaily, stream: object, origin: str) -> object:
        calls.append(origin)
        if len(calls) == 1:
            raise RuntimeError("parser bug")
        return real(self, stream, origin)  # type: ignore[arg-type]

    monkeypatch.setattr(HfDaily, "parse", flaky)
    report = sync_hf(ctx, [D1, D2])
    assert [(e.location, e.reason) for e in report.rejected] == [
        ("document", "the hf-daily parser failed: parser bug")
    ]
    assert report.ingest.new == 8 and not report.errors
