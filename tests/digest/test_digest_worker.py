"""The worker's schedule survives restarts; its digest job sends once; the CLI commands work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from digest_support import Clock, SmtpServer, active_subscriber, text_part

from paperlens.digest import prefs
from paperlens.digest.env import DigestEnv
from paperlens.jobs import Job
from paperlens.model import Record
from paperlens.services import Services
from paperlens.worker import Worker, WorkerBusy, WorkerLock, stop_requested


def _counting_job(name: str, every: timedelta, calls: list[str]) -> Job:
    def run(services: Services) -> dict[str, Any]:
        calls.append(name)
        return {"n": len(calls)}

    return Job(name=name, every=every, run=run)


def test_jobs_run_when_due_and_restarts_do_not_repeat_them(services: Services) -> None:
    clock: Clock = services.clock  # type: ignore[assignment]
    calls: list[str] = []
    jobs = [
        _counting_job("fast", timedelta(minutes=1), calls),
        _counting_job("slow", timedelta(hours=1), calls),
    ]
    assert [r.name for r in Worker(services, jobs).run_once()] == ["fast", "slow"]
    assert Worker(services, jobs).run_once() == []  # a restarted worker: nothing is due yet
    clock.advance(minutes=1)
    assert [r.name for r in Worker(services, jobs).run_once()] == ["fast"]
    clock.advance(hours=1)
    assert [r.name for r in Worker(services, jobs).run_once()] == ["fast", "slow"]
    assert Worker(services, jobs).seconds_to_next(clock.now) == 60.0


def test_a_job_cut_short_is_due_at_once_and_a_failing_job_does_not_stop_others(
    services: Services,
) -> None:
    calls: list[str] = []

    def boom(services: Services) -> dict[str, Any]:
        raise RuntimeError("no network")

    jobs = [Job("broken", timedelta(hours=1), boom), _counting_job("ok", timedelta(hours=1), calls)]
    worker = Worker(services, jobs)
    runs = worker.run_once()
    assert [(r.name, r.ok) for r in runs] == [("broken", False), ("ok", True)]
    assert runs[0].summary == {"error": "RuntimeError: no network"}
    # a crash between start and finish leaves started_at > finished_at
    worker.db.job_started("ok", services.clock() + timedelta(seconds=1))
    assert [j.name for j in Worker(services, jobs).due_jobs(services.clock())] == ["ok"]


def test_stop_is_visible_inside_a_job_and_ends_the_loop(services: Services) -> None:
    seen: list[bool] = []
    worker: Worker

    def job(services: Services) -> dict[str, Any]:
        seen.append(stop_requested())
        worker.stop.set()
        seen.append(stop_requested())
        return {}

    worker = Worker(services, [Job("once", timedelta(minutes=1), job)])
    thread = threading.Thread(target=worker.run_forever)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert seen == [False, True]
    assert stop_requested() is False  # outside a job


def test_one_worker_per_database(tmp_path: Path) -> None:
    path = tmp_path / "worker.lock"
    with WorkerLock(path), pytest.raises(WorkerBusy, match=str(os.getpid())):
        WorkerLock(path).__enter__()
    with WorkerLock(path):  # released
        pass


def test_digest_job_through_the_worker_sends_once(
    env: DigestEnv, papers: list[Record], smtp_server: SmtpServer
) -> None:
    from paperlens.digest.jobs import JOBS

    services = env.services
    clock: Clock = services.clock  # type: ignore[assignment]
    active_subscriber(env, cadence="daily")
    os.environ["PAPERLENS_SMTP_PORT"] = str(smtp_server.port)
    os.environ["PAPERLENS_SECRET_KEY"] = "worker-test"
    try:
        runs = Worker(services, JOBS).run_once()
        assert runs[0].ok, runs[0].summary
        assert runs[0].summary["queued"] == 1
        assert len(smtp_server.messages) == 1
        clock.advance(minutes=1)
        again = Worker(services, JOBS).run_once()  # "restarted"
        assert again[0].summary["already_queued"] == 1
        assert len(smtp_server.messages) == 1
    finally:
        del os.environ["PAPERLENS_SMTP_PORT"], os.environ["PAPERLENS_SECRET_KEY"]


def _cli(db: Path, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERLENS_")}
    env.update(
        PAPERLENS_DB=str(db),
        PAPERLENS_SMTP_PORT=str(port),
        PAPERLENS_MAIL_FROM="paperlens <digest@paperlens.test>",
        PAPERLENS_BASE_URL="http://testserver",
        PAPERLENS_SECRET_KEY="cli-test",
        PAPERLENS_MAIL_RATE_PER_MINUTE="0",
        PAPERLENS_SYNC_HF_EVERY="0",
        PAPERLENS_ENRICH_EVERY="0",
    )
    return subprocess.run(
        [sys.executable, "-c", "from paperlens.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_cli_preview_send_and_worker(
    env: DigestEnv, papers: list[Record], smtp_server: SmtpServer, tmp_path: Path
) -> None:
    db = env.services.settings.db
    sub = active_subscriber(env, "cli@example.org", cadence="daily", send_hour=0, timezone="UTC")
    prefs.follow(env, sub, "author", "Jane Doe")
    env.services.close()

    shown = _cli(db, smtp_server.port, "digest", "preview", "--email", "CLI@example.org")
    assert shown.returncode == 0, shown.stderr
    assert "Subject: paperlens:" in shown.stdout and "you follow Jane Doe" in shown.stdout
    eml = tmp_path / "next.eml"
    saved = _cli(db, smtp_server.port, "digest", "preview", "--email", "cli@example.org",
                 "--out", str(eml))  # fmt: skip
    assert saved.returncode == 0 and eml.read_bytes().startswith(b"From:")
    missing = _cli(db, smtp_server.port, "digest", "preview", "--email", "nobody@example.org")
    assert missing.returncode == 1 and "no subscription" in missing.stderr
    bad = _cli(db, smtp_server.port, "digest", "preview", "--email", "a@b\nBcc: c@d")
    assert bad.returncode == 2

    dry = _cli(db, smtp_server.port, "digest", "send", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["dry_run"] and report["queued"] == 1 and report["delivery"] is None
    assert smtp_server.messages == []

    worker = _cli(db, smtp_server.port, "worker", "--once", "--json")
    lines = [json.loads(line) for line in worker.stdout.splitlines()]
    digest_runs = [line for line in lines if line["job"] == "digest"]
    assert digest_runs and digest_runs[0]["ok"], worker.stderr
    assert digest_runs[0]["summary"]["delivery"]["sent"] == 1
    (received,) = smtp_server.messages
    assert "you follow Jane Doe" in text_part(received.message)

    sent = _cli(db, smtp_server.port, "digest", "send", "--json")
    assert sent.returncode == 0 and json.loads(sent.stdout)["already_queued"] == 1
    assert len(smtp_server.messages) == 1
    status = _cli(db, smtp_server.port, "digest", "status", "--json")
    assert json.loads(status.stdout)["outbox"] == {"sent": 1}
