"""Benchmark the vector indexes: build time, memory, query latency and recall@10.

    .venv/bin/python bench/vectors.py --n 100000
    .venv/bin/python bench/vectors.py --n 1000000 --quant f16,i8 --ef 32,64,96,128

Writes ``bench/out/vectors-<n>.json`` and prints a table.

Synthetic vectors, because a million real abstracts cannot be embedded on a
2-core box (≈ 30 abstracts/s). Uniform random unit vectors would be the wrong
stand-in: in 384 dimensions they are all nearly orthogonal, which makes HNSW
look both slower and worse than on real embeddings. Real MiniLM abstract
vectors (measured on the 276 sample abstracts) share a strong mean direction
(|mean| ≈ 0.63), have mean pairwise cosine ≈ 0.39 and a decaying spectrum
(64 components hold ~80 % of the centred variance), and cluster by topic. So
``synthetic`` draws a Zipf-sized mixture of topic centres around a shared mean
direction, in an anisotropic power-law basis, plus within-topic spread and a
little isotropic noise, then normalises. With the defaults its first 276 rows
give mean cosine ≈ 0.29, nearest-neighbour cosine ≈ 0.69 (real 0.69), 128
components ≈ 95 % of variance (real 95 %) and max |component| ≈ 0.16 (real
0.16). Queries are 200 held-out rows from the same mixture.

Query time that a user sees is model encoding plus index search, so the
script also times encoding short queries with the real model.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing as mp
import os
import platform
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from paperlens.index.ann_file import HnswParams, HnswVectorIndex
from paperlens.index.vectors import ExactVectorIndex, load_vector_index

QUERIES = [
    "diffusion models for video generation",
    "graph neural networks molecular property prediction",
    "efficient attention for long sequences",
    "reinforcement learning from human feedback",
    "self-supervised learning for speech recognition",
    "protein structure prediction with deep learning",
    "quantum error correction surface codes",
    "retrieval augmented generation for question answering",
    "neural radiance fields from few images",
    "federated learning privacy",
]


def synthetic(n: int, dim: int = 384, *, seed: int = 0) -> np.ndarray:
    """``n`` unit vectors from a topic mixture shaped like MiniLM abstract embeddings."""
    rng = np.random.default_rng(seed)
    topics = max(16, int(n**0.5))
    basis, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    scale = np.arange(1, dim + 1, dtype=np.float64) ** -0.6
    scale /= np.linalg.norm(scale)
    mean = rng.standard_normal(dim)
    mean *= 0.8 / np.linalg.norm(mean)
    centres = mean + (rng.standard_normal((topics, dim)) * scale) @ basis.T
    weights = 1.0 / np.arange(1, topics + 1) ** 0.8
    labels = rng.choice(topics, n, p=weights / weights.sum())
    out = np.empty((n, dim), dtype=np.float32)
    step = 65536
    for start in range(0, n, step):
        m = min(n, start + step) - start
        spread = (rng.standard_normal((m, dim)) * scale * 0.8) @ basis.T
        out[start : start + m] = (
            centres[labels[start : start + m]] + spread + 0.02 * rng.standard_normal((m, dim))
        )
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


class PeakRss:
    """Sample this process's RSS every 20 ms; ``peak`` is the highest seen."""

    def __init__(self) -> None:
        self._proc = psutil.Process()
        self.start = self._proc.memory_info().rss
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.end = self._proc.memory_info().rss
        self.peak = max(self.peak, self.end)


