"""Digest throughput: compose, render and queue, then send, for many subscribers.

    .venv/bin/python bench/digest.py --papers 100000 --subscribers 10000

Builds (once) ``bench/data/digest-<papers>.db`` from the synthetic arXiv
corpus of ``bench/gen_corpus.py``, with upvotes on the papers of the bench
week, then each run replaces the subscribers: a mix of trending-only
readers, followers of authors and categories, saved searches, and accounts
whose reading lists seed "similar to" picks. The clock is fixed at 09:00 UTC
on the day after the corpus's newest paper, so every subscriber is due and a
week of papers (about 900 a day in the generated corpus) is new.

Measured, in this process: composing alone (``--dry-run`` path), composing +
rendering + writing the outbox, and sending the outbox over SMTP to a
loopback aiosmtpd sink running in a separate process (so the server does not
share our GIL). Peak RSS is this process's. Writes ``bench/out/digest-<n>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from common import DATA, corpus_path, write
from gen_corpus import FIRST, LAST, generate  # type: ignore[import-not-found]

QUERIES = [
    "learning", "robust estimation", "graph", "optimization convergence", "transformer",
    "neural networks", "policy", "sparse", "bayesian inference", "quantum",
    "diffusion", "generalization bound", "attention", "reinforcement", "kernel methods",
]  # fmt: skip
CATEGORIES = ["cs.LG", "cs.CV", "cs.CL", "cs.AI", "stat.ML", "cs.RO", "quant-ph", "hep-th"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_sink(port: int, report: Path) -> None:
    """An aiosmtpd server that accepts and counts messages, then writes the count on SIGTERM."""
    import threading

    from aiosmtpd.controller import Controller

    class Counter:
        def __init__(self) -> None:
            self.n = 0
            self.bytes = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.n += 1
            self.bytes += len(envelope.content)
            return "250 OK"

    handler = Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print("ready", flush=True)
    done.wait()
    controller.stop()
    report.write_text(json.dumps({"received": handler.n, "bytes": handler.bytes}))


def build_store(papers: int, db: Path) -> dict[str, Any]:
    """Ingest the corpus, index it, and add upvotes to the bench weeks' papers (once)."""
    from paperlens.config import Settings
    from paperlens.ingest import ingest
    from paperlens.model import Observation
    from paperlens.services import Services
    from paperlens.store.trending import TrendingQueries

    marker = db.with_name(db.name + ".ready")
    if marker.exists():
        return json.loads(marker.read_text())
    for leftover in db.parent.glob(db.name + "*"):
        if leftover.is_file():
            leftover.unlink()
    corpus = corpus_path(papers)
    if not corpus.exists():
        generate(papers, corpus)
    t0 = time.perf_counter()
    services = Services(Settings(db=db, embed=False))
    report = ingest(services.store, [corpus], batch_size=2000)
    ingest_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    services.sync_keyword()
    index_s = time.perf_counter() - t0
    rng = random.Random(7)
    newest = services.store.conn.execute(  # type: ignore[attr-defined]
        "SELECT max(coalesce(featured, published)) FROM papers"
    ).fetchone()[0]
    now = datetime.combine(date.fromisoformat(newest[:10]) + timedelta(days=1),
                           datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)  # fmt: skip
    window = TrendingQueries(services.store).window_papers(
        now.date() - timedelta(days=14), now.date()
    )
    observed = now - timedelta(hours=3)
    with services.store.transaction():
        for key, _day in window:
            if rng.random() < 0.3:
                votes = int(rng.paretovariate(1.2) * 3)
                services.store.add_signals(key, [Observation("upvotes", votes, "hf-daily",
                                                             observed)])  # fmt: skip
    info = {"papers": report.new, "now": now.isoformat(), "voted_window_papers": len(window),
            "ingest_seconds": round(ingest_s, 1), "index_seconds": round(index_s, 1)}  # fmt: skip
    services.close()
    marker.write_text(json.dumps(info))
    return info


