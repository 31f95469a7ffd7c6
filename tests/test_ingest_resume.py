"""Kill an ingest with SIGKILL mid-file, run it again, and get the uninterrupted result."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "kaggle_snapshot"
N_RECORDS = 20_000


def _corpus(path: Path) -> None:
    """Real snapshot records, repeated under fresh ids so the file is large."""
    lines = [
        json.loads(line)
        for f in sorted(FIXTURE.glob("*.jsonl"))
        for line in f.read_text(encoding="utf-8").splitlines()
    ]
    with path.open("w", encoding="utf-8") as out:
        for i in range(N_RECORDS):
            record = dict(lines[i % len(lines)])
            record["id"] = f"19{(i // 99_999) % 12 + 1:02d}.{i % 99_999:05d}"
            record["doi"] = None
            record["title"] = f"{record['title']} (copy {i})"
            out.write(json.dumps(record) + "\n")


def _ingest(db: Path, corpus: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PAPERLENS_DB": str(db), "PAPERLENS_BATCH_SIZE": "500"}
    return subprocess.Popen(
        [sys.executable, "-m", "paperlens", "ingest", str(corpus), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _position(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            row = conn.execute("SELECT max(position) FROM checkpoints").fetchone()
        return int(row[0] or 0)
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_sigkill_mid_ingest_then_rerun_equals_uninterrupted(tmp_path: Path, db_dump: Any) -> None:
    corpus = tmp_path / "big.jsonl"
    _corpus(corpus)

    reference = tmp_path / "reference.db"
    done = _ingest(reference, corpus)
    _out, err = done.communicate(timeout=600)
    assert done.returncode == 0, err.decode()

    crashed = tmp_path / "crashed.db"
    proc = _ingest(crashed, corpus)
    deadline = time.monotonic() + 300
    while _position(crashed) < 3000:
        assert proc.poll() is None, "ingest finished before it could be killed"
        assert time.monotonic() < deadline, "ingest made no progress"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    interrupted_at = _position(crashed)
    assert 0 < interrupted_at < N_RECORDS

    rerun = _ingest(crashed, corpus)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err.decode()
    summary = json.loads(out)
    assert summary["resumed_after"] == interrupted_at
    got, want = db_dump(crashed), db_dump(reference)
    if got != want:
        diff = [(a, b) for a, b in zip(got, want, strict=False) if a != b][:3]
        raise AssertionError(f"{len(got)} vs {len(want)} rows; first differences: {diff}")
    with sqlite3.connect(crashed) as conn:
        assert conn.execute("SELECT count(*) FROM papers").fetchone()[0] == N_RECORDS
