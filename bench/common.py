"""Shared bench plumbing: run a command, measure wall time and peak RSS, write JSON results."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"
DATA = Path(__file__).resolve().parent / "data"


def corpus_path(n: int) -> Path:
    """The synthetic arXiv JSONL corpus of ``n`` records (``gen_corpus.py`` writes it)."""
    return DATA / f"arxiv-{n}.jsonl"


def ingest_db(n: int) -> Path:
    """The store ``ingest.py`` builds from ``corpus_path(n)`` (``ingest_floor.py`` replays it)."""
    return DATA / f"bench-{n}.db"


def machine() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run ``cmd``; return (wall seconds, peak RSS in MB of the child, stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})}
    )
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{cmd} failed with {status}")
    return wall, usage.ru_maxrss // 1024, out


def write(name: str, result: dict[str, Any]) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps({**result, "machine": machine()}, indent=2) + "\n")
    return path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]
