"""Ingest throughput and peak memory, end to end (parse, merge, store, keyword index).

    python bench/ingest.py --n 100000        # generates bench/data/arxiv-100000.jsonl if missing

Runs ``paperlens ingest`` as a user would, in a child process, on a fresh
database; then runs it again on the unchanged file (the re-ingest path).
``peak_rss_mb`` is the ingest process's own peak (``ru_maxrss``); since bulk
JSONL is parsed in a second process, ``peak_tree_rss_mb`` also samples the
sum over the ingest process and its children (5 times a second).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import psutil
from common import corpus_path, ingest_db, run_measured, write
from gen_corpus import generate  # type: ignore[import-not-found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--db", type=Path, default=None, help="keep the database here")
    args = parser.parse_args()
    corpus = corpus_path(args.n)
    if not corpus.exists():
        generate(args.n, corpus)
    db = args.db or ingest_db(args.n)
    for leftover in db.parent.glob(db.name + "*"):
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink()
    # Embedding is measured on its own (bench/embed.py): at ~30 papers/s on this CPU it
    # would dominate; the ingest target is parse + merge + store + keyword index.
    cmd = [sys.executable, "-m", "paperlens", "ingest", str(corpus), "--db", str(db), "--json",
           "--no-embed"]  # fmt: skip
    first_tree, stop = _tree_rss_sampler()
    first_wall, first_rss, out = run_measured(cmd)
    stop()
    first = json.loads(out)
    again_tree, stop = _tree_rss_sampler()
    again_wall, again_rss, out = run_measured(cmd)
    stop()
    again = json.loads(out)
    result = {
        "records": args.n,
        "corpus_mb": round(corpus.stat().st_size / 1e6, 1),
        "first": {
            "wall_s": round(first_wall, 2),
            "records_per_s": round(args.n / first_wall),
            "peak_rss_mb": first_rss,
            "peak_tree_rss_mb": first_tree[0],
            "new": first["new"],
            "ingest_s": first["seconds"],
        },
        "reingest": {
            "wall_s": round(again_wall, 2),
            "records_per_s": round(args.n / again_wall),
            "peak_rss_mb": again_rss,
            "peak_tree_rss_mb": again_tree[0],
            "unchanged": again["unchanged"],
        },
        "reingest_speedup": round(first_wall / again_wall, 1),
        "db_mb": round(
            sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.is_file()) / 1e6
        ),
    }
    path = write(f"ingest-{args.n}", result)
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")


def _tree_rss_sampler() -> tuple[list[int], Callable[[], None]]:
    """Sample the summed RSS (MB) of this process's descendants until the returned stop()."""
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        me = psutil.Process()
        while not done.wait(0.2):
            total = 0
            for proc in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):  # it may exit between the two calls
                    total += proc.memory_info().rss
            peak[0] = max(peak[0], total // (1 << 20))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()

    def stop() -> None:
        done.set()
        thread.join()

    return peak, stop


if __name__ == "__main__":
    main()
