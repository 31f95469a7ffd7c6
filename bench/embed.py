"""Benchmark embedding throughput: papers/s per batch size, fp32 against bf16.

    .venv/bin/python bench/embed.py                       # ~2000 texts, batch sweep, fp32 + bf16
    .venv/bin/python bench/embed.py --texts 400 --batch-sizes 16,64 --precisions fp32

Texts are the real abstracts of the sample corpus (long lines of
``samples/*.txt``), repeated to the requested count with a different leading
word per copy so no two texts are identical, then shuffled with a fixed seed
so batches mix lengths the way an ingest does. Writes
``bench/out/embed.json`` and prints a table.

The bf16 check compares each text's bf16 vector with its fp32 vector (cosine)
and the pairwise-similarity matrices of the two, which is what ranking sees.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from paperlens.embed import cpu_has_native_bf16, load_embedder

ROOT = Path(__file__).resolve().parents[1]
WORDS = ["We", "Here", "Recently", "Today", "Now", "Overall", "Briefly", "Notably"]


def sample_abstracts() -> list[str]:
    texts = []
    for path in sorted((ROOT / "samples").glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if len(line) > 300:
                texts.append(line.strip())
    return texts


def corpus(count: int, seed: int) -> list[str]:
    base = sample_abstracts()
    out = []
    for i in range(count):
        copy, j = divmod(i, len(base))
        out.append(f"{WORDS[copy % len(WORDS)]} {copy}: {base[j]}" if copy else base[j])
    random.Random(seed).shuffle(out)
    return out


def throughput(embedder: Any, texts: list[str], batch_size: int) -> tuple[float, np.ndarray]:
    embedder.encode(texts[: min(batch_size, 32)], batch_size=batch_size)  # warm up
    t0 = time.perf_counter()
    vecs = embedder.encode(texts, batch_size=batch_size)
    return len(texts) / (time.perf_counter() - t0), vecs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--texts", type=int, default=2000)
    ap.add_argument("--batch-sizes", default="8,16,32,64,128")
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument(
        "--threads", default="0", help="comma list of torch thread counts; 0 = torch's default"
    )
    ap.add_argument("--compare", type=int, default=200, help="texts for the bf16/fp32 comparison")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "embed.json"))
    args = ap.parse_args()

    texts = corpus(args.texts, args.seed)
    import torch

    result: dict[str, Any] = {
        "bench": "embed",
        "texts": len(texts),
        "mean_chars": float(np.mean([len(t) for t in texts])),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "native_bf16": cpu_has_native_bf16(),
            "load_avg_start": os.getloadavg(),
        },
        "rows": [],
    }
    print(f"{len(texts)} texts, mean {result['mean_chars']:.0f} chars; {result['machine']}")
    embedders = {p: load_embedder(device="cpu", precision=p) for p in args.precisions.split(",")}
    default_threads = torch.get_num_threads()
    for threads in [int(t) or default_threads for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        for precision, embedder in embedders.items():
            result["max_tokens"] = embedder.max_tokens
            for bs in map(int, args.batch_sizes.split(",")):
                rate, _ = throughput(embedder, texts, bs)
                row = {
                    "precision": precision,
                    "threads": threads,
                    "batch_size": bs,
                    "papers_per_s": rate,
                    "load_avg": os.getloadavg()[0],
                }
                result["rows"].append(row)
                print(
                    f"{precision:5} {threads} threads batch {bs:4d}: {rate:7.1f} papers/s "
                    f"(load {row['load_avg']:.1f})",
                    flush=True,
                )
    torch.set_num_threads(default_threads)

    if {"fp32", "bf16"} <= embedders.keys():
        sample = sample_abstracts()[: args.compare]
        a = embedders["fp32"].encode(sample)
        b = embedders["bf16"].encode(sample)
        cos = np.sum(a * b, axis=1)
        sim_dev = np.abs(a @ a.T - b @ b.T)
        k = 10
        top_a = np.argsort(-(a @ a.T), axis=1)[:, 1 : k + 1]
        top_b = np.argsort(-(b @ b.T), axis=1)[:, 1 : k + 1]
        overlap = np.mean([len(set(x) & set(y)) / k for x, y in zip(top_a, top_b, strict=True)])
        result["bf16_vs_fp32"] = {
            "texts": len(sample),
            "cosine_min": float(cos.min()),
            "cosine_mean": float(cos.mean()),
            "max_abs_component_diff": float(np.abs(a - b).max()),
            "max_pairwise_similarity_diff": float(sim_dev.max()),
            "mean_pairwise_similarity_diff": float(sim_dev.mean()),
            "neighbour_top10_overlap": float(overlap),
        }
        print("bf16 vs fp32:", json.dumps(result["bf16_vs_fp32"], indent=1))

    result["machine"]["load_avg_end"] = os.getloadavg()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
