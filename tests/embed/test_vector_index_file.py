"""The vector index file caches the store: written when missing or well behind, and on close."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from paperlens.config import Settings
from paperlens.index.vectors import load_vector_index
from paperlens.ingest import ingest
from paperlens.services import Services

ROOT = Path(__file__).resolve().parents[2]
DIM = 8


def store_vectors(services: Services, keys: range) -> None:
    rng = np.random.default_rng(keys.start)
    rows = []
    for key in keys:
        vector = rng.standard_normal(DIM).astype("<f4")
        rows.append((key, f"h{key}", (vector / np.linalg.norm(vector)).tobytes()))
    with services.store.transaction():
        services.store.save_embeddings(services.model_name, rows)


def saved_size(services: Services) -> int:
    return len(load_vector_index(services.vector_path()))


def test_a_few_new_vectors_do_not_rewrite_the_file_but_are_searched_and_kept(
    tmp_path: Path,
) -> None:
    settings = Settings(db=tmp_path / "p.db", embed=False)
    first = Services(settings)
    ingest(first.store, [ROOT / "samples"])
    store_vectors(first, range(1, 101))
    assert len(first.vectors) == 100
    assert saved_size(first) == 100  # there was no file: written at once

    store_vectors(first, range(101, 151))
    assert len(first.vectors) == 150  # searched at once...
    assert saved_size(first) == 100  # ...without writing the whole file again

    other = Services(settings)  # another process: catches up from the store
    assert len(other.vectors) == 150
    other.store.close()

    first.close()
    assert saved_size(first) == 150  # written on close
