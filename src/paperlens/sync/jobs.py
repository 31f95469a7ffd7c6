"""The syncs as worker jobs (``paperlens worker`` collects ``JOBS``).

``JOBS`` is built when it is first read, from the environment as it is then
(``PAPERLENS_SYNC_HF_EVERY``, ``PAPERLENS_ARXIV_CATEGORIES``, ...), so the
schedule is configuration and no settings object lives at module level.
A sync whose subject is not configured (no categories, no OAI set) is not
scheduled, nor one whose interval is set to 0 (``PAPERLENS_SYNC_HF_EVERY=0``).
A job started by the worker stops between two pages when the worker is told
to stop (SIGTERM), leaving its cursor at the last stored page. Every job is
safe to run again after a crash: each resumes from its cursor in ``sync_state``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from paperlens.jobs import Job
from paperlens.services import Services
from paperlens.sync.pages import SyncContext, SyncReport
from paperlens.sync.settings import SyncSettings

logger = logging.getLogger(__name__)

SUBMISSIONS_EVERY = timedelta(minutes=1)


def _summary(services: Services, report: SyncReport) -> dict[str, Any]:
    """The report for the worker's log; the keyword index catches up when papers changed."""
    data = report.to_json()
    data["rejected"] = len(report.rejected)
    data.pop("papers", None)
    if report.ingest.new or report.ingest.updated:
        try:
            data["keyword_indexed"] = services.sync_keyword()
        except Exception as exc:  # the index can be rebuilt; the papers are stored
            logger.warning("keyword index not updated after %s: %s", report.kind, exc)
    return data


def _job(name: str, every: timedelta, work: Callable[[SyncContext], SyncReport]) -> Job:
    def run(services: Services) -> dict[str, Any]:
        from paperlens.worker import stop_requested

        with SyncContext(services, SyncSettings(), should_stop=stop_requested) as ctx:
            return _summary(services, work(ctx))

    return Job(name=name, every=every, run=run)


def build_jobs(settings: SyncSettings) -> list[Job]:
    """The sync jobs this configuration asks for."""
    from paperlens.sync.add import process_submissions
    from paperlens.sync.arxiv import sync_arxiv
    from paperlens.sync.enrich import enrich
    from paperlens.sync.hf import hf_days, sync_hf
    from paperlens.sync.oai import sync_oai

    def hf(ctx: SyncContext) -> SyncReport:
        days = hf_days(today=ctx.now().date(), repoll_days=ctx.settings.hf_repoll_days)
        return sync_hf(ctx, days)

    jobs = [
        _job("sync-submissions", SUBMISSIONS_EVERY, process_submissions),
        _job("sync-hf", settings.sync_hf_every, hf),
        _job("enrich", settings.enrich_every, lambda c: enrich(c, limit=c.settings.enrich_limit)),
    ]
    if settings.arxiv_categories:
        jobs.append(
            _job(
                "sync-arxiv",
                settings.sync_arxiv_every,
                lambda c: sync_arxiv(c, categories=c.settings.arxiv_categories),
            )
        )
    if settings.oai_set:
        jobs.append(
            _job(
                "sync-arxiv-oai",
                settings.sync_oai_every,
                lambda c: sync_oai(c, set_spec=c.settings.oai_set),
            )
        )
    return [job for job in jobs if job.every > timedelta(0)]


def __getattr__(name: str) -> Any:
    if name == "JOBS":
        return build_jobs(SyncSettings())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
