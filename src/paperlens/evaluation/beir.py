"""A store for a BEIR collection, built through the normal ingest path, and its id mapping.

The corpus is ingested with ``--format beir`` exactly as a user would ingest
it: merge, store, keyword index and (for semantic modes) embeddings, with the
project's defaults and nothing set for any one collection. Each BEIR document
becomes a record whose ``source_key`` is its ``_id``; results are mapped back
to those ids through the store's records, so a paper that merge folded from
two BEIR documents stands for both.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from paperlens.errors import ConfigError
from paperlens.ingest import IngestReport, ProgressFn, ingest
from paperlens.model import Paper
from paperlens.sources.beir import NAME as BEIR_FORMAT
from paperlens.store import Store

CORPUS_FILE = "corpus.jsonl"


def data_home() -> Path:
    """Where paperlens keeps data it builds for itself: ``$XDG_DATA_HOME/paperlens``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "paperlens"


def default_db(directory: Path) -> Path:
    """The store for a collection: under the data home, named for it and its path.

    Never beside the collection, which may sit on a read-only share; the path
    hash keeps two copies of a collection with the same name apart.
    """
    resolved = directory.resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:8]
    return data_home() / "beir" / f"paperlens-beir-{resolved.name}-{digest}.db"


def corpus_file(directory: Path) -> Path:
    path = directory / CORPUS_FILE
    if not path.is_file():
        raise ConfigError(f"{directory}: not a BEIR collection (no {CORPUS_FILE})")
    return path


def ingest_corpus(
    store: Store,
    directory: Path,
    *,
    batch_size: int = 2000,
    on_progress: ProgressFn | None = None,
) -> IngestReport:
    """Ingest ``corpus.jsonl`` as BEIR records; a no-op for documents already stored."""
    return ingest(
        store,
        [corpus_file(directory)],
        fmt=BEIR_FORMAT,
        batch_size=batch_size,
        on_progress=on_progress,
    )


class BeirIds:
    """Maps a result paper to the BEIR ``_id``s of the records merged into it (cached)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[str, tuple[str, ...]] = {}

    def __call__(self, paper: Paper) -> Sequence[str]:
        ids = self._cache.get(paper.id)
        if ids is None:
            key = self.store.key_of(paper.id)
            records = self.store.records_of([key]).get(key, []) if key is not None else []
            ids = tuple(dict.fromkeys(r.source_key for r in records if r.source == BEIR_FORMAT))
            self._cache[paper.id] = ids
        return ids
