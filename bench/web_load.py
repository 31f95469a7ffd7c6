"""Load-test the web pages at N concurrent clients: home/trending, search, paper pages.

Starts a real ``paperlens serve`` over ``--db`` (build one with
``bench/ingest.py --n 1000000``) and drives it with ``wrk`` (``apt-get install
-y wrk``): a C load generator, so the 2 cores go to the server rather than to a
Python client (an asyncio+httpx client used most of a core itself). Each page
kind runs ``--clients`` keep-alive connections, closed loop (a client sends its
next request as soon as the last one answered), for ``--seconds``; wrk reports
requests/s and latency percentiles from every request.

Page kinds, each drawn at random per request from its own list of paths:

- ``home_trending``: ``/`` and the daily, weekly and monthly pages of the latest day;
- ``search_repeated``: 256 queries (16 typical ones and 240 generated 2–6 word
  queries), so after the first round they come from the page cache, as popular
  queries do;
- ``search_unique``: 20,000 generated queries, nearly every one rendered;
- ``paper``: every paper of the store in random order (a million pages: nearly
  every request renders);
- ``paper_similar``: the similar-papers fragment the paper page loads after itself.

Every request carries a CSRF cookie, as a returning browser's does. Each kind
is first warmed up for ``--warmup`` seconds at 5 clients (not measured).
``--rendered`` adds an (unknown) session cookie, which bypasses the anonymous
page cache: every request renders, the worst case. ``--seed-votes`` first adds
synthetic upvote observations (source ``bench``) to the latest month's papers,
so trending has signals to score, as a live site does.

    python bench/web_load.py --db bench/data/web-1000000.db --seed-votes
    python bench/web_load.py --db bench/data/web-1000000.db --rendered
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write
from search import queries

TYPICAL = [
    "diffusion", "neural network", "graph learning", "reinforcement learning policy",
    "language model", "image segmentation", "quantum", "optimization convex",
    "transformer attention", "robot", "\"deep learning\"", "bayesian inference",
    "contrastive", "generative adversarial", "sparse", "federated learning privacy",
]  # fmt: skip
_CLI = "from paperlens.cli import main; main()"
# Picks a random path per request; prints one parseable line at the end.
_LUA = r"""
local headers = {Cookie = os.getenv("BENCH_COOKIE")}
if os.getenv("BENCH_HTMX") ~= "" then
  headers["HX-Request"] = "true"
  headers["HX-Target"] = os.getenv("BENCH_HTMX")
