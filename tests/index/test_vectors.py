"""The vector indexes: exact numpy and usearch HNSW behind one interface."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from paperlens.errors import StoreError
from paperlens.index.ann_file import HnswVectorIndex, top_k
from paperlens.index.vectors import (
    AutoVectorIndex,
    ExactVectorIndex,
    VectorIndex,
    load_vector_index,
    open_vector_index,
)

DIM = 32


def clustered(n: int, *, seed: int = 0, dim: int = DIM) -> np.ndarray:
    """Unit vectors in a few topic clusters: closer to real embeddings than white noise."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((12, dim))
    x = centres[rng.integers(0, 12, n)] + 0.6 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


KINDS: dict[str, Callable[[], VectorIndex]] = {
    "exact": lambda: ExactVectorIndex(DIM),
    "f32": lambda: HnswVectorIndex(DIM, quantization="f32"),
    "f16": lambda: HnswVectorIndex(DIM, quantization="f16"),
    "i8": lambda: HnswVectorIndex(DIM, quantization="i8"),
}


@pytest.fixture(params=list(KINDS))
def make(request: pytest.FixtureRequest) -> Callable[[], VectorIndex]:
    return KINDS[request.param]


def keys_of(hits: list[tuple[int, float]]) -> list[int]:
    return [key for key, _ in hits]


def test_every_kind_satisfies_the_protocol(make: Callable[[], VectorIndex]) -> None:
    assert isinstance(make(), VectorIndex)


@pytest.mark.parametrize(("quant", "min_recall"), [("f32", 0.98), ("f16", 0.98), ("i8", 0.95)])
def test_ann_agrees_with_exact(quant: str, min_recall: float) -> None:
    data = clustered(3050)
    vecs, queries = data[:3000], data[3000:]  # held-out queries from the same clusters
    keys = np.arange(3000, dtype=np.int64) * 3 + 11
    exact, ann = ExactVectorIndex(DIM), HnswVectorIndex(DIM, quantization=quant)
    exact.add(keys, vecs)
    ann.add(keys, vecs)
    recalls = []
    for q in queries:
        want, got = exact.search(q, 10), ann.search(q, 10)
        recalls.append(len(set(keys_of(want)) & set(keys_of(got))) / 10)
        # Scores are cosines either way; quantisation moves them only a little.
        scores = dict(want)
        for key, score in got:
            if key in scores:
                assert abs(score - scores[key]) < 0.02
    assert np.mean(recalls) >= min_recall


def test_search_is_cosine_best_first(make: Callable[[], VectorIndex]) -> None:
    index = make()
    vecs = clustered(200)
    index.add(np.arange(200), vecs * 3.0)  # unnormalised input is normalised on the way in
    hits = index.search(vecs[17] * 0.5, 5)
    assert hits[0][0] == 17
    assert hits[0][1] == pytest.approx(1.0, abs=0.01)
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)
    assert index.search(vecs[0], 0) == []


def test_add_replace_remove_get(make: Callable[[], VectorIndex]) -> None:
    index = make()
    vecs = clustered(100)
    index.add(np.arange(100), vecs)
    assert len(index) == 100 and 5 in index and 100 not in index

    index.add(np.array([5]), vecs[60:61])  # replace: same key, new vector
    assert len(index) == 100
    got = index.get(5)
    assert got is not None and float(got @ vecs[60]) > 0.99
    assert set(keys_of(index.search(vecs[60], 2))) == {5, 60}

    assert index.remove(np.array([5, 6, 999])) == 2
    assert len(index) == 98 and 5 not in index and index.get(5) is None
    assert 5 not in keys_of(index.search(vecs[60], 10))
    assert sorted(index.keys().tolist()) == sorted(set(range(100)) - {5, 6})

    index.add(np.array([5]), vecs[5:6])  # a removed key can come back
    assert index.search(vecs[5], 1)[0][0] == 5


