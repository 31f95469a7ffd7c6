"""Keep stored embeddings in step with the papers, embedding only what changed.

Papers are visited through the store's change counter (``papers.seq``), so an
ingest that changed nothing costs one query. For each changed paper the text
hash (model + title + abstract) is compared with the stored one; only papers
whose embedded text really changed go through the model. Vectors are written
to the database (the source of truth) one chunk per transaction, with the
watermark, so a killed run resumes where it stopped. The vector index file is
then caught up from the table (``vector_index.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from paperlens.embed.loader import paper_text, resolve_model_name, text_hash

if TYPE_CHECKING:
    from paperlens.index.vectors import AutoVectorIndex
    from paperlens.services import Services
    from paperlens.store import Store

CHUNK = 1024


@dataclass(slots=True)
class EmbedReport:
    """What an embedding run did."""

    model: str
    device: str
    checked: int = 0
    embedded: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    index_kind: str = ""
    index_size: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "device": self.device,
            "checked": self.checked,
            "embedded": self.embedded,
            "unchanged": self.unchanged,
            "seconds": round(self.seconds, 2),
            "papers_per_second": round(self.embedded / self.seconds, 1)
            if self.seconds and self.embedded
            else None,
            "index": {"kind": self.index_kind, "size": self.index_size},
        }


class _Progress:
    """Turns the embedder's per-batch increments into ``on_progress(done, total)``."""

    def __init__(self, done: int, total: int, report: Callable[[int, int], None] | None) -> None:
        self.done, self.total, self.report = done, total, report

    def advance(self, n: int) -> None:
        self.done += n
        if self.report:
            self.report(self.done, self.total)


def catch_up_index(index: AutoVectorIndex, store: Store, model: str) -> int:
    """Add to ``index`` every vector stored after its watermark; returns how many.

    Replaced rows get a new rowid, so an updated paper's vector is re-added and
    replaces the old one under the same key.
    """
    mark = int(index.meta.get("watermark", 0))
    added = 0
    while rows := store.embeddings_since(model, mark, limit=50_000):
        keys = np.fromiter((key for _r, key, _v in rows), dtype=np.int64, count=len(rows))
        vectors = np.frombuffer(b"".join(v for _r, _k, v in rows), dtype="<f4").reshape(
            len(rows), -1
        )
        index.add(keys, vectors)
        mark = rows[-1][0]
        added += len(rows)
    index.meta["watermark"] = mark
    return added


def model_name(setting: str) -> str:
    """The name vectors of the model ``setting`` are stored under, without loading it."""
    return resolve_model_name(setting)


def watermark_name(model: str) -> str:
    return f"embed:{model}"


def embed_pending(
    services: Services,
    *,
    rebuild: bool = False,
    batch_size: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> EmbedReport:
    """Embed every paper whose text changed since the last run; ``rebuild`` redoes all."""
    started = time.perf_counter()
    store = services.store
    model = services.model_name
    mark = watermark_name(model)
    if rebuild:
        with store.transaction():
            store.delete_embeddings(model)
            store.set_watermark(mark, 0)
        services.drop_vector_index()
    report = EmbedReport(model=model, device="")
    watermark = store.watermark(mark)
    total = store.count_changed_since(watermark)
    embedder = services.embedder if total else None  # load the model only for real work
    if embedder is not None:
        report.device = f"{embedder.device} ({embedder.precision})"
    batch = batch_size or services.settings.embed_batch_size
    while rows := store.texts_changed_since(watermark, limit=CHUNK):
        keys = [key for key, _seq, _t, _a in rows]
        texts = [paper_text(title, abstract) for _k, _s, title, abstract in rows]
        hashes = [text_hash(model, text) for text in texts]
        stored = store.embedding_hashes(model, keys)
        todo = [
            i for i, (key, digest) in enumerate(zip(keys, hashes, strict=True))
            if stored.get(key) != digest and texts[i]
        ]  # fmt: skip
        report.checked += len(rows)
        report.unchanged += len(rows) - len(todo)
        progress = _Progress(report.checked - len(todo), total, on_progress)
        progress.advance(0)
        vectors = (
            embedder.encode(
                [texts[i] for i in todo], batch_size=batch, on_progress=progress.advance
            )
            if todo
            else np.empty((0, embedder.dim), dtype=np.float32)
        )
        watermark = rows[-1][1]
        with store.transaction():
            store.save_embeddings(
                model,
                [
                    (keys[i], hashes[i], vectors[n].astype("<f4").tobytes())
                    for n, i in enumerate(todo)
                ],
            )
            store.set_watermark(mark, watermark)
        report.embedded += len(todo)
    index = services.vectors
    report.index_kind, report.index_size = index.kind, len(index)
    report.seconds = time.perf_counter() - started
    return report
