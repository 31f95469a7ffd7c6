"""The vector index file format, and the approximate (usearch HNSW) index.

One file per index, written atomically::

    b"PLVECS01" | u64 little-endian header length | header JSON | pad to 4 KiB | payload

The header names the kind (``exact`` or ``hnsw``), the dimension, the count,
the caller's ``meta`` (model name, watermark) and the HNSW settings. Keeping
``meta`` in the same file as the vectors means the watermark can never
describe a different set of vectors than the one on disk, which two files
renamed one after the other could not promise. The payload starts on a page
boundary so an HNSW payload can be memory-mapped and handed to usearch as is.

Saving writes a temp file beside the target, fsyncs it and ``os.replace``-s it
into place, so a reader (or a crash) sees the old index or the new one, never
half of one. The index is derived data: the database holds every vector, so a
lost or corrupt file is rebuilt, never repaired.

HNSW settings (``HnswParams``) were chosen with ``bench/vectors.py``; see
docs/embeddings.md for the measurements.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import struct
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from paperlens.errors import StoreError

logger = logging.getLogger(__name__)

MAGIC = b"PLVECS01"
FORMAT_VERSION = 1
_ALIGN = 4096
QUANTIZATIONS = ("f32", "f16", "i8")


@dataclass(frozen=True, slots=True)
class HnswParams:
    """HNSW graph settings; see docs/embeddings.md for the measurements behind them.

    ``connectivity`` (M) is fixed when the graph is built; ``expansion_search``
    (ef) can change on a loaded index and trades latency for recall.
    """

    connectivity: int = 16
    expansion_add: int = 128
    # 1M synthetic MiniLM-like vectors (bench/vectors.py), f16: ef 64 → recall@10
    # 0.975, 96 → 0.984, 128 → 0.992 at ~1 ms p50. 128 buys margin for real
    # embeddings, and 1 ms is small next to the ~8 ms it takes to encode the query.
    expansion_search: int = 128


# ---------------------------------------------------------------------------
# The file container


def write_index_file(
    path: str | os.PathLike[str], header: dict[str, Any], write_payload: Callable[[IO[bytes]], None]
) -> None:
    """Write ``header`` and a payload to ``path`` atomically (temp file + ``os.replace``).

    On any error the temp file is removed and the old file at ``path`` is left
    untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC)
            blob = json.dumps({"format": FORMAT_VERSION, **header}, allow_nan=False).encode()
            pad = (-(len(MAGIC) + 8 + len(blob))) % _ALIGN
            blob += b" " * pad
            f.write(struct.pack("<Q", len(blob)))
            f.write(blob)
            write_payload(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(target.parent)


def read_index_header(path: str | os.PathLike[str]) -> tuple[dict[str, Any], int]:
    """Return ``(header, payload offset)``; ``StoreError`` if the file is not an index."""
    try:
        with open(path, "rb") as f:
            magic = f.read(len(MAGIC))
            raw_len = f.read(8)
            if magic != MAGIC or len(raw_len) != 8:
                raise StoreError(f"{path}: not a paperlens vector index; {_REBUILD_HINT}")
            (length,) = struct.unpack("<Q", raw_len)
            if length > 1 << 26:
                raise StoreError(f"{path}: index header is corrupt; {_REBUILD_HINT}")
            header = json.loads(f.read(length))
    except (OSError, ValueError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise StoreError(f"{path}: cannot read vector index ({exc}); {_REBUILD_HINT}") from exc
    if header.get("format") != FORMAT_VERSION:
        raise StoreError(
            f"{path}: vector index format {header.get('format')} is not {FORMAT_VERSION}; "
            f"{_REBUILD_HINT}"
        )
    return header, len(MAGIC) + 8 + length


_REBUILD_HINT = "delete the file and it will be rebuilt from the database"


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------
# Shared vector helpers


def as_keys(keys: Any) -> np.ndarray:
    """Keys as a 1-D int64 array (a scalar becomes one key)."""
    arr = np.asarray(keys)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"keys must be 1-D, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"keys must be integers, got {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def as_unit_rows(vectors: Any, dim: int, count: int) -> np.ndarray:
    """Vectors as C-contiguous float32 ``(count, dim)`` rows of unit length.

    Rows are re-normalised so that a dot product is the cosine even if a caller
    passes raw model output; a zero row stays zero.
    """
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.shape != (count, dim):
        raise ValueError(f"expected vectors of shape ({count}, {dim}), got {arr.shape}")
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    np.maximum(norms, 1e-12, out=norms)
    return np.ascontiguousarray(arr / norms, dtype=np.float32)


def as_unit_query(query: Any, dim: int) -> np.ndarray:
    """A query as a unit float32 vector of length ``dim``."""
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    if q.shape != (dim,):
        raise ValueError(f"query must have {dim} dimensions, got {q.shape[0]}")
    return q / max(float(np.linalg.norm(q)), 1e-12)


def last_occurrences(keys: np.ndarray) -> np.ndarray:
    """Row numbers that survive when a key repeats within one batch: the last one wins."""
    if len(keys) < 2:
        return np.arange(len(keys))
    _, last_from_end = np.unique(keys[::-1], return_index=True)
    if len(last_from_end) == len(keys):
        return np.arange(len(keys))
    return np.sort(len(keys) - 1 - last_from_end)


def dedupe_last(keys: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop earlier duplicates of a key within one batch: the last vector wins."""
    rows = last_occurrences(keys)
    if len(rows) == len(keys):
        return keys, vectors
    return keys[rows], vectors[rows]


def top_k(keys: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best ``(key, score)`` pairs, best first; ties go to the smaller key.

    ``argpartition`` keeps this O(n) on a million scores; the tie rule makes
    results reproducible across runs and index kinds.
    """
    if k <= 0 or len(scores) == 0:
        return []
    if k < len(scores):
        part = np.argpartition(-scores, k - 1)[:k]
        # Rows tied with the k-th score may sit outside the partition; take them
        # all so the tie rule, not the partition order, picks among them.
        kth = scores[part].min()
        part = np.flatnonzero(scores >= kth)
    else:
        part = np.arange(len(scores))
    order = np.lexsort((keys[part], -scores[part]))[:k]
    chosen = part[order]
    return [(int(key), float(s)) for key, s in zip(keys[chosen], scores[chosen], strict=True)]


# ---------------------------------------------------------------------------
# The HNSW index


class HnswVectorIndex:
    """Approximate nearest neighbours over int64 keys with usearch HNSW.

    ``f16`` and ``f32`` store unit vectors and score by inner product. ``i8``
    scores by cosine over int8 vectors that paperlens quantises itself: each
    row is scaled so its largest component is ±127, then rounded. Left to
    usearch, a float vector is normalised and cast as ``trunc(127 * x)``; unit
    384-dim vectors have components of about ±0.05, so that uses only a
    handful of the 255 levels. On 50k MiniLM-like vectors (ef 128) usearch's
    cast gave recall@10 0.915 and the per-row scaling 0.988. Cosine does not
    see the per-row scale, and queries are quantised the same way.
    """

    kind = "hnsw"
    ADD_CHUNK = 65536

    def __init__(
        self,
        dim: int,
        *,
        quantization: str = "f16",
        params: HnswParams | None = None,
        meta: dict[str, Any] | None = None,
        threads: int = 0,
    ) -> None:
        if quantization not in QUANTIZATIONS:
            raise ValueError(f"quantization must be one of {QUANTIZATIONS}, not {quantization!r}")
        self.dim = int(dim)
        self.quantization = quantization
        self.params = params or HnswParams()
        self.meta: dict[str, Any] = {"dim": self.dim, **(meta or {})}
        self.threads = threads
        self._mmap: np.memmap[Any, Any] | None = None
        self._index = self._new_usearch_index()

    def _new_usearch_index(self) -> Any:
        from usearch.index import Index

        metric = "cos" if self.quantization == "i8" else "ip"
        return Index(
            ndim=self.dim,
            metric=metric,
            dtype=self.quantization,
            connectivity=self.params.connectivity,
            expansion_add=self.params.expansion_add,
            expansion_search=self.params.expansion_search,
        )

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, int | np.integer) or key == _RESERVED_KEY:
            return False
        return bool(self._index.contains(_to_u64(np.array([key], dtype=np.int64))[0]))

    @property
    def read_only(self) -> bool:
        """True for an index memory-mapped with ``load(..., view=True)``."""
        return self._mmap is not None

    def set_expansion_search(self, ef: int) -> None:
        """Change the search depth (ef) on a built or loaded index."""
        self._index.expansion_search = int(ef)
        self.params = HnswParams(self.params.connectivity, self.params.expansion_add, int(ef))

    def add(self, keys: Any, vectors: Any) -> None:
        """Insert vectors; a key already present gets its vector replaced.

        A big batch (a back-fill of a million) is normalised and quantised
        ``ADD_CHUNK`` rows at a time, so the temporary copies stay small next to
        the index itself instead of doubling the caller's matrix.
        """
        self._check_writable()
        k = as_keys(keys)
        if len(k) == 0:
            return
        raw = np.asarray(vectors)
        if raw.ndim == 1:
            raw = raw.reshape(1, -1)
        if raw.shape != (len(k), self.dim):
            raise ValueError(f"expected vectors of shape ({len(k)}, {self.dim}), got {raw.shape}")
        if (k == _RESERVED_KEY).any():
            raise ValueError(f"key {_RESERVED_KEY} is reserved by the HNSW index")
        rows = last_occurrences(k)
        for start in range(0, len(rows), self.ADD_CHUNK):
            take = rows[start : start + self.ADD_CHUNK]
            u = _to_u64(k[take])
            v = as_unit_rows(raw[take], self.dim, len(take))
            present = np.asarray(self._index.contains(u), dtype=bool)
            if present.any():
                self._index.remove(u[present])
            self._index.add(u, self._stored_form(v), threads=self.threads)

    def remove(self, keys: Any) -> int:
        """Remove keys; returns how many were present. Unknown keys are ignored."""
        self._check_writable()
        k = np.unique(as_keys(keys))
        u = _to_u64(k[k != _RESERVED_KEY])
        if len(u) == 0:
            return 0
        present = u[np.asarray(self._index.contains(u), dtype=bool)]
        if len(present):
            self._index.remove(present)
        return len(present)

    def get(self, key: int) -> np.ndarray | None:
        """The stored vector (de-quantised, unit length), or ``None``."""
        if key == _RESERVED_KEY:
            return None
        u = _to_u64(np.array([key], dtype=np.int64))[0]
        vec = self._index.get(u, dtype="f32")
        if vec is None:
            return None
        vec = np.asarray(vec, dtype=np.float32).reshape(-1)
        return vec / max(float(np.linalg.norm(vec)), 1e-12)

    def keys(self) -> np.ndarray:
        """Every key, int64, in no particular order."""
        return _from_u64(np.asarray(self._index.keys, dtype=np.uint64))

    def search(
        self, query: Any, k: int, *, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` nearest keys by cosine, best first, optionally only among ``allowed``.

        With a filter the cheaper of two plans runs. Scoring the allowed rows
        exactly costs about one vector fetch per allowed key; over-fetching from
        the graph costs about ``k * n / m`` visited results for ``m`` allowed
        keys. They cross where ``m² ≈ 2.5 k n`` (≈ 5,000 allowed at 1M, k = 10),
        so smaller filters are scored exactly and larger ones over-fetch, with
        the exact plan as the fallback when over-fetching finds too few.
        """
        q = as_unit_query(query, self.dim)
        n = len(self._index)
        if k <= 0 or n == 0:
            return []
        if allowed is None:
            return self._graph_search(q, min(k, n))
        allow = np.unique(as_keys(allowed))
        allow = allow[allow != _RESERVED_KEY]
        m = len(allow)
        if m == 0:
            return []
        if m * m <= 2.5 * k * n or m <= k:
            return self._exact_subset(q, allow, k)
        fetch = min(n, math.ceil(2 * k * n / m) + k)
        for _ in range(3):
            hits = self._graph_search(q, fetch)
            hit_keys = np.fromiter((key for key, _ in hits), dtype=np.int64, count=len(hits))
            mask = np.isin(hit_keys, allow, assume_unique=False)
            kept = [hit for hit, ok in zip(hits, mask, strict=True) if ok]
            if len(kept) >= k or fetch >= n:
                return kept[:k]
            fetch = min(n, fetch * 4)
        return self._exact_subset(q, allow, k)

    def _stored_form(self, rows: np.ndarray) -> np.ndarray:
        """Rows as the index stores them: float, or int8 scaled per row (see class doc)."""
        if self.quantization != "i8":
            return rows
        peak = np.maximum(np.abs(rows).max(axis=1, keepdims=True), 1e-12)
        quantised: np.ndarray = np.rint(rows * (127.0 / peak)).astype(np.int8)
        return quantised

    def _graph_search(self, q: np.ndarray, count: int) -> list[tuple[int, float]]:
        matches = self._index.search(self._stored_form(q.reshape(1, -1))[0], count, threads=1)
        keys = _from_u64(np.asarray(matches.keys, dtype=np.uint64))
        # f16/i8 rounding can put a self-match a hair above 1; cosines live in [-1, 1].
        sims = np.clip(1.0 - np.asarray(matches.distances, dtype=np.float64), -1.0, 1.0)
        return [(int(key), float(s)) for key, s in zip(keys, sims, strict=True)]

    def _exact_subset(self, q: np.ndarray, allow: np.ndarray, k: int) -> list[tuple[int, float]]:
        u = _to_u64(allow)
        present = np.asarray(self._index.contains(u), dtype=bool)
        if not present.any():
            return []
        keys = allow[present]
        rows = self._index.get(u[present], dtype="f32")
        mat = np.vstack(rows).astype(np.float32, copy=False)
        mat /= np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-12)
        return top_k(keys, mat @ q, k)

    # -- persistence ------------------------------------------------------

    def header(self) -> dict[str, Any]:
        """What the file header records about this index."""
        return {
            "kind": self.kind,
            "dim": self.dim,
            "count": len(self),
            "quantization": self.quantization,
            "hnsw": asdict(self.params),
            "meta": self.meta,
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index to ``path`` atomically.

        usearch writes its graph to a scratch file that is then streamed into
        the container, so saving never holds a second in-memory copy of a
        multi-GB index.
        """
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, scratch = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".usearch", dir=target.parent
        )
        os.close(fd)
        try:
            self._index.save(scratch)

            def payload(f: IO[bytes]) -> None:
                with open(scratch, "rb") as src:
                    shutil.copyfileobj(src, f, 1 << 22)

            write_index_file(target, self.header(), payload)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(scratch)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, view: bool = False) -> HnswVectorIndex:
        """Open an HNSW index file; ``view=True`` memory-maps it read-only.

        A view starts in milliseconds and shares pages between processes (web
        workers), but cannot be changed; the indexer loads a private copy.
        """
        header, offset = read_index_header(path)
        if header.get("kind") != cls.kind:
            raise StoreError(f"{path}: holds a {header.get('kind')!r} index, not {cls.kind!r}")
        return cls._from_header(path, header, offset, view=view)

    @classmethod
    def _from_header(
        cls, path: str | os.PathLike[str], header: dict[str, Any], offset: int, *, view: bool
    ) -> HnswVectorIndex:
        params = HnswParams(**header["hnsw"])
        index = cls(
            int(header["dim"]),
            quantization=header["quantization"],
            params=params,
            meta=header.get("meta") or {},
        )
        mm = np.memmap(path, dtype=np.uint8, mode="r", offset=offset)
        try:
            if view:
                index._index.view(mm)
                index._mmap = mm
            else:
                index._index.load(mm)
        except (RuntimeError, ValueError) as exc:
            raise StoreError(f"{path}: HNSW payload is corrupt ({exc}); {_REBUILD_HINT}") from exc
        # usearch restores ef from the file; keep the header's (possibly tuned) value.
        index._index.expansion_search = params.expansion_search
        if len(index) != int(header["count"]):
            raise StoreError(
                f"{path}: header says {header['count']} vectors but the graph holds "
                f"{len(index)}; {_REBUILD_HINT}"
            )
        return index

    def _check_writable(self) -> None:
        if self._mmap is not None:
            raise StoreError("this vector index was opened read-only (view=True); load a copy")


def _to_u64(keys: np.ndarray) -> np.ndarray:
    """int64 keys as usearch's uint64 keys, flipping the sign bit.

    usearch reserves the all-ones key (2**64 - 1) to mark empty slots. A plain
    bit cast would send key -1 there, a value buggy callers do pass; with the
    sign bit flipped only int64's maximum lands on it, and that one is refused.
    """
    return np.ascontiguousarray(keys, dtype=np.int64).view(np.uint64) ^ _SIGN_BIT


def _from_u64(keys: np.ndarray) -> np.ndarray:
    return (np.ascontiguousarray(keys, dtype=np.uint64) ^ _SIGN_BIT).view(np.int64)


_SIGN_BIT = np.uint64(1 << 63)
_RESERVED_KEY = np.iinfo(np.int64).max
