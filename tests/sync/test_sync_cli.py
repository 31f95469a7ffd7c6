"""The sync commands as a user runs them: real subprocesses, the replay server, kill -9."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from replay import ARXIV_ENTRIES, OAI_RECORDS, ReplayServer, hold, html, slow

Dump = Callable[[Path], list[tuple[object, ...]]]

COMMANDS = [
    ["sync", "arxiv"], ["sync", "arxiv-oai"], ["sync", "hf"], ["sync", "status"],
    ["enrich"], ["add"], ["reparse"],
]  # fmt: skip


def _env(replay: ReplayServer, db: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **replay.env(),
        "PAPERLENS_DB": str(db),
        "PAPERLENS_CONTACT_EMAIL": "cli-tests@example.org",
        "PAPERLENS_ARXIV_PACING_S": "0",
        "PAPERLENS_HF_PACING_S": "0",
        "PAPERLENS_S2_PACING_S": "0",
        "PAPERLENS_BACKOFF_BASE_S": "0.02",
        "PAPERLENS_READ_TIMEOUT_S": "5",
        **extra,
    }


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "paperlens", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paperlens", *args],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _arxiv_ids(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT arxiv_id FROM papers ORDER BY key")]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_every_command_has_help(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "paperlens", *command, "--help"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0 and "Usage:" in result.stdout
    assert "--json" in result.stdout or command == ["sync"]


def test_sync_hf_summary_and_json(tmp_path: Path, replay: ReplayServer) -> None:
    env = _env(replay, tmp_path / "p.db")
    shown = _run(["sync", "hf", "--date", "2024-05-29", "--no-index"], env)
    assert shown.returncode == 0, shown.stderr
    for row in ("requests", "new papers", "papers updated", "signals recorded", "errors"):
        assert row in shown.stdout
    as_json = _run(["sync", "hf", "--date", "2024-05-29", "--json", "--no-index"], env)
    data = json.loads(as_json.stdout)
    assert (data["requests"], data["new"], data["unchanged"], data["signals"]) == (1, 0, 8, 16)
    assert data["errors"] == [] and data["kind"] == "hf"


def test_failed_pages_exit_1_with_url_and_reason(tmp_path: Path, replay: ReplayServer) -> None:
    replay.fail("/api/daily_papers", *[html() for _ in range(3)], where={"date": "2024-05-29"})
    env = _env(replay, tmp_path / "p.db")
    result = _run(["sync", "hf", "--week", "2024-W22", "--no-index"], env)
    assert result.returncode == 1
    assert "/api/daily_papers?date=2024-05-29&limit=100&p=0: an HTML page instead of JSON" in (
        " ".join(result.stderr.split())
    )


@pytest.mark.parametrize(
    "args",
    [
        ["sync", "hf", "--date", "yesterday"],
        ["sync", "hf", "--week", "2024-22"],
        ["sync", "hf", "--date", "2024-05-29", "--month", "2024-05"],
        ["sync", "arxiv"],
        ["sync", "arxiv-oai", "--from", "2024/01/01"],
        ["add"],
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, replay: ReplayServer, args: list[str]) -> None:
    result = _run(args, _env(replay, tmp_path / "p.db"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr


def test_a_bad_setting_is_a_usage_error(tmp_path: Path, replay: ReplayServer) -> None:
    env = _env(replay, tmp_path / "p.db", PAPERLENS_ARXIV_API_URL="export.arxiv.org")
    result = _run(["sync", "arxiv", "-c", "cs.LG"], env)
    assert result.returncode == 2 and "PAPERLENS_ARXIV_API_URL" in result.stderr


def test_add_and_queue_from_the_command_line(tmp_path: Path, replay: ReplayServer) -> None:
    env = _env(replay, tmp_path / "p.db")
    result = _run(["add", "1605.08386", "https://arxiv.org/abs/1707.08567", "--json"], env)
    assert result.returncode == 0, result.stderr
    papers = json.loads(result.stdout)["papers"]
    assert [p["status"] for p in papers] == ["added", "added"]
    assert all(p["paper_id"].startswith("pl_") for p in papers)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate()  # reap it and close its pipes


def _kill_when(replay: ReplayServer, proc: subprocess.Popen[bytes], seen: Callable) -> None:  # type: ignore[type-arg]
    replay.wait_for(seen, timeout=60)
    _kill(proc)


@pytest.mark.slow
def test_kill_9_mid_arxiv_sync_resumes_without_duplicates_or_gaps(
    tmp_path: Path, replay: ReplayServer, db_dump: Dump
) -> None:
    args = ["sync", "arxiv", "-c", "cs.LG", "--since", "2026-01-01", "--page-size", "2",
            "--no-index", "--json"]  # fmt: skip
    reference = tmp_path / "reference.db"
    done = _run(args, _env(replay, reference))
    assert done.returncode == 0, done.stderr
    assert len(_arxiv_ids(reference)) == len(ARXIV_ENTRIES)

    crashed = tmp_path / "crashed.db"
    release = threading.Event()
    replay.fail("/api/query", hold(release), where={"start": "10"})
    proc = _start(args, _env(replay, crashed))
    _kill_when(replay, proc, lambda log: any(r.query.get("start") == "10" for r in log[12:]))
    release.set()
    assert _arxiv_ids(crashed) == _arxiv_ids(reference)[:10]  # pages 0-8 committed, no more

    before = len(replay.requests())
    rerun = _run(args, _env(replay, crashed))
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["resumed"].startswith("start=10 ")
    assert replay.requests()[before].query["start"] == "10"
    assert summary["new"] == len(ARXIV_ENTRIES) - 10
    assert db_dump(crashed) == db_dump(reference)


@pytest.mark.slow
def test_kill_9_at_random_moments_converges_to_the_uninterrupted_result(
    tmp_path: Path, replay: ReplayServer, db_dump: Dump
) -> None:
    args = ["sync", "arxiv", "-c", "cs.LG", "--since", "2026-01-01", "--page-size", "1",
            "--no-index", "--json"]  # fmt: skip
    reference = tmp_path / "reference.db"
    assert _run(args, _env(replay, reference)).returncode == 0

    crashed = tmp_path / "crashed.db"
    rng = random.Random(7)
    env = _env(replay, crashed)
    kills = 0
    partial: list[int] = []  # papers stored at each kill
    for _ in range(40):
        replay.fail("/api/query", *[slow(0.02) for _ in range(40)])
        proc = _start(args, env)
        # Kill after a random number of requests rather than a random time, so
        # the test means the same on a fast machine and a loaded one.
        target = len(replay.requests()) + rng.randint(1, 6)
        while proc.poll() is None:
            try:
                replay.wait_for(lambda log, t=target: len(log) >= t, timeout=0.5)
            except TimeoutError:
                continue
            if proc.poll() is None:
                _kill(proc)
                kills += 1
                if crashed.exists():
                    partial.append(len(_arxiv_ids(crashed)))
            break
        if proc.returncode in (-signal.SIGKILL, None):
            continue
        _out, err = proc.communicate()
        assert proc.returncode == 0, err.decode()
        break
    else:
        pytest.fail("the sync never finished")
    with replay.lock:
        replay.faults.clear()
    assert kills >= 1 and any(0 < n < len(ARXIV_ENTRIES) for n in partial), partial
    assert db_dump(crashed) == db_dump(reference)
    ids = _arxiv_ids(crashed)
    assert len(ids) == len(set(ids)) == len(ARXIV_ENTRIES)


@pytest.mark.slow
def test_kill_9_mid_oai_harvest_resumes_with_the_stored_token(
    tmp_path: Path, replay: ReplayServer, db_dump: Dump
) -> None:
    args = ["sync", "arxiv-oai", "--set", "physics:hep-ex", "--from", "2017-12-14",
            "--no-index", "--json"]  # fmt: skip
    reference = tmp_path / "reference.db"
    assert _run(args, _env(replay, reference)).returncode == 0

    crashed = tmp_path / "crashed.db"
    release = threading.Event()
    replay.fail("/oai", hold(release), where={"resumptionToken": "tok-3"})
    proc = _start(args, _env(replay, crashed))
    _kill_when(replay, proc, lambda log: any(r.query.get("resumptionToken") == "tok-3"
                                             for r in log[len(OAI_RECORDS):]))  # fmt: skip
    release.set()
    assert len(_arxiv_ids(crashed)) == 3

    before = len(replay.requests())
    rerun = _run(args, _env(replay, crashed))
    assert rerun.returncode == 0, rerun.stderr
    assert replay.requests()[before].query == {"verb": "ListRecords", "resumptionToken": "tok-3"}
    assert json.loads(rerun.stdout)["new"] == 2
    assert db_dump(crashed) == db_dump(reference)


@pytest.mark.slow
def test_kill_9_mid_hf_sync_resumes_at_the_day_it_stopped(
    tmp_path: Path, replay: ReplayServer, db_dump: Dump
) -> None:
    args = ["sync", "hf", "--week", "2024-W22", "--no-index", "--json"]
    env_extra = {"PAPERLENS_HF_PAGE_SIZE": "3"}  # 2024-05-29 takes three pages
    reference = tmp_path / "reference.db"
    assert _run(args, _env(replay, reference, **env_extra)).returncode == 0
    per_run = len(replay.requests())

    crashed = tmp_path / "crashed.db"
    release = threading.Event()
    replay.fail("/api/daily_papers", hold(release), where={"date": "2024-05-29", "p": "2"})
    proc = _start(args, _env(replay, crashed, **env_extra))
    _kill_when(replay, proc, lambda log: any(r.query.get("p") == "2" for r in log[per_run:]))
    release.set()
    assert len(_arxiv_ids(crashed)) == 6  # two pages of the day were committed

    before = len(replay.requests())
    rerun = _run(args, _env(replay, crashed, **env_extra))
    assert rerun.returncode == 0, rerun.stderr
    first = replay.requests()[before].query
    assert (first["date"], first["p"]) == ("2024-05-29", "2")
    assert json.loads(rerun.stdout)["new"] == 2
    assert db_dump(crashed) == db_dump(reference)
