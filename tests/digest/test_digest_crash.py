"""kill -9 the sender (``paperlens digest send``) at many points; each digest arrives once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from digest_support import SmtpServer, add_records, record

from paperlens.config import Settings
from paperlens.digest import prefs
from paperlens.digest.env import DigestEnv
from paperlens.services import Services
from paperlens.store.digest import DigestStore

SUBSCRIBERS = 24
SECRET = "crash-test-secret"


def _sender_env(db: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERLENS_")}
    env.update(
        PAPERLENS_DB=str(db),
        PAPERLENS_SMTP_HOST="127.0.0.1",
        PAPERLENS_SMTP_PORT=str(port),
        PAPERLENS_SMTP_TIMEOUT="5",
        PAPERLENS_SMTP_DATA_TIMEOUT="5",
        PAPERLENS_MAIL_FROM="paperlens <digest@paperlens.test>",
        PAPERLENS_BASE_URL="http://testserver",
        PAPERLENS_SECRET_KEY=SECRET,
        PAPERLENS_MAIL_RATE_PER_MINUTE="0",
        PAPERLENS_MAIL_RETRY_BASE_SECONDS="0.01",
    )
    return env


def _setup(db: Path, port: int) -> None:
    """A store with today's papers and SUBSCRIBERS daily subscribers, all due now."""
    services = Services(Settings(db=db, embed=False))
    try:
        today = datetime.now(UTC).date()
        records = [
            record(i, f"Paper number {i} on diffusion and attention",
                   day=today - timedelta(days=i % 2), authors=[f"Author {i % 5}"],
                   upvotes=100 - i)
            for i in range(1, 31)
        ]  # fmt: skip
        add_records(services, records)
        from digest_support import digest_settings

        env = DigestEnv(services, digest_settings(port, secret_key=SECRET))
        for n in range(SUBSCRIBERS):
            sub = env.db.insert_subscription(
                f"reader{n}@example.org",
                now=datetime.now(UTC) - timedelta(days=10),
                status="active",
                cadence="daily",
                send_hour=0,
                trending_count=3,
            )
            if n % 2:
                prefs.follow(env, sub.id, "author", f"Author {n % 5}")
            if n % 3 == 0:
                prefs.save_search(env, sub.id, "diffusion attention")
    finally:
        services.close()


def _start(db: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from paperlens.cli import main; main()",
            "digest",
            "send",
            "--json",
        ],
        env=_sender_env(db, port),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_sigkill_at_many_points_then_each_digest_arrives_exactly_once(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    db = tmp_path / "crash.db"
    _setup(db, smtp_server.port)
    rng = random.Random(6)
    # (server event at which to kill, which occurrence in this run) — or a plain delay.
    plan: list[tuple[str, int | float]] = [
        ("mail", 1), ("rcpt", 2), ("data", 1), ("data+", 2), ("rcpt", 3),
        ("data", rng.randint(1, 3)), ("mail", rng.randint(2, 4)), ("data+", 1),
        ("time", 0.3), ("time", rng.uniform(0.5, 3.0)),
    ]  # fmt: skip
    killed = 0
    for point, nth in plan:
        proc = _start(db, smtp_server.port)
        seen: Counter[str] = Counter()
        lock = threading.Lock()

        def on_event(name: str, proc: subprocess.Popen[str] = proc, point: str = point,
                     nth: int | float = nth, seen: Counter[str] = seen,
                     lock: threading.Lock = lock) -> None:  # fmt: skip
            with lock:
                seen[name] += 1
                if name == point and seen[name] == nth and proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)

        smtp_server.behaviour.on_event = on_event if point != "time" else None
        if point == "time":
            deadline = time.monotonic() + float(nth)
            while proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
        try:
            _out, errors = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        smtp_server.behaviour.on_event = None
        if proc.returncode == -signal.SIGKILL:
            killed += 1
        else:
            assert proc.returncode == 0, errors
    assert killed >= 6, f"only {killed} runs were killed mid-way"

    final = _start(db, smtp_server.port)
    _out, errors = final.communicate(timeout=120)
    assert final.returncode == 0, errors

    received = Counter(str(m.message["Message-ID"]) for m in smtp_server.messages)
    duplicates = {mid: n for mid, n in received.items() if n > 1}
    assert not duplicates, f"sent more than once: {duplicates}"
    recipients = Counter(m.rcpt_tos[0] for m in smtp_server.messages)
    assert sorted(recipients) == sorted(f"reader{n}@example.org" for n in range(SUBSCRIBERS))
    assert set(recipients.values()) == {1}

    services = Services(Settings(db=db, embed=False))
    try:
        rows = DigestStore(services.store).outbox(states=())
    finally:
        services.close()
    assert len(rows) == SUBSCRIBERS
    states = Counter(r.state for r in rows)
    print(f"killed {killed} runs; final states {dict(states)}")
    assert set(states) <= {"sent", "unknown"}
    for row in rows:
        assert received[str(row.message_id)] == 1, row
