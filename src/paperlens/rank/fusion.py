"""Fusing ranked lists: reciprocal-rank fusion and weighted score fusion.

Each fused result keeps the parts of its score (every ranker's rank, raw
score and contribution), so ``--explain`` can show why it ranks where it does.

* RRF (Cormack et al., 2009): ``sum 1 / (k + rank)``; needs no score
  calibration, but throws away how much better the first hit is than the tenth.
* Weighted: each ranker's scores are put on one scale (z-scores by default;
  BM25 is unbounded and cosine is not comparable to it), then
  ``alpha * keyword + (1 - alpha) * semantic``. ``rank/search.py`` first gives
  every candidate its real score from both rankers. The default (z-score,
  alpha 0.4, 200 candidates per ranker) was chosen by measurement on the
  development set; the table of every setting tried is in docs/evaluation.md.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Fused:
    key: int
    score: float
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)


def rrf(lists: Mapping[str, Sequence[tuple[int, float]]], *, k: int = 60) -> list[Fused]:
    """Reciprocal-rank fusion of ``{ranker: [(key, raw score), ...best first]}``."""
    fused: dict[int, Fused] = {}
    for name, ranked in lists.items():
        for rank, (key, raw) in enumerate(ranked, start=1):
            item = fused.setdefault(key, Fused(key, 0.0))
            contribution = 1.0 / (k + rank)
            item.score += contribution
            item.parts[name] = {"rank": rank, "score": round(raw, 4),
                                "contribution": round(contribution, 5)}  # fmt: skip
    return sorted(fused.values(), key=lambda f: (-f.score, f.key))


def _scaler(values: Sequence[float], how: str) -> Callable[[float], float]:
    """Map one ranker's raw scores onto a common scale (``max``, ``minmax`` or ``zscore``)."""
    if how == "zscore":
        mean = statistics.fmean(values)
        spread = statistics.pstdev(values) or 1.0
        return lambda raw: (raw - mean) / spread
    top = max(values)
    low = min(values) if how == "minmax" else 0.0
    span = (top - low) or 1.0
    return lambda raw: (max(raw, low) - low) / span


def weighted(
    lists: Mapping[str, Sequence[tuple[int, float]]],
    weights: Mapping[str, float],
    *,
    normalise: str = "max",
) -> list[Fused]:
    """Weighted fusion of normalised scores; ``weights`` per ranker."""
    fused: dict[int, Fused] = {}
    for name, ranked in lists.items():
        if not ranked:
            continue
        scale = _scaler([raw for _k, raw in ranked], normalise)
        for rank, (key, raw) in enumerate(ranked, start=1):
            item = fused.setdefault(key, Fused(key, 0.0))
            contribution = weights[name] * scale(raw)
            item.score += contribution
            item.parts[name] = {"rank": rank, "score": round(raw, 4),
                                "contribution": round(contribution, 5)}  # fmt: skip
    return sorted(fused.values(), key=lambda f: (-f.score, f.key))


def by_similarity(found: Sequence[tuple[int, float]]) -> list[Fused]:
    """A semantic-only ranking in the shape fused rankings have."""
    return [
        Fused(k, s, {"semantic": {"rank": r, "similarity": round(s, 4)}})
        for r, (k, s) in enumerate(found, start=1)
    ]
