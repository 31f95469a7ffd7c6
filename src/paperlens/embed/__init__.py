"""Sentence embeddings: the offline model loader and corpus batching.

``load_embedder`` is called once by ``services.py``; everything else receives
the ``Embedder`` it returns.
"""

from __future__ import annotations

from paperlens.embed.batch import embed_in_batches
from paperlens.embed.loader import (
    DEFAULT_MODEL,
    Embedder,
    cpu_has_native_bf16,
    load_embedder,
    paper_text,
    resolve_model_name,
    text_hash,
)

__all__ = [
    "DEFAULT_MODEL",
    "Embedder",
    "cpu_has_native_bf16",
    "embed_in_batches",
    "load_embedder",
    "paper_text",
    "resolve_model_name",
    "text_hash",
]
