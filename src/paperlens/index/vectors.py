"""Vector search over int64 paper keys: the protocol, the exact index and the factory.

Two implementations answer the same ``VectorIndex`` protocol:

* ``ExactVectorIndex``: a float32 numpy matrix scored by one matrix-vector
  product. Always right, and fast enough for small corpora (about 4 ms per
  query at 100k vectors on the 2-core box, 40 ms at 1M; bench/vectors.py).
* ``HnswVectorIndex`` (``ann_file.py``): usearch HNSW with f16 or i8 storage,
  about a millisecond per query at 1M at recall@10 ≈ 0.95+.

``open_vector_index`` returns an ``AutoVectorIndex`` that starts exact and
moves itself to HNSW once it holds more than ``exact_max`` vectors, so a
corpus that grows from a few thousand papers to all of arXiv needs no manual
switch. Scores are cosine similarities (vectors are unit length), best first.

The database is the source of truth for vectors; these indexes are rebuilt from
it at will. ``meta`` travels in the same file (model name, dim, and a
``watermark`` the caller sets to the last change it indexed), so after a crash
the caller re-applies everything past the watermark.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from paperlens.errors import StoreError
from paperlens.index.ann_file import (
    QUANTIZATIONS,
    HnswParams,
    HnswVectorIndex,
    as_keys,
    as_unit_query,
    as_unit_rows,
    dedupe_last,
    read_index_header,
    top_k,
    write_index_file,
)

logger = logging.getLogger(__name__)

__all__ = [
    "AutoVectorIndex",
    "ExactVectorIndex",
    "HnswParams",
    "HnswVectorIndex",
    "VectorIndex",
    "load_vector_index",
    "open_vector_index",
]


@runtime_checkable
class VectorIndex(Protocol):
    """What rank/ and ingest need from a vector index, whichever kind runs."""

    dim: int
    meta: dict[str, Any]
    """Persisted with the vectors: ``dim``, and what the caller sets (``model``, ``watermark``)."""

    def __len__(self) -> int: ...
    def __contains__(self, key: object) -> bool: ...
    def add(self, keys: Any, vectors: Any) -> None: ...
    def remove(self, keys: Any) -> int: ...
    def search(
        self, query: Any, k: int, *, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]: ...
    def get(self, key: int) -> np.ndarray | None: ...
    def keys(self) -> np.ndarray: ...
    def save(self, path: str | os.PathLike[str]) -> None: ...


class ExactVectorIndex:
    """Brute-force cosine search over a growable float32 matrix.

    Rows are kept dense: removing a key moves the last row into its slot, so a
    search is always one ``matrix @ query`` over live rows with no tombstones.

    The product runs with OpenBLAS limited to one thread below
    ``SINGLE_THREAD_ROWS`` rows. On a 2-core box that is also ingesting,
    OpenBLAS's second thread spins waiting for a core: a 2,000-row product
    measured p50 40 ms with two threads against 0.12 ms with one. Above the
    limit the product is memory-bound and two threads are no worse (1M rows
    under the same load: 658 ms with two, 794 ms with one), so they are kept.
    """

    SINGLE_THREAD_ROWS = 1 << 18

    kind = "exact"

    def __init__(self, dim: int, *, meta: dict[str, Any] | None = None) -> None:
        self.dim = int(dim)
        self.meta: dict[str, Any] = {"dim": self.dim, **(meta or {})}
        self._keys = np.empty(0, dtype=np.int64)
        self._vecs = np.empty((0, self.dim), dtype=np.float32)
        self._n = 0
        self._row: dict[int, int] = {}
        self._blas: Any = None  # threadpoolctl controller, made on first use (~0.1 s)

    def __len__(self) -> int:
        return self._n

    def __contains__(self, key: object) -> bool:
        return isinstance(key, int | np.integer) and int(key) in self._row

    def keys(self) -> np.ndarray:
        """Every key, int64, in storage order."""
        return self._keys[: self._n].copy()

    def vectors(self) -> np.ndarray:
        """The live rows (a view; row ``i`` belongs to ``keys()[i]``)."""
        return self._vecs[: self._n]

    def add(self, keys: Any, vectors: Any) -> None:
        """Insert vectors; a key already present gets its vector replaced."""
        k = as_keys(keys)
        if len(k) == 0:
            return
        v = as_unit_rows(vectors, self.dim, len(k))
        k, v = dedupe_last(k, v)
        rows = np.fromiter((self._row.get(int(key), -1) for key in k), np.int64, len(k))
        old = rows >= 0
        self._vecs[rows[old]] = v[old]
        new_k, new_v = k[~old], v[~old]
        if len(new_k) == 0:
            return
        self._reserve(self._n + len(new_k))
        start, end = self._n, self._n + len(new_k)
        self._keys[start:end] = new_k
        self._vecs[start:end] = new_v
        self._row.update(zip(new_k.tolist(), range(start, end), strict=True))
        self._n = end

    def remove(self, keys: Any) -> int:
        """Remove keys; returns how many were present. Unknown keys are ignored."""
        removed = 0
        for key in np.unique(as_keys(keys)).tolist():
            row = self._row.pop(key, None)
            if row is None:
                continue
            last = self._n - 1
            if row != last:
                moved = int(self._keys[last])
                self._keys[row] = moved
                self._vecs[row] = self._vecs[last]
                self._row[moved] = row
            self._n = last
            removed += 1
        return removed

    def get(self, key: int) -> np.ndarray | None:
        """A copy of the stored unit vector, or ``None``."""
        row = self._row.get(int(key))
        return None if row is None else self._vecs[row].copy()

    def search(
        self, query: Any, k: int, *, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` most similar keys by cosine, best first, optionally within ``allowed``.

        A small ``allowed`` set is looked up row by row and only those rows are
        scored; a large one is matched with ``np.isin`` over all keys, which is
        cheaper than a dict lookup per allowed key once it covers a good share
        of the index.
        """
        q = as_unit_query(query, self.dim)
        if k <= 0 or self._n == 0:
            return []
        keys = self._keys[: self._n]
        if allowed is None:
            return top_k(keys, self._scores(self._vecs[: self._n], q), k)
        allow = as_keys(allowed)
        if len(allow) * 8 < self._n:
            rows = np.fromiter((self._row.get(a, -1) for a in allow.tolist()), np.int64, len(allow))
            rows = np.unique(rows[rows >= 0])
        else:
            rows = np.flatnonzero(np.isin(keys, allow))
        if len(rows) == 0:
            return []
        return top_k(keys[rows], self._scores(self._vecs[rows], q), k)

    def _scores(self, mat: np.ndarray, q: np.ndarray) -> np.ndarray:
        scores: np.ndarray
        if len(mat) < self.SINGLE_THREAD_ROWS and self._blas is None:
            self._blas = _blas_controller()
        if len(mat) >= self.SINGLE_THREAD_ROWS or self._blas is False:
            scores = mat @ q
        else:
            with self._blas.limit(limits=1, user_api="blas"):
                scores = mat @ q
        return scores

    def header(self) -> dict[str, Any]:
        """What the file header records about this index."""
        return {"kind": self.kind, "dim": self.dim, "count": self._n, "meta": self.meta}

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write keys then vectors to ``path`` atomically (temp file + ``os.replace``)."""
        n = self._n

        def payload(f: Any) -> None:
            f.write(np.ascontiguousarray(self._keys[:n]).data)
            f.write(np.ascontiguousarray(self._vecs[:n]).data)

        write_index_file(path, self.header(), payload)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ExactVectorIndex:
        """Read an exact index file written by :meth:`save`."""
        header, offset = read_index_header(path)
        if header.get("kind") != cls.kind:
            raise StoreError(f"{path}: holds a {header.get('kind')!r} index, not {cls.kind!r}")
        return cls._from_header(path, header, offset)

    @classmethod
    def _from_header(
        cls, path: str | os.PathLike[str], header: dict[str, Any], offset: int
    ) -> ExactVectorIndex:
        dim, n = int(header["dim"]), int(header["count"])
        expected = offset + n * 8 + n * dim * 4
        if os.path.getsize(path) != expected:
            raise StoreError(
                f"{path}: exact index should be {expected} bytes but is "
                f"{os.path.getsize(path)}; delete the file and it will be rebuilt from the database"
            )
        index = cls(dim, meta=header.get("meta") or {})
        index._keys = np.fromfile(path, dtype=np.int64, count=n, offset=offset)
        vecs = np.fromfile(path, dtype=np.float32, count=n * dim, offset=offset + n * 8)
        index._vecs = vecs.reshape(n, dim)
        index._n = n
        index._row = dict(zip(index._keys.tolist(), range(n), strict=True))
        return index

    def _reserve(self, needed: int) -> None:
        """Grow capacity by half again (amortised O(1) appends)."""
        if needed <= len(self._keys):
            return
        cap = max(needed, len(self._keys) * 3 // 2, 1024)
        keys = np.empty(cap, dtype=np.int64)
        vecs = np.empty((cap, self.dim), dtype=np.float32)
        keys[: self._n] = self._keys[: self._n]
        vecs[: self._n] = self._vecs[: self._n]
        self._keys, self._vecs = keys, vecs


def _blas_controller() -> Any:
    """A threadpoolctl controller, or ``False`` when threadpoolctl is not installed.

    threadpoolctl comes with scikit-learn (a sentence-transformers dependency);
    without it searches still work, with OpenBLAS's default thread count.
    """
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return False
    return ThreadpoolController()


def load_vector_index(
    path: str | os.PathLike[str], *, view: bool = False
) -> ExactVectorIndex | HnswVectorIndex:
    """Open whichever kind of index the file at ``path`` holds.

    ``view=True`` memory-maps an HNSW file read-only (for web workers); it has
    no effect on an exact index, which is always read into memory.
    """
    header, offset = read_index_header(path)
    kind = header.get("kind")
    if kind == ExactVectorIndex.kind:
        return ExactVectorIndex._from_header(path, header, offset)
    if kind == HnswVectorIndex.kind:
        return HnswVectorIndex._from_header(path, header, offset, view=view)
    raise StoreError(f"{path}: unknown vector index kind {kind!r}")


class AutoVectorIndex:
    """Exact while small, HNSW once it holds more than ``exact_max`` vectors.

    The switch happens inside the ``add`` that crosses the threshold: every
    vector moves into a new HNSW graph (minutes at a few hundred thousand on
    two cores), then the exact matrix is dropped. It never switches back; an
    index that shrinks stays approximate until it is rebuilt.
    """

    def __init__(
        self,
        inner: ExactVectorIndex | HnswVectorIndex,
        *,
        path: str | os.PathLike[str] | None,
        exact_max: int,
        quantization: str,
        params: HnswParams | None = None,
    ) -> None:
        self._inner = inner
        self.path = Path(path) if path is not None else None
        self.exact_max = exact_max
        self.quantization = quantization
        self.params = params
        self._maybe_promote()

    @property
    def inner(self) -> ExactVectorIndex | HnswVectorIndex:
        """The index doing the work now."""
        return self._inner

    @property
    def kind(self) -> str:
        """``exact`` or ``hnsw``."""
        return self._inner.kind

    @property
    def dim(self) -> int:
        return self._inner.dim

    @property
    def meta(self) -> dict[str, Any]:
        return self._inner.meta

    def __len__(self) -> int:
        return len(self._inner)

    def __contains__(self, key: object) -> bool:
        return key in self._inner

    def keys(self) -> np.ndarray:
        return self._inner.keys()

    def get(self, key: int) -> np.ndarray | None:
        return self._inner.get(key)

    def add(self, keys: Any, vectors: Any) -> None:
        self._inner.add(keys, vectors)
        self._maybe_promote()

    def remove(self, keys: Any) -> int:
        return self._inner.remove(keys)

    def search(
        self, query: Any, k: int, *, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        return self._inner.search(query, k, allowed=allowed)

    def save(self, path: str | os.PathLike[str] | None = None) -> None:
        """Write atomically to ``path``, or to the path the index was opened from."""
        target = path if path is not None else self.path
        if target is None:
            raise ValueError("this vector index was opened without a path; pass one to save()")
        self._inner.save(target)

    def _maybe_promote(self) -> None:
        inner = self._inner
        if not isinstance(inner, ExactVectorIndex) or len(inner) <= self.exact_max:
            return
        logger.info(
            "vector index holds %d > exact_max %d vectors: building HNSW (%s)",
            len(inner),
            self.exact_max,
            self.quantization,
        )
        ann = HnswVectorIndex(
            inner.dim, quantization=self.quantization, params=self.params, meta=dict(inner.meta)
        )
        ann.add(inner.keys(), inner.vectors())
        self._inner = ann


def open_vector_index(
    path: str | os.PathLike[str] | None,
    dim: int,
    *,
    exact_max: int,
    quantization: str = "f16",
    params: HnswParams | None = None,
    expected_size: int | None = None,
    view: bool = False,
) -> AutoVectorIndex:
    """Open the index at ``path`` (or start an empty one) for ``dim``-dim vectors.

    ``exact_max`` is ``Settings.exact_search_max``. An existing file keeps its
    kind and settings unless it has outgrown ``exact_max``. A new index starts
    exact, or HNSW straight away when ``expected_size`` (say, the number of
    papers about to be back-filled) exceeds ``exact_max``. ``view=True`` maps an
    HNSW file read-only for processes that only search.

    Raises ``StoreError`` when the file is unreadable or was built for another
    dimension (a different model): it must then be deleted and rebuilt.
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}, not {quantization!r}")
    inner: ExactVectorIndex | HnswVectorIndex
    if path is not None and os.path.exists(path):
        inner = load_vector_index(path, view=view)
        if inner.dim != dim:
            raise StoreError(
                f"{path}: vector index holds {inner.dim}-dim vectors but the model makes "
                f"{dim}-dim ones; delete the file and it will be rebuilt from the database"
            )
    elif expected_size is not None and expected_size > exact_max:
        inner = HnswVectorIndex(dim, quantization=quantization, params=params)
    else:
        inner = ExactVectorIndex(dim)
    return AutoVectorIndex(
        inner, path=path, exact_max=exact_max, quantization=quantization, params=params
    )