end
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local thread_no = 0
setup = function(thread) thread_no = thread_no + 1; thread:set("seed", thread_no) end
init = function() math.randomseed(os.time() + seed * 7919) end
request = function() return wrk.format("GET", paths[math.random(#paths)], headers) end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f p50=%.3f p95=%.3f p99=%.3f max=%.3f errors=%d non2xx=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""
_RESULT = re.compile(r"RESULT (.*)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def connect(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True)


def all_paper_ids(db: Path, *, seed: int = 7) -> list[str]:
    conn = connect(db)
    ids = [row[0] for row in conn.execute("SELECT id FROM papers")]
    conn.close()
    random.Random(seed).shuffle(ids)
    return ids


def latest_day(db: Path) -> date | None:
    conn = connect(db)
    row = conn.execute("SELECT max(coalesce(featured, published)) FROM papers").fetchone()
    conn.close()
    return date.fromisoformat(row[0][:10]) if row and row[0] else None


def trending_paths(db: Path) -> list[str]:
    """The home page plus the daily, weekly and monthly pages of the latest day."""
    day = latest_day(db)
    if day is None:
        return ["/"]
    year, week, _ = day.isocalendar()
    return ["/", f"/papers/date/{day}", f"/papers/week/{year}-W{week:02d}",
            f"/papers/month/{day:%Y-%m}"]  # fmt: skip


def seed_votes(db: Path, *, share: float = 0.3, seed: int = 7) -> int:
    """Synthetic upvotes (source ``bench``) for ``share`` of the latest 30 days' papers.

    Re-running replaces them, so the bench store does not drift.
    """
    day = latest_day(db)
    if day is None:
        return 0
    rng = random.Random(seed)
    conn = sqlite3.connect(db)
    start = (day - timedelta(days=30)).isoformat()
    keys = [k for (k,) in conn.execute(
        "SELECT key FROM papers WHERE coalesce(featured, published) >= ?", (start,))]  # fmt: skip
    rows = []
    for key in keys:
        if rng.random() < share:
            votes = int(rng.paretovariate(1.2))
            at = datetime.combine(day, datetime.min.time()) - timedelta(hours=rng.randint(0, 700))
            rows.append((key, "upvotes", "bench", at.isoformat() + "+00:00", float(votes)))
    with conn:
        conn.execute("DELETE FROM signals WHERE source = 'bench'")
        conn.executemany("INSERT OR REPLACE INTO signals VALUES (?, ?, ?, ?, ?)", rows)
    conn.close()
    return len(rows)


def start_server(db: Path, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PAPERLENS_DB": str(db), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}  # fmt: skip
    # A file, never a pipe nobody reads: a full pipe would stall the server.
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-c", _CLI, "serve", "--port", str(port), "--workers", str(workers)],
            env=env, stdout=subprocess.DEVNULL, stderr=sink,
        )  # fmt: skip
    deadline = time.monotonic() + 900  # a first start may build the keyword index
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=120).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("server did not answer")


def wrk(
    base: str, paths_file: Path, script: Path, *, clients: int, seconds: float, env: dict[str, str]
) -> dict[str, Any]:
    cmd = ["wrk", f"-t{min(2, clients)}", f"-c{clients}", f"-d{round(seconds)}s",
           "--timeout", "10s", "-s", str(script), base]  # fmt: skip
    out = subprocess.run(
        cmd, env={**os.environ, **env, "BENCH_PATHS": str(paths_file)},
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    match = _RESULT.search(out)
    if not match:
        raise SystemExit(f"wrk printed no result:\n{out}")
    fields = {k: float(v) for k, v in (p.split("=") for p in match.group(1).split())}
    return {
        "requests": int(fields["requests"]),
        "rps": round(fields["requests"] / fields["seconds"], 1),
        "p50_ms": round(fields["p50"], 1),
        "p95_ms": round(fields["p95"], 1),
        "p99_ms": round(fields["p99"], 1),
        "max_ms": round(fields["max"], 1),
        "errors": int(fields["errors"]),
        "non_2xx": int(fields["non2xx"]),
    }


def page_lists(db: Path) -> dict[str, tuple[list[str], str]]:
    """Page kind -> (paths, HX-Target to send or "")."""
    ids = all_paper_ids(db)
    repeated = TYPICAL + queries(240, seed=11)
    return {
        "home_trending": (trending_paths(db), ""),
        "search_repeated": ([f"/search?q={quote_plus(q)}" for q in repeated], ""),
        "search_unique": ([f"/search?q={quote_plus(q)}" for q in queries(20_000, seed=13)], ""),
        "paper": ([f"/papers/{i}" for i in ids], ""),
        "paper_similar": ([f"/papers/{i}/similar" for i in ids], "similar"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--warmup", type=float, default=5, help="seconds per kind, not measured")
    parser.add_argument("--kinds", default=None, help="comma-separated page kinds to run")
    parser.add_argument("--name", default=None, help="result file name under bench/out/")
    parser.add_argument("--rendered", action="store_true",
                        help="bypass the anonymous page cache: every request renders")  # fmt: skip
    parser.add_argument("--seed-votes", action="store_true",
                        help="first add synthetic upvotes to the latest month")  # fmt: skip
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk: apt-get install -y wrk")
    if args.seed_votes:
        print(f"seeded {seed_votes(args.db)} upvote observations (source 'bench')")
    lists = page_lists(args.db)
    kinds = args.kinds.split(",") if args.kinds else list(lists)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    results: dict[str, Any] = {}
    # A returning browser holds its CSRF cookie (wrk keeps no cookies: without this,
    # every request would be a first visit, answered with a fresh Set-Cookie).
    cookie = "pl_csrf=bench-returning-visitor" + ("; pl_session=bench" if args.rendered else "")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp, "paths.lua")
        script.write_text(_LUA)
        server = start_server(args.db, port, args.workers, Path(tmp, "server.log"))
        try:
            for kind in kinds:
                paths, target = lists[kind]
                paths_file = Path(tmp, f"{kind}.txt")
                paths_file.write_text("\n".join(paths) + "\n")
                env = {"BENCH_COOKIE": cookie, "BENCH_HTMX": target}
                # Warm up (not measured): the keyword index and SQLite pages into memory,
                # the trending windows scored, popular pages cached, as on a running site.
                wrk(base, paths_file, script, clients=5, seconds=args.warmup, env=env)
                r = results[kind] = wrk(
                    base, paths_file, script, clients=args.clients, seconds=args.seconds, env=env
                )
                print(
                    f"{kind:16} {r['rps']:8.1f} req/s  p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms"
                    f"  p99 {r['p99_ms']} ms  errors {r['errors']}  non-2xx {r['non_2xx']}",
                    flush=True,
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
    conn = connect(args.db)
    papers = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    conn.close()
    result = {
        "papers": papers,
        "clients": args.clients,
        "seconds": args.seconds,
        "workers": args.workers,
        "warmup_seconds": args.warmup,
        "page_cache": not args.rendered,
        "load_average_after": os.getloadavg(),
        "pages": results,
    }
    name = (args.name or f"web_load-{papers}") + ("-rendered" if args.rendered else "")
    path = write(name, result)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