def add_subscribers(env: Any, count: int, now: datetime, *, seed: int = 1) -> dict[str, int]:
    """Replace every subscriber with ``count`` new ones of several kinds."""
    from paperlens.digest.compose import follow_key
    from paperlens.store.digest import ts

    rng = random.Random(seed)
    conn = env.db.conn
    store = env.services.store
    stamp = ts(now - timedelta(days=60))
    kinds = {"trending": 0, "authors": 0, "categories": 0, "searches": 0, "lists": 0}
    max_key = int(conn.execute("SELECT max(key) FROM papers").fetchone()[0])
    with store.transaction():
        for table in ("digest_sent_papers", "digest_outbox", "digest_follows",
                      "digest_saved_searches", "digest_subscriptions", "digest_runs"):  # fmt: skip
            conn.execute(f"DELETE FROM {table}")
        conn.execute("DELETE FROM list_items")
        conn.execute("DELETE FROM lists")
        conn.execute("DELETE FROM users WHERE username LIKE 'bench%'")
        for n in range(count):
            user_id = None
            if rng.random() < 0.2:
                cur = conn.execute(
                    "INSERT INTO users (username, username_key, password_hash, created_at)"
                    " VALUES (?, ?, 'x', ?)",
                    (f"bench{n}", f"bench{n}", stamp),
                )
                user_id = int(cur.lastrowid or 0)
                lst = conn.execute(
                    "INSERT INTO lists (slug, user_id, name, created_at, updated_at)"
                    " VALUES (?, ?, 'reading', ?, ?)",
                    (f"bench-{n}", user_id, stamp, stamp),
                ).lastrowid
                conn.executemany(
                    "INSERT OR IGNORE INTO list_items (list_id, paper, added_at) VALUES (?,?,?)",
                    [(lst, rng.randint(1, max_key), stamp) for _ in range(rng.randint(1, 5))],
                )
                kinds["lists"] += 1
            cur = conn.execute(
                "INSERT INTO digest_subscriptions (email, user_id, status, cadence, send_hour,"
                " created_at, confirmed_at) VALUES (?, ?, 'active', ?, 0, ?, ?)",
                (f"reader{n}@bench.example", user_id,
                 "daily" if rng.random() < 0.3 else "weekly", stamp, stamp),
            )  # fmt: skip
            sub = int(cur.lastrowid or 0)
            roll = rng.random()
            if roll < 0.6:
                for _ in range(rng.randint(1, 3)):
                    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                    conn.execute(
                        "INSERT OR IGNORE INTO digest_follows VALUES (?, 'author', ?, ?, ?)",
                        (sub, name, follow_key("author", name), stamp),
                    )
                kinds["authors"] += 1
            if rng.random() < 0.3:
                cat = rng.choice(CATEGORIES)
                conn.execute(
                    "INSERT OR IGNORE INTO digest_follows VALUES (?, 'category', ?, ?, ?)",
                    (sub, cat, cat.lower(), stamp),
                )
                kinds["categories"] += 1
            if rng.random() < 0.4:
                conn.execute(
                    "INSERT INTO digest_saved_searches (subscription_id, query, created_at)"
                    " VALUES (?, ?, ?)",
                    (sub, rng.choice(QUERIES), stamp),
                )
                kinds["searches"] += 1
            kinds["trending"] += 1
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--sink", nargs=2, metavar=("PORT", "REPORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        run_sink(int(args.sink[0]), Path(args.sink[1]))
        return

    from paperlens.config import Settings
    from paperlens.digest.env import DigestEnv
    from paperlens.digest.run import deliver, queue_due
    from paperlens.digest.settings import DigestSettings
    from paperlens.services import Services

    db = DATA / f"digest-{args.papers}.db"
    store_info = build_store(args.papers, db)
    print(f"store: {store_info}", flush=True)

    port = free_port()
    sink_report = DATA / f"digest-sink-{os.getpid()}.json"
    sink = subprocess.Popen([sys.executable, __file__, "--sink", str(port), str(sink_report)],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"

    now = datetime.fromisoformat(store_info["now"])
    services = Services(Settings(db=db, embed=False), clock=lambda: now)
    settings = DigestSettings(
        smtp_host="127.0.0.1", smtp_port=port, mail_from="paperlens <digest@bench.example>",
        base_url="https://paperlens.example", mail_rate_per_minute=0, secret_key="bench",
    )  # fmt: skip
    env = DigestEnv(services, settings)
    t0 = time.perf_counter()
    kinds = add_subscribers(env, args.subscribers, now)
    print(f"subscribers: {kinds} in {time.perf_counter() - t0:.1f} s", flush=True)
    services.fulltext  # noqa: B018  (open the keyword index outside the timings)

    t0 = time.perf_counter()
    dry = queue_due(env, dry_run=True)
    compose_s = time.perf_counter() - t0
    print(f"compose only: {dry.due} digests in {compose_s:.1f} s "
          f"({dry.due / compose_s:.0f}/s), {dry.queued} non-empty", flush=True)  # fmt: skip

    t0 = time.perf_counter()
    queued = queue_due(env)
    queue_s = time.perf_counter() - t0
    print(f"compose + render + queue: {queued.queued} queued, {queued.empty} empty in "
          f"{queue_s:.1f} s ({queued.due / queue_s:.0f}/s)", flush=True)  # fmt: skip

    t0 = time.perf_counter()
    delivery = deliver(env)
    send_s = time.perf_counter() - t0
    print(f"send: {delivery.sent} sent in {send_s:.1f} s ({delivery.sent / send_s:.0f}/s)",
          flush=True)  # fmt: skip
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sink.send_signal(signal.SIGTERM)
    sink.wait(timeout=60)
    received = json.loads(sink_report.read_text())
    sink_report.unlink()
    services.close()
    sizes = received["bytes"] / max(received["received"], 1)
    result = {
        "papers": store_info["papers"],
        "now": store_info["now"],
        "subscribers": args.subscribers,
        "subscriber_kinds": kinds,
        "compose_only": {"digests": dry.due, "seconds": round(compose_s, 2),
                         "per_second": round(dry.due / compose_s, 1)},
        "compose_render_queue": {"digests": queued.due, "non_empty": queued.queued,
                                 "papers": queued.papers, "seconds": round(queue_s, 2),
                                 "per_second": round(queued.due / queue_s, 1)},
        "send": {"sent": delivery.sent, "failed": delivery.failed, "seconds": round(send_s, 2),
                 "per_second": round(delivery.sent / send_s, 1),
                 "received": received["received"], "mean_message_bytes": round(sizes)},
        "peak_rss_mb": round(rss_mb),
    }  # fmt: skip
    path = write(f"digest-{args.papers}", result)
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