def in_child(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` in a forked child and return its result.

    Each build gets a fresh process, so its RSS numbers are not muddied by
    memory the allocator kept from the previous build. The input vectors are
    shared copy-on-write, not copied.
    """
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)

    def run() -> None:
        try:
            send.send(("ok", fn(*args, **kwargs)))
        except BaseException as exc:
            send.send(("error", repr(exc)))
            raise

    proc = ctx.Process(target=run)
    proc.start()
    status, value = recv.recv()
    proc.join()
    if status != "ok":
        raise RuntimeError(f"{fn.__name__} failed in the child: {value}")
    return value


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(values), p))


def time_queries(index: Any, queries: np.ndarray, k: int, **kw: Any) -> tuple[list[float], list]:
    times, results = [], []
    for q in queries:
        t0 = time.perf_counter()
        res = index.search(q, k, **kw)
        times.append((time.perf_counter() - t0) * 1000)
        results.append([key for key, _ in res])
    return times, results


def filter_keys(keys: np.ndarray) -> np.ndarray:
    """A 1 % filter (every 100th key), like ``cat:`` on a small category.

    At 1M that is 10k allowed keys, which takes the over-fetch plan; at 100k it
    is 1k, which takes the exact-subset plan.
    """
    return keys[::100]


def recall(found: list[list[int]], truth: list[list[int]], k: int) -> float:
    return float(
        np.mean([len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth, strict=True)])
    )


def bench_exact(vecs: np.ndarray, keys: np.ndarray, queries: np.ndarray, k: int, tmp: str) -> dict:
    gc.collect()
    with PeakRss() as mem:
        t0 = time.perf_counter()
        index = ExactVectorIndex(vecs.shape[1])
        for start in range(0, len(keys), 65536):
            index.add(keys[start : start + 65536], vecs[start : start + 65536])
        build = time.perf_counter() - t0
    time_queries(index, queries[:5], k)  # warm up (BLAS thread control is made on first use)
    times, truth = time_queries(index, queries, k)
    allowed = filter_keys(keys)
    ftimes, ftruth = time_queries(index, queries, k, allowed=allowed)
    path = os.path.join(tmp, "exact.idx")
    t0 = time.perf_counter()
    index.save(path)
    save_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    load_vector_index(path)
    load_s = time.perf_counter() - t0
    row = {
        "kind": "exact",
        "build_s": build,
        "rss_delta_mb": (mem.end - mem.start) / 2**20,
        "peak_rss_delta_mb": (mem.peak - mem.start) / 2**20,
        "index_mb": index.vectors().nbytes / 2**20,
        "file_mb": os.path.getsize(path) / 2**20,
        "save_s": save_s,
        "load_s": load_s,
        "p50_ms": pct(times, 50),
        "p95_ms": pct(times, 95),
        "filtered_allowed": len(allowed),
        "filtered_p50_ms": pct(ftimes, 50),
        "filtered_p95_ms": pct(ftimes, 95),
        "recall@10": 1.0,
        "filtered_recall@10": 1.0,
    }
    os.unlink(path)
    del index
    return {"row": row, "truth": truth, "filtered_truth": ftruth}


def bench_hnsw(
    vecs: np.ndarray,
    keys: np.ndarray,
    queries: np.ndarray,
    truth: list[list[int]],
    ftruth: list[list[int]],
    *,
    k: int,
    quant: str,
    connectivity: int,
    expansion_add: int,
    efs: list[int],
    tmp: str,
) -> list[dict]:
    gc.collect()
    params = HnswParams(connectivity, expansion_add, efs[0])
    with PeakRss() as mem:
        t0 = time.perf_counter()
        index = HnswVectorIndex(vecs.shape[1], quantization=quant, params=params)
        index.add(keys, vecs)
        build = time.perf_counter() - t0
    index_mb = index._index.memory_usage / 2**20
    path = os.path.join(tmp, f"hnsw-{quant}.idx")
    t0 = time.perf_counter()
    index.save(path)
    save_s = time.perf_counter() - t0
    file_mb = os.path.getsize(path) / 2**20
    t0 = time.perf_counter()
    loaded = load_vector_index(path)
    load_s = time.perf_counter() - t0
    del loaded
    t0 = time.perf_counter()
    viewed = load_vector_index(path, view=True)
    view_s = time.perf_counter() - t0
    del viewed
    os.unlink(path)
    rows = []
    for ef in efs:
        index.set_expansion_search(ef)
        time_queries(index, queries[:20], k)  # warm caches
        times, found = time_queries(index, queries, k)
        allowed = filter_keys(keys)
        ftimes, ffound = time_queries(index, queries, k, allowed=allowed)
        rows.append(
            {
                "kind": f"hnsw-{quant}",
                "connectivity": connectivity,
                "expansion_add": expansion_add,
                "expansion_search": ef,
                "build_s": build,
                "rss_delta_mb": (mem.end - mem.start) / 2**20,
                "peak_rss_delta_mb": (mem.peak - mem.start) / 2**20,
                "index_mb": index_mb,
                "file_mb": file_mb,
                "save_s": save_s,
                "load_s": load_s,
                "view_s": view_s,
                "p50_ms": pct(times, 50),
                "p95_ms": pct(times, 95),
                "recall@10": recall(found, truth, k),
                "filtered_allowed": len(allowed),
                "filtered_p50_ms": pct(ftimes, 50),
                "filtered_p95_ms": pct(ftimes, 95),
                "filtered_recall@10": recall(ffound, ftruth, k),
            }
        )
        print(_fmt(rows[-1]), flush=True)
    del index
    return rows


def bench_query_encoding(repeats: int, threads: int | None) -> dict:
    """Time one-query encodes with the real model (run in a child: threads are process-wide)."""
    import torch

    from paperlens.embed import load_embedder

    embedder = load_embedder(device="cpu", threads=threads)
    embedder.encode(QUERIES[:2])
    times = []
    for i in range(repeats):
        q = QUERIES[i % len(QUERIES)]
        t0 = time.perf_counter()
        embedder.encode([q])
        times.append((time.perf_counter() - t0) * 1000)
    return {
        "model": embedder.name,
        "precision": embedder.precision,
        "torch_threads": torch.get_num_threads(),
        "queries": repeats,
        "p50_ms": pct(times, 50),
        "p95_ms": pct(times, 95),
        "load_avg": os.getloadavg(),
    }


def _fmt(r: dict) -> str:
    params = (
        f"M={r['connectivity']} efC={r['expansion_add']} ef={r['expansion_search']}"
        if "connectivity" in r
        else ""
    )
    return (
        f"{r['kind']:<10} {params:<24} build {r['build_s']:8.1f}s  rss +{r['rss_delta_mb']:7.0f}MB "
        f"(peak +{r['peak_rss_delta_mb']:7.0f})  index {r['index_mb']:6.0f}MB "
        f"file {r['file_mb']:6.0f}MB  "
        f"p50 {r['p50_ms']:6.2f}ms p95 {r['p95_ms']:6.2f}ms  recall@10 {r['recall@10']:.3f}  "
        f"filter({r['filtered_allowed']}) p50 {r['filtered_p50_ms']:6.2f} "
        f"p95 {r['filtered_p95_ms']:6.2f} r@10 {r['filtered_recall@10']:.3f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quant", default="f16,i8", help="comma list of f32,f16,i8 ('' for none)")
    ap.add_argument("--connectivity", default="16", help="comma list of HNSW M values")
    ap.add_argument("--expansion-add", default="128", help="comma list of efConstruction values")
    ap.add_argument("--ef", default="16,32,64,128,256", help="comma list of search ef values")
    ap.add_argument("--no-encode", action="store_true", help="skip timing query encoding")
    ap.add_argument("--encode-only", action="store_true", help="only time query encoding")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    t0 = time.perf_counter()
    data = synthetic(args.n + args.queries, seed=args.seed)
    vecs, queries = data[: args.n], data[args.n :]
    keys = np.arange(args.n, dtype=np.int64)
    print(
        f"generated {args.n} + {args.queries} vectors in {time.perf_counter() - t0:.1f}s",
        flush=True,
    )

    result: dict[str, Any] = {
        "bench": "vectors",
        "n": args.n,
        "dim": int(vecs.shape[1]),
        "queries": args.queries,
        "k": args.k,
        "seed": args.seed,
        "data": "synthetic topic mixture (see bench/vectors.py docstring)",
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "mem_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "load_avg_start": os.getloadavg(),
        },
        "rows": [],
    }
    out = Path(args.out or Path(__file__).parent / "out" / f"vectors-{args.n}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        ex = None if args.encode_only else in_child(bench_exact, vecs, keys, queries, args.k, tmp)
        if ex is not None:
            result["rows"].append(ex["row"])
            print(_fmt(ex["row"]), flush=True)
        for quant in filter(None, args.quant.split(",")) if ex else []:
            for m in map(int, args.connectivity.split(",")):
                for efc in map(int, args.expansion_add.split(",")):
                    result["rows"] += in_child(
                        bench_hnsw,
                        vecs,
                        keys,
                        queries,
                        ex["truth"],
                        ex["filtered_truth"],
                        k=args.k,
                        quant=quant,
                        connectivity=m,
                        expansion_add=efc,
                        efs=[int(e) for e in args.ef.split(",")],
                        tmp=tmp,
                    )
    if not args.no_encode:
        result["query_encoding"] = []
        for threads in (None, 1):
            enc = in_child(bench_query_encoding, 200, threads)
            result["query_encoding"].append(enc)
            print(
                f"query encoding ({enc['model']}, {enc['precision']}, "
                f"{enc['torch_threads']} threads): p50 {enc['p50_ms']:.1f}ms "
                f"p95 {enc['p95_ms']:.1f}ms (load {enc['load_avg'][0]:.1f})",
                flush=True,
            )
    result["machine"]["load_avg_end"] = os.getloadavg()
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
