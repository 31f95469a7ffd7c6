"""Stream a large corpus through the model in bounded chunks.

Embedding all of arXiv (millions of texts) in one ``encode`` call would hold
every text and vector in memory at once and report nothing until the end.
``embed_in_batches`` reads ``chunk_size`` items at a time, embeds them (the
embedder sorts each chunk by length, so a bigger chunk pads less) and yields
keys with vectors, which the caller writes to the store and index before the
next chunk is read. Memory is bounded by one chunk: 4,096 texts of a few KB
plus 4,096 × 384 float32 (6 MB).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Protocol

import numpy as np

DEFAULT_CHUNK_SIZE = 4096


class TextEncoder(Protocol):
    """What batching needs from an embedder (``loader.Embedder`` is one)."""

    dim: int

    def encode(
        self,
        texts: list[str],
        *,
        batch_size: int = 64,
        on_progress: Callable[[int], None] | None = None,
    ) -> np.ndarray: ...


def embed_in_batches(
    embedder: TextEncoder,
    items: Iterable[tuple[int, str]],
    *,
    batch_size: int = 64,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(keys int64 (n,), vectors float32 (n, dim))`` per chunk of ``items``.

    ``items`` is consumed lazily, ``chunk_size`` at a time, so it can be a
    database cursor. ``on_progress`` gets the number of texts finished after
    each model batch (an increment), so a progress bar moves during a chunk.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    it = iter(items)
    while chunk := list(islice(it, chunk_size)):
        keys = np.fromiter((key for key, _ in chunk), dtype=np.int64, count=len(chunk))
        texts = [text for _, text in chunk]
        vectors = embedder.encode(texts, batch_size=batch_size, on_progress=on_progress)
        yield keys, vectors
