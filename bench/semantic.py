"""Semantic, hybrid and similar-paper latency through ``rank.search`` on a real store.

    python bench/semantic.py --db bench/data/bench-100000.db [--ann]

Papers come from ``bench/ingest.py``; their vectors are synthetic (a seeded
mixture of 200 topic directions plus noise, unit length) and are written into
the store's embeddings table once, because embedding 100k abstracts on this
CPU takes hours. Queries are encoded by the real model, and that time counts.
``--ann`` forces the HNSW index (by default a store this size searches exactly).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
from common import percentile, write

from paperlens.config import Settings
from paperlens.embed.loader import DEFAULT_MODEL
from paperlens.rank.search import search
from paperlens.rank.similar import similar
from paperlens.services import Services

QUERIES = [
    "sparse subnetworks that train to full accuracy",
    "privacy attacks that reconstruct training images from gradients",
    "text to video generation with diffusion models",
    "federated learning with heterogeneous clients",
    "robust generalization under adversarial training",
    "efficient attention for long documents",
    "graph neural networks for molecules",
    "reinforcement learning from human feedback",
    "pooling layers in convolutional networks",
    "monocular depth and scene flow estimation",
]


def synthetic_vectors(store: object, n_topics: int = 200, seed: int = 0) -> int:
    keys = [k for (k,) in store.conn.execute("SELECT key FROM papers ORDER BY key")]  # type: ignore[attr-defined]
    if store.embedding_count(DEFAULT_MODEL) >= len(keys):  # type: ignore[attr-defined]
        return 0
    rng = np.random.default_rng(seed)
    topics = rng.normal(size=(n_topics, 384)).astype(np.float32)
    for start in range(0, len(keys), 50_000):
        chunk = keys[start : start + 50_000]
        vecs = topics[rng.integers(0, n_topics, len(chunk))] + 0.6 * rng.normal(
            size=(len(chunk), 384)
        ).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        with store.transaction():  # type: ignore[attr-defined]
            store.save_embeddings(  # type: ignore[attr-defined]
                DEFAULT_MODEL,
                [
                    (k, "synthetic", v.astype("<f4").tobytes())
                    for k, v in zip(chunk, vecs, strict=True)
                ],
            )
    return len(keys)


def timed(fn: object, args: list[object], rounds: int) -> dict[str, float]:
    times = []
    for i in range(rounds):
        started = time.perf_counter()
        fn(args[i % len(args)])  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(percentile(times, 50), 2), "p95_ms": round(percentile(times, 95), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--ann", action="store_true", help="force the HNSW index")
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    settings = Settings(db=args.db, exact_search_max=0 if args.ann else 200_000)
    services = Services(settings)
    added = synthetic_vectors(services.store)
    started = time.perf_counter()
    index = services.vectors
    build_s = time.perf_counter() - started
    services.embedder.encode(["warm up"])
    services.fulltext  # noqa: B018
    rng = random.Random(1)
    ids = [services.store.papers([rng.randint(1, services.store.count())])[0].id for _ in range(50)]
    result = {
        "papers": services.store.count(),
        "vectors_added": added,
        "index": {"kind": index.kind, "size": len(index), "open_or_build_s": round(build_s, 1)},
        "semantic": timed(lambda q: search(services, q, mode="semantic"), QUERIES, args.rounds),
        "hybrid": timed(lambda q: search(services, q, mode="hybrid"), QUERIES, args.rounds),
        "similar": timed(lambda i: similar(services, i), ids, args.rounds),
        "query_encoding": timed(lambda q: services.embedder.encode([q]), QUERIES, args.rounds),
    }
    path = write(f"semantic-{result['papers']}-{index.kind}", result)
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