def test_duplicate_keys_in_one_batch_keep_the_last(make: Callable[[], VectorIndex]) -> None:
    index = make()
    vecs = clustered(3, seed=4)
    index.add(np.array([7, 7, 8]), vecs)
    assert len(index) == 2
    got = index.get(7)
    assert got is not None and float(got @ vecs[1]) > 0.99


def test_hnsw_adds_a_big_batch_in_chunks() -> None:
    index = HnswVectorIndex(DIM)
    index.ADD_CHUNK = 7  # a back-fill of millions goes through the same loop
    vecs = clustered(31, seed=6)
    keys = np.array([*range(30), 3])  # key 3 again, in a later chunk: the last one wins
    index.add(keys, vecs)
    assert len(index) == 30
    got = index.get(3)
    assert got is not None and float(got @ vecs[30]) > 0.99
    assert index.search(vecs[29], 1)[0][0] == 29


def test_negative_and_large_int64_keys_round_trip(make: Callable[[], VectorIndex]) -> None:
    index = make()
    keys = np.array([-(2**63), -1, 0, 1, 2**63 - 2], dtype=np.int64)
    vecs = clustered(5, seed=2)
    index.add(keys, vecs)
    for key, vec in zip(keys.tolist(), vecs, strict=True):
        assert index.search(vec, 1)[0][0] == key
    assert sorted(index.keys().tolist()) == sorted(keys.tolist())


def test_hnsw_refuses_the_one_reserved_key() -> None:
    index = HnswVectorIndex(DIM)
    with pytest.raises(ValueError, match="reserved"):
        index.add(np.array([2**63 - 1]), clustered(1))
    index.add(np.array([1]), clustered(1))
    assert 2**63 - 1 not in index and index.get(2**63 - 1) is None
    assert index.remove(np.array([2**63 - 1])) == 0
    assert index.search(clustered(1)[0], 3, allowed=np.array([2**63 - 1, 1]))[0][0] == 1


def test_wrong_shapes_are_refused(make: Callable[[], VectorIndex]) -> None:
    index = make()
    with pytest.raises(ValueError, match="shape"):
        index.add(np.arange(3), np.zeros((2, DIM)))
    with pytest.raises(ValueError, match="dimensions"):
        index.search(np.zeros(DIM + 1), 3)


def test_empty_index_finds_nothing(make: Callable[[], VectorIndex]) -> None:
    index = make()
    assert index.search(clustered(1)[0], 5) == []
    assert index.search(clustered(1)[0], 5, allowed=np.array([1, 2])) == []


@pytest.mark.parametrize("allowed_every", [1, 3, 50, 400])
def test_allowed_restricts_results(make: Callable[[], VectorIndex], allowed_every: int) -> None:
    """Small filters take the exact-subset plan, large ones over-fetch from the graph."""
    data = clustered(2020, seed=3)
    vecs, queries = data[:2000], data[2000:]
    keys = np.arange(2000, dtype=np.int64)
    index, exact = make(), ExactVectorIndex(DIM)
    index.add(keys, vecs)
    exact.add(keys, vecs)
    allowed = keys[::allowed_every]
    allowed_set = set(allowed.tolist())
    overlap = []
    for q in queries:
        got = keys_of(index.search(q, 10, allowed=allowed))
        want = keys_of(exact.search(q, 10, allowed=allowed))
        assert set(got) <= allowed_set
        assert len(got) == min(10, len(allowed))
        overlap.append(len(set(got) & set(want)) / len(want))
    assert np.mean(overlap) >= 0.9


def test_allowed_keys_not_in_the_index_are_ignored(make: Callable[[], VectorIndex]) -> None:
    index = make()
    vecs = clustered(50)
    index.add(np.arange(50), vecs)
    hits = index.search(vecs[3], 10, allowed=np.array([3, 4, 10_000, 20_000]))
    assert sorted(keys_of(hits)) == [3, 4]


