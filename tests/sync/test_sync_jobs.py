"""The syncs as worker jobs: built from the environment, each run resumable and summarised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from replay import ReplayServer

from paperlens.config import Settings
from paperlens.jobs import collect_jobs
from paperlens.services import Services


@pytest.fixture
def env(replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> ReplayServer:
    for key, value in replay.env().items():
        monkeypatch.setenv(key, value)
    for key in ("ARXIV_PACING_S", "HF_PACING_S", "S2_PACING_S"):
        monkeypatch.setenv(f"PAPERLENS_{key}", "0")
    return replay


def _sync_jobs() -> dict[str, object]:
    return {j.name: j for j in collect_jobs() if j.name.startswith(("sync-", "enrich"))}


def test_jobs_follow_the_configuration(env: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(_sync_jobs()) == {"sync-submissions", "sync-hf", "enrich"}
    monkeypatch.setenv("PAPERLENS_ARXIV_CATEGORIES", "cs.LG,cs.CL")
    monkeypatch.setenv("PAPERLENS_OAI_SET", "cs")
    monkeypatch.setenv("PAPERLENS_SYNC_HF_EVERY", "PT30M")
    jobs = _sync_jobs()
    assert set(jobs) == {"sync-submissions", "sync-hf", "enrich", "sync-arxiv", "sync-arxiv-oai"}
    assert jobs["sync-hf"].every == timedelta(minutes=30)  # type: ignore[attr-defined]


def test_the_hf_job_polls_the_recent_days(env: ReplayServer, tmp_path: object) -> None:
    now = datetime(2024, 6, 1, 12, tzinfo=UTC)
    services = Services(Settings(db=tmp_path / "p.db", embed=False), clock=lambda: now)  # type: ignore[operator]
    try:
        summary = _sync_jobs()["sync-hf"].run(services)  # type: ignore[attr-defined]
    finally:
        services.close()
    days = [r.query["date"] for r in env.requests("/api/daily_papers")]
    assert days == [f"2024-05-{d}" for d in range(25, 32)] + ["2024-06-01"]
    assert summary["new"] == 8 and summary["signals"] == 16 and summary["errors"] == []


def test_an_interval_of_zero_disables_a_job(
    env: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERLENS_SYNC_HF_EVERY", "0")
    monkeypatch.setenv("PAPERLENS_ENRICH_EVERY", "0")
    assert set(_sync_jobs()) == {"sync-submissions"}


def test_a_stop_request_ends_the_run_after_a_stored_page(
    env: ReplayServer, services: Services
) -> None:
    from datetime import date

    from replay import settings_for

    from paperlens.sync.hf import sync_hf
    from paperlens.sync.pages import SyncContext

    asked: list[int] = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) >= 2

    with SyncContext(services, settings_for(env), should_stop=stop) as ctx:
        days = [date(2024, 5, 28), date(2024, 5, 29), date(2024, 5, 30)]
        report = sync_hf(ctx, days)
        assert report.notes == ["stopped on request; the next run resumes from here"]
        state = ctx.tables.state("hf")
        assert state is not None and not state.done and state.cursor["index"] == 2
        ctx.should_stop = None
        resumed = sync_hf(ctx, days)
    assert resumed.resumed == "day 3 of 3"
    assert [r.query["date"] for r in env.requests()] == ["2024-05-28", "2024-05-29", "2024-05-30"]
