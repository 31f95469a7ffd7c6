"""Keyword search latency: p50/p95 over 200+ queries of 2-6 words, in two classes.

    python bench/search.py --db bench/data/bench-1000000.db

Classes: ``all`` (every term required) and ``any`` (natural queries ranked by
BM25 over any of the terms, what users type). Queries are drawn with a fixed
seed from the corpus vocabulary by real word frequency, so common words are as
common as in real queries. Timed through ``rank.search.search``, the same call
the CLI and web use (index query + loading the papers + snippets).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from common import percentile, write
from gen_corpus import vocabulary  # type: ignore[import-not-found]

from paperlens.config import Settings
from paperlens.rank.search import search
from paperlens.services import Services


def queries(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    words, weights = vocabulary()
    # Real queries rarely repeat stopwords; skip the 30 most frequent words.
    words, weights = words[30:6000], weights[30:6000]
    return [" ".join(rng.choices(words, weights=weights, k=rng.randint(2, 6))) for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=240)
    parser.add_argument("--limit", type=int, default=10)
    args = parser.parse_args()
    services = Services(Settings(db=args.db))
    count = services.store.count()
    services.fulltext  # open and catch up before timing  # noqa: B018
    qs = queries(args.queries)
    result: dict[str, object] = {"papers": count, "queries": len(qs), "limit": args.limit}
    for klass, match_all in (("all", True), ("any", False)):
        for q in qs[:10]:  # warm the page cache
            search(services, q, mode="keyword", limit=args.limit, match_all=match_all)
        times, hits = [], 0
        for q in qs:
            started = time.perf_counter()
            page = search(services, q, mode="keyword", limit=args.limit, match_all=match_all)
            times.append((time.perf_counter() - started) * 1000)
            hits += bool(page.results)
        result[klass] = {
            "p50_ms": round(percentile(times, 50), 2),
            "p95_ms": round(percentile(times, 95), 2),
            "p99_ms": round(percentile(times, 99), 2),
            "max_ms": round(max(times), 2),
            "queries_with_results": hits,
        }
    path = write(f"search-{count}", result)
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
