"""Metrics against hand-computed cases, and against trec_eval (pytrec_eval) when installed."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperlens.evaluation.metrics import (
    dcg,
    mean,
    metric,
    mrr_at,
    ndcg_at,
    per_query,
    recall_at,
)

LOG2_3 = math.log2(3)


def test_dcg_hand_computed() -> None:
    # 3/log2(2) + 0 + 1/log2(4)
    assert dcg([3, 0, 1]) == pytest.approx(3 + 1 / 2)


def test_ndcg_graded_hand_computed() -> None:
    judgments = {"a": 3, "b": 2, "c": 1, "z": 0}
    # ranking c, a, x(unjudged), b: gains 1, 3, 0, 2
    got = ndcg_at(["c", "a", "x", "b"], judgments, 10)
    actual = 1 + 3 / LOG2_3 + 2 / math.log2(5)
    ideal = 3 + 2 / LOG2_3 + 1 / 2
    assert got == pytest.approx(actual / ideal)


def test_ndcg_cut_uses_ideal_at_k() -> None:
    judgments = {"a": 1, "b": 1, "c": 1}
    # top 2 has one relevant doc at rank 2; ideal@2 has two
    assert ndcg_at(["x", "a", "b"], judgments, 2) == pytest.approx((1 / LOG2_3) / (1 + 1 / LOG2_3))


def test_ndcg_linear_gain_not_exponential() -> None:
    judgments = {"a": 3, "b": 1}
    linear = (1 + 3 / LOG2_3) / (3 + 1 / LOG2_3)
    assert ndcg_at(["b", "a"], judgments, 10) == pytest.approx(linear)


def test_ndcg_edge_cases() -> None:
    assert ndcg_at([], {"a": 2}, 10) == 0.0
    assert ndcg_at(["a"], {"a": 0}, 10) == 0.0  # no relevant judgment
    assert ndcg_at(["a", "b"], {"a": 2, "b": 2}, 10) == pytest.approx(1.0)
    # a duplicate counts once, at its first place
    assert ndcg_at(["a", "a", "b"], {"a": 1, "b": 1}, 10) == pytest.approx(1.0)


def test_recall_and_mrr_hand_computed() -> None:
    judgments = {"a": 2, "b": 1, "c": 3, "d": 0}
    ranking = ["d", "x", "b", "c", "a"]
    assert recall_at(ranking, judgments, 4) == pytest.approx(2 / 3)
    assert recall_at(ranking, judgments, 4, min_rel=2) == pytest.approx(1 / 2)
    assert recall_at(ranking, judgments, 5, min_rel=2) == 1.0
    assert mrr_at(ranking, judgments, 10) == pytest.approx(1 / 3)
    assert mrr_at(ranking, judgments, 10, min_rel=2) == pytest.approx(1 / 4)
    assert mrr_at(ranking, judgments, 3, min_rel=2) == 0.0
    assert recall_at(ranking, {"d": 0}, 10) == 0.0


def test_metric_by_name_and_bad_names() -> None:
    assert metric("nDCG@10")(["a"], {"a": 1}) == 1.0
    assert metric("recall@1")(["b", "a"], {"a": 1}) == 0.0
    assert metric("mrr@2", min_rel=2)(["b", "a"], {"a": 2}) == 0.5
    for bad in ("ndcg", "ndcg@x", "map@10", "mrr@0"):
        with pytest.raises(ValueError):
            metric(bad)


def test_per_query_scores_missing_runs_zero_and_skips_unjudgeable() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 0}}
    values = per_query("ndcg@10", {"q1": ["a"]}, qrels)
    assert values == {"q1": 1.0, "q2": 0.0}
    assert mean(values) == 0.5
    assert mean([]) == 0.0


# -- cross-check with trec_eval ------------------------------------------------

_docs = st.sampled_from([f"d{i}" for i in range(12)])
_qrels = st.dictionaries(_docs, st.integers(0, 3), min_size=1, max_size=8).filter(
    lambda j: any(g > 0 for g in j.values())
)
_rankings = st.lists(_docs, unique=True, max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_qrels, _rankings), min_size=1, max_size=5))
def test_agrees_with_pytrec_eval(cases: list[tuple[dict[str, int], list[str]]]) -> None:
    pytrec_eval = pytest.importorskip("pytrec_eval")
    qrels = {f"q{i}": judged for i, (judged, _) in enumerate(cases)}
    # strictly decreasing scores, so trec_eval keeps our order
    run = {
        f"q{i}": {doc: float(100 - r) for r, doc in enumerate(ranking)}
        for i, (_, ranking) in enumerate(cases)
    }
    run = {q: r for q, r in run.items() if r}  # trec_eval drops queries without results
    if not run:
        return
    evaluator = pytrec_eval.RelevanceEvaluator(
        qrels, {"ndcg_cut.5,10", "recall.5,10", "recip_rank"}
    )
    theirs = evaluator.evaluate(run)
    for qid, scores in theirs.items():
        ranking = list(run[qid])
        judged = qrels[qid]
        assert ndcg_at(ranking, judged, 10) == pytest.approx(scores["ndcg_cut_10"], abs=1e-9)
        assert ndcg_at(ranking, judged, 5) == pytest.approx(scores["ndcg_cut_5"], abs=1e-9)
        assert recall_at(ranking, judged, 5) == pytest.approx(scores["recall_5"], abs=1e-9)
        assert recall_at(ranking, judged, 10) == pytest.approx(scores["recall_10"], abs=1e-9)
        # recip_rank has no cutoff; our 12-document rankings never pass 100
        assert mrr_at(ranking, judged, 100) == pytest.approx(scores["recip_rank"], abs=1e-9)
