"""The scheduler behind ``paperlens worker``: run each feature's jobs at their times.

Jobs come from ``paperlens.jobs.collect_jobs()`` (digest, sync, ...). When a
job last started and finished is kept in the database (``worker_jobs``), so a
restarted worker neither repeats a job early nor forgets one that a crash cut
short (started after it last finished: due at once). Jobs are written to be
run again after a crash (the digest outbox is exactly-once), so the worker
needs no more bookkeeping than that.

One worker per database: a lock file in the data dir refuses a second one.
SIGTERM/SIGINT stop the loop between jobs; a running job is asked to stop
through ``stop`` only if it takes one (the digest job stops between two
messages when the process is told to).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from paperlens.errors import PaperlensError
from paperlens.jobs import Job
from paperlens.services import Services
from paperlens.store.digest import DigestStore, parse_ts

logger = logging.getLogger(__name__)

MAX_NAP = 60.0  # re-read the schedule at least this often
_STOP: ContextVar[threading.Event | None] = ContextVar("paperlens_worker_stop", default=None)


def stop_requested() -> bool:
    """True inside a job when the worker has been told to stop (SIGTERM/SIGINT).

    ``Job.run`` takes only ``services``, so a job that can stop half-way (the
    digest job, between two messages) asks here.
    """
    event = _STOP.get()
    return event is not None and event.is_set()


class WorkerBusy(PaperlensError):
    """Another worker holds this database's lock."""


@dataclass(slots=True)
class JobRun:
    """One run of one job."""

    name: str
    started_at: datetime
    seconds: float
    ok: bool
    summary: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"job": self.name, "started_at": self.started_at.isoformat(), "ok": self.ok,
                "seconds": round(self.seconds, 3), "summary": self.summary}  # fmt: skip


class WorkerLock:
    """An exclusive ``flock`` on ``<data dir>/worker.lock``, released when the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def __enter__(self) -> WorkerLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = self.path.open("a+", encoding="ascii")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "?"
            f.close()
            raise WorkerBusy(
                f"{self.path}: another paperlens worker (pid {holder}) is running on this database"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        self._file = f
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class Worker:
    """Runs due jobs; ``run_once`` for one pass, ``run_forever`` for the daemon."""

    def __init__(
        self,
        services: Services,
        jobs: Sequence[Job],
        *,
        on_run: Callable[[JobRun], None] | None = None,
    ) -> None:
        self.services = services
        self.jobs = list(jobs)
        self.db = DigestStore(services.store)
        self.on_run = on_run
        self.stop = threading.Event()

    def next_due(self, job: Job, times: dict[str, tuple[str | None, str | None, bool | None]]
                 ) -> datetime | None:  # fmt: skip
        """When ``job`` is next due; None means now (never ran, or a run was cut short)."""
        started, finished, _ok = times.get(job.name, (None, None, None))
        start, end = parse_ts(started), parse_ts(finished)
        if start is None or end is None or end < start:
            return None
        return end + job.every

    def due_jobs(self, now: datetime) -> list[Job]:
        times = self.db.job_times()
        due = []
        for job in self.jobs:
            when = self.next_due(job, times)
            if when is None or when <= now:
                due.append(job)
        return due

    def seconds_to_next(self, now: datetime) -> float:
        times = self.db.job_times()
        waits = []
        for job in self.jobs:
            when = self.next_due(job, times)
            waits.append(0.0 if when is None else max((when - now).total_seconds(), 0.0))
        return min(waits, default=MAX_NAP)

    def run_job(self, job: Job) -> JobRun:
        started = self.services.clock()
        self.db.job_started(job.name, started)
        logger.info("job %s: started", job.name)
        t0 = time.perf_counter()
        token = _STOP.set(self.stop)
        try:
            summary = job.run(self.services)
            ok = True
        except Exception as exc:  # one failing job must not stop the others
            logger.exception("job %s failed", job.name)
            summary, ok = {"error": f"{type(exc).__name__}: {exc}"}, False
        finally:
            _STOP.reset(token)
        seconds = time.perf_counter() - t0
        self.db.job_finished(job.name, self.services.clock(), ok=ok, summary=summary)
        run = JobRun(job.name, started, seconds, ok, summary)
        logger.info("job %s: %s in %.2f s: %s", job.name, "done" if ok else "FAILED",
                    seconds, _short(summary))  # fmt: skip
        if self.on_run:
            self.on_run(run)
        return run

    def run_once(self) -> list[JobRun]:
        """Run every job that is due now, once, in order."""
        runs = []
        for job in self.due_jobs(self.services.clock()):
            if self.stop.is_set():
                break
            runs.append(self.run_job(job))
        return runs

    def run_forever(self) -> None:
        """Run due jobs until ``stop`` is set, sleeping until the next one is due."""
        logger.info("worker started with jobs: %s",
                    ", ".join(f"{j.name} every {_every(j.every)}" for j in self.jobs))  # fmt: skip
        while not self.stop.is_set():
            self.run_once()
            nap = min(self.seconds_to_next(self.services.clock()), MAX_NAP)
            if nap > 0:
                self.stop.wait(nap)
        logger.info("worker stopped")


def _every(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def _short(summary: dict[str, Any], width: int = 300) -> str:
    text = ", ".join(f"{k}={v}" for k, v in summary.items() if v not in (None, [], {}, 0))
    return text if len(text) <= width else text[: width - 1] + "…"
