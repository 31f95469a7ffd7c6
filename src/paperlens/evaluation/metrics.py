"""Ranking metrics: nDCG@k, Recall@k and MRR@k, as pure functions.

The formulas are trec_eval's (and so pytrec_eval's and BEIR's), so numbers
computed here are comparable with published ones:

- **nDCG@k** uses *linear* gains: a document judged ``rel`` adds
  ``rel / log2(rank + 1)`` (rank from 1). This is trec_eval's ``ndcg_cut``,
  which BEIR reports; with binary qrels linear and exponential (``2**rel - 1``)
  gains are the same thing. The ideal DCG is built from *all* judged grades of
  the query, not only the retrieved ones, and cut at ``k`` too.
- **Recall@k** is the share of the query's relevant documents (grade
  ``>= min_rel``) found in the top ``k`` (trec_eval ``recall_k``).
- **MRR@k** is ``1 / rank`` of the first relevant document in the top ``k``,
  else 0 (BEIR's ``MRR@k``; trec_eval's ``recip_rank`` cut at ``k``).

A ranking is a sequence of document ids, best first; a document that appears
twice counts only at its first position. Means are taken over the queries
that have at least one relevant judgment; a query with no ranking at all
scores 0 (``trec_eval -c``), so a search that fails cannot raise the mean.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

Ranking = Sequence[str]
Judgments = Mapping[str, int]
"""One query's graded judgments: document id -> grade (0 = judged not relevant)."""


def _dedupe(ranking: Ranking) -> list[str]:
    return list(dict.fromkeys(ranking))


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain of gains in rank order (rank 1 first)."""
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains) if g)


def ndcg_at(ranking: Ranking, judgments: Judgments, k: int) -> float:
    """nDCG@k with linear gains; 0.0 when the query has no positive judgment."""
    _check_k(k)
    ideal = dcg(sorted((g for g in judgments.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    top = _dedupe(ranking)[:k]
    return dcg([max(judgments.get(doc, 0), 0) for doc in top]) / ideal


def recall_at(ranking: Ranking, judgments: Judgments, k: int, *, min_rel: int = 1) -> float:
    """Share of the relevant documents (grade >= ``min_rel``) in the top ``k``."""
    _check_k(k)
    relevant = {doc for doc, grade in judgments.items() if grade >= min_rel}
    if not relevant:
        return 0.0
    return len(relevant.intersection(_dedupe(ranking)[:k])) / len(relevant)


def mrr_at(ranking: Ranking, judgments: Judgments, k: int, *, min_rel: int = 1) -> float:
    """Reciprocal rank of the first document with grade >= ``min_rel`` in the top ``k``."""
    _check_k(k)
    for rank, doc in enumerate(_dedupe(ranking)[:k], start=1):
        if judgments.get(doc, 0) >= min_rel:
            return 1.0 / rank
    return 0.0


def has_relevant(judgments: Judgments, *, min_rel: int = 1) -> bool:
    return any(grade >= min_rel for grade in judgments.values())


Metric = Callable[[Ranking, Judgments], float]


def metric(name: str, *, min_rel: int = 1) -> Metric:
    """A one-query metric from its name: ``ndcg@10``, ``recall@100``, ``mrr@10``."""
    kind, _, cut = name.lower().partition("@")
    try:
        k = int(cut)
    except ValueError:
        raise ValueError(f"metric {name!r} needs a cutoff, e.g. {kind}@10") from None
    _check_k(k)
    if kind == "ndcg":
        return lambda ranking, judgments: ndcg_at(ranking, judgments, k)
    if kind == "recall":
        return lambda ranking, judgments: recall_at(ranking, judgments, k, min_rel=min_rel)
    if kind == "mrr":
        return lambda ranking, judgments: mrr_at(ranking, judgments, k, min_rel=min_rel)
    raise ValueError(f"unknown metric {name!r}; use ndcg@k, recall@k or mrr@k")


def per_query(
    name: str,
    run: Mapping[str, Ranking],
    qrels: Mapping[str, Judgments],
    *,
    min_rel: int = 1,
) -> dict[str, float]:
    """``name`` for every query with a relevant judgment; a missing ranking scores 0."""
    fn = metric(name, min_rel=min_rel)
    return {
        qid: fn(run.get(qid, ()), judgments)
        for qid, judgments in qrels.items()
        if has_relevant(judgments, min_rel=min_rel)
    }


def mean(values: Mapping[str, float] | Sequence[float]) -> float:
    items = list(values.values()) if isinstance(values, Mapping) else list(values)
    return sum(items) / len(items) if items else 0.0


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"cutoff must be at least 1, not {k}")
