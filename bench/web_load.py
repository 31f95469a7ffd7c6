"""Load-test the web pages: home (trending), search and paper pages at N concurrent clients.

Starts a real ``paperlens serve`` on a free port over ``--db`` (build one with
``bench/gen_corpus.py`` + ``paperlens ingest``), then for each page kind runs
``--clients`` concurrent HTTP clients (asyncio + httpx, keep-alive) for
``--seconds`` and reports requests/s and p50/p95/p99 latency. The load
generator runs on the same machine and takes CPU from the server; the numbers
are therefore a floor for the server alone.

    python bench/web_load.py --db /tmp/bench1m/p.db --clients 50 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import percentile, write

QUERIES = [
    "diffusion", "neural network", "graph learning", "reinforcement learning policy",
    "language model", "image segmentation", "quantum", "optimization convex",
    "transformer attention", "robot", "\"deep learning\"", "bayesian inference",
    "contrastive", "generative adversarial", "sparse", "federated learning privacy",
]  # fmt: skip
_CLI = "from paperlens.cli import main; main()"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def paper_ids(db: Path, n: int = 2000) -> list[str]:
    """Random paper ids, drawn by key so a 1M-row table is not scanned."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    top = conn.execute("SELECT max(key) FROM papers").fetchone()[0] or 0
    rng = random.Random(7)
    ids = []
    for _ in range(n):
        row = conn.execute("SELECT id FROM papers WHERE key >= ? LIMIT 1",
                           (rng.randint(1, top),)).fetchone()  # fmt: skip
        if row:
            ids.append(row[0])
    conn.close()
    return ids


def trending_paths(db: Path) -> list[str]:
    """The home page plus a few daily/weekly/monthly pages around the latest day."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    latest = conn.execute("SELECT max(published) FROM papers").fetchone()[0]
    conn.close()
    paths = ["/"]
    if latest:
        paths += [f"/papers/date/{latest}", f"/papers/month/{latest[:7]}"]
    return paths


async def hammer(
    base: str, paths: list[str], *, clients: int, seconds: float, cached: bool = True
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    statuses: dict[int, int] = {}
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def one(client: httpx.AsyncClient, rng: random.Random) -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            path = rng.choice(paths)
            started = time.perf_counter()
            try:
                r = await client.get(path)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                if r.status_code >= 400:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    # A session cookie (unknown to the server, so the visitor is still anonymous)
    # bypasses the anonymous page cache: every request renders.
    cookies = None if cached else {"pl_session": "bench-no-cache"}
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=60, cookies=cookies
    ) as client:
        await asyncio.gather(*(one(client, random.Random(i)) for i in range(clients)))
    wall = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "errors": errors,
        "statuses": statuses,
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 95), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
    }


def start_server(db: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PAPERLENS_DB": str(db), "PAPERLENS_EMBED": "false",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-c", _CLI, "serve", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 900  # a first start may build the keyword index
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=60).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("server did not answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--name", default=None, help="result file name under bench/out/")
    parser.add_argument(
        "--no-page-cache",
        action="store_true",
        help="bypass the 10 s anonymous page cache, so every request renders",
    )
    args = parser.parse_args()
    ids = paper_ids(args.db)
    pages = {
        "home_trending": trending_paths(args.db),
        "search": [f"/search?q={q}" for q in QUERIES],
        "paper": [f"/papers/{i}" for i in ids],
    }
    port = free_port()
    server = start_server(args.db, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    results: dict[str, Any] = {}
    try:
        for kind, paths in pages.items():
            cached = not args.no_page_cache
            asyncio.run(hammer(base, paths, clients=5, seconds=3, cached=cached))  # warm up
            results[kind] = asyncio.run(
                hammer(base, paths, clients=args.clients, seconds=args.seconds, cached=cached)
            )
            r = results[kind]
            print(
                f"{kind:14} {r['rps']:8.1f} req/s  p50 {r['p50_ms']} ms  "
                f"p95 {r['p95_ms']} ms  p99 {r['p99_ms']} ms  errors {r['errors']}"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    papers = (
        sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
        .execute("SELECT count(*) FROM papers")
        .fetchone()[0]
    )
    name = args.name or f"web_load-{papers}"
    result = {
        "papers": papers,
        "clients": args.clients,
        "seconds": args.seconds,
        "workers": args.workers,
        "page_cache": not args.no_page_cache,
        "pages": results,
    }
    path = write(name + ("-nocache" if args.no_page_cache else ""), result)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