def test_save_load_round_trip_with_meta(make: Callable[[], VectorIndex], tmp_path: Path) -> None:
    index = make()
    vecs = clustered(300)
    index.add(np.arange(300) - 150, vecs)
    index.remove(np.array([0]))
    index.meta.update(model="all-MiniLM-L6-v2", watermark=1234)
    path = tmp_path / "sub" / "vectors.idx"
    index.save(path)

    loaded = load_vector_index(path)
    assert type(loaded) is type(index)
    assert len(loaded) == 299
    assert loaded.meta == {"dim": DIM, "model": "all-MiniLM-L6-v2", "watermark": 1234}
    for q in vecs[:5]:
        assert loaded.search(q, 5) == index.search(q, 5)
    assert sorted(os.listdir(path.parent)) == ["vectors.idx"]


def test_hnsw_view_is_read_only(tmp_path: Path) -> None:
    index = HnswVectorIndex(DIM)
    vecs = clustered(100)
    index.add(np.arange(100), vecs)
    index.save(tmp_path / "v.idx")
    view = load_vector_index(tmp_path / "v.idx", view=True)
    assert isinstance(view, HnswVectorIndex) and view.read_only
    assert view.search(vecs[9], 1)[0][0] == 9
    with pytest.raises(StoreError, match="read-only"):
        view.add(np.array([1000]), vecs[:1])


def test_failed_save_leaves_the_old_file_and_no_partial_file(
    make: Callable[[], VectorIndex], tmp_path: Path
) -> None:
    index = make()
    vecs = clustered(100)
    index.add(np.arange(100), vecs)
    path = tmp_path / "vectors.idx"
    index.save(path)
    before = path.read_bytes()

    index.add(np.arange(100, 120), clustered(20, seed=9))
    index.meta["watermark"] = object()  # not JSON: the save fails after the temp file is opened
    with pytest.raises(TypeError):
        index.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["vectors.idx"]
    assert len(load_vector_index(path)) == 100


def test_auto_index_moves_to_hnsw_past_exact_max(tmp_path: Path) -> None:
    path = tmp_path / "vectors.idx"
    vecs = clustered(400)
    index = open_vector_index(path, DIM, exact_max=250, quantization="f16")
    assert isinstance(index, AutoVectorIndex) and index.kind == "exact"
    index.add(np.arange(200), vecs[:200])
    index.meta["watermark"] = 7
    assert index.kind == "exact"
    index.add(np.arange(200, 400), vecs[200:])
    assert index.kind == "hnsw" and len(index) == 400
    assert index.meta["watermark"] == 7
    assert index.search(vecs[321], 1)[0][0] == 321
    index.save()

    reopened = open_vector_index(path, DIM, exact_max=250)
    assert reopened.kind == "hnsw" and len(reopened) == 400 and reopened.meta["watermark"] == 7


def test_auto_index_starts_as_hnsw_for_a_big_backfill() -> None:
    index = open_vector_index(None, DIM, exact_max=1000, expected_size=5000, quantization="i8")
    assert index.kind == "hnsw"
    with pytest.raises(ValueError, match="without a path"):
        index.save()


def test_reopening_with_another_dimension_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vectors.idx"
    index = open_vector_index(path, DIM, exact_max=10)
    index.add(np.arange(3), clustered(3))
    index.save()
    with pytest.raises(StoreError, match="rebuilt from the database"):
        open_vector_index(path, DIM * 2, exact_max=10)


@pytest.mark.parametrize("content", [b"", b"garbage that is not an index", b"PLVECS01\xff\xff"])
def test_unreadable_file_is_a_store_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "vectors.idx"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=str(path.name)):
        load_vector_index(path)


def test_truncated_exact_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "vectors.idx"
    index = ExactVectorIndex(DIM)
    index.add(np.arange(10), clustered(10))
    index.save(path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(StoreError, match="bytes"):
        load_vector_index(path)


def test_top_k_breaks_ties_by_smaller_key() -> None:
    keys = np.array([9, 3, 7, 1], dtype=np.int64)
    scores = np.array([0.5, 0.9, 0.5, 0.5], dtype=np.float32)
    assert top_k(keys, scores, 2) == [(3, pytest.approx(0.9)), (1, 0.5)]
    assert [k for k, _ in top_k(keys, scores, 10)] == [3, 1, 7, 9]
