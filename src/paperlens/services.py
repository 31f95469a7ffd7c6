"""The wiring: open the long-lived objects once, from ``Settings``, and hand them out.

Everything expensive (the embedding model, the indexes) opens lazily on first
use, so ``paperlens stats`` never loads torch and a web request never pays for
an index it does not use.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from paperlens.config import Settings
from paperlens.model import Paper
from paperlens.store import Store, open_store

if TYPE_CHECKING:
    from paperlens.embed.loader import Embedder
    from paperlens.index.fulltext import FulltextIndex
    from paperlens.index.vectors import AutoVectorIndex

ProgressFn = Callable[[int, int], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


_SAVE_AFTER = 1000  # vectors added since the index file was written


class Services:
    """The store, indexes, model and clock for one running paperlens."""

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.store: Store = open_store(settings.db)
        self._fulltext: FulltextIndex | None = None
        self._embedder: Embedder | None = None
        self._vectors: AutoVectorIndex | None = None
        self._vectors_mark = -1
        self._vectors_unsaved = 0
        self._fulltext_seq = -1
        self._lock = threading.RLock()

    @property
    def fulltext(self) -> FulltextIndex:
        """The keyword index, caught up with the store.

        A long-running server checks the store's change counter (one indexed
        query) on each use, so papers ingested by another process become
        searchable without a restart.
        """
        with self._lock:
            index = self._keyword_index()
            latest = self.store.max_seq()
            if latest != self._fulltext_seq:
                index.follow(self.store)
                self._fulltext_seq = latest
            return index

    def _keyword_index(self) -> FulltextIndex:
        """The keyword index object, opened on first use (the caller holds the lock)."""
        if self._fulltext is None:
            from paperlens.index.fulltext import FulltextIndex

            self._fulltext = FulltextIndex(self.settings.data_dir / "keyword")
        return self._fulltext

    def feed_keyword(self, changed: Sequence[tuple[int, int, Paper]] = ()) -> None:
        """Give the keyword index what changed since the last call; ``sync_keyword`` commits.

        ``changed``: the papers an ingest batch just wrote, which spares reading them back.
        """
        with self._lock:
            self._keyword_index().feed(self.store, changed=changed)

    def sync_keyword(self, *, on_progress: ProgressFn | None = None) -> int:
        """Bring the keyword index up to date with the store; returns papers indexed."""
        with self._lock:
            return self._keyword_index().sync(self.store, on_progress=on_progress)

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use (raises ``ModelUnavailable``)."""
        with self._lock:
            if self._embedder is None:
                from paperlens.embed.loader import load_embedder

                self._embedder = load_embedder(self.settings.model, self.settings.device)
            return self._embedder

    @property
    def model_name(self) -> str:
        """The name vectors are stored under, without loading the model when possible."""
        if self._embedder is not None:
            return self._embedder.name
        from paperlens.embed.sync import model_name

        return model_name(self.settings.model)

    def vector_path(self) -> Path:
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.model_name)
        return self.settings.data_dir / f"vectors-{slug}.idx"

    @property
    def vectors(self) -> AutoVectorIndex:
        """The vector index for the configured model, caught up with the stored embeddings.

        Checking for new vectors costs one indexed query, so every search sees
        papers embedded by another process (an ingest running beside the web app).
        """
        from paperlens.embed.sync import catch_up_index
        from paperlens.index.vectors import open_vector_index

        with self._lock:
            latest = self.store.max_embedding_rowid()
            if self._vectors is not None and latest == self._vectors_mark:
                return self._vectors
            if self._vectors is None:
                path = self.vector_path()
                path.parent.mkdir(parents=True, exist_ok=True)
                sample = self.store.any_embedding(self.model_name)
                dim = len(sample) // 4 if sample else self.embedder.dim
                self._vectors = open_vector_index(
                    path,
                    dim,
                    exact_max=self.settings.exact_search_max,
                    quantization=self.settings.vector_quantization,
                    expected_size=self.store.embedding_count(self.model_name),
                )
            self._vectors_unsaved += catch_up_index(self._vectors, self.store, self.model_name)
            # The file is a cache of the store: writing all of it (a GB at a million
            # papers) for every few new vectors would stall searches, and the next
            # process catches up from the store anyway. So save when it is missing or
            # fairly behind, and on close.
            behind = max(_SAVE_AFTER, len(self._vectors) // 200)
            if self._vectors_unsaved and (
                not self.vector_path().exists() or self._vectors_unsaved >= behind
            ):
                self._save_vectors()
            self._vectors_mark = latest
            return self._vectors

    def _save_vectors(self) -> None:
        if self._vectors is not None and self._vectors_unsaved:
            self._vectors.save()
            self._vectors_unsaved = 0

    def drop_vector_index(self) -> None:
        """Forget the vector index file; the next use rebuilds it from the store."""
        with self._lock:
            self._vectors = None
            self._vectors_mark = -1
            self._vectors_unsaved = 0
            self.vector_path().unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            self._save_vectors()
        self.store.close()
