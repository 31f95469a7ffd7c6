"""Measuring search quality: metrics, evaluation sets, runs and TREC run files.

``paperlens eval --qrels eval/dev-qrels.json`` scores the development set over
the sample corpus; ``paperlens eval --beir DIR`` scores a BEIR collection
(SciFact) so the numbers sit beside published ones. See docs/evaluation.md.
"""

from paperlens.evaluation.metrics import mean, mrr_at, ndcg_at, recall_at
from paperlens.evaluation.qrels import QrelSet, Query, load_beir, load_dev_qrels
from paperlens.evaluation.runner import ModeScores, Run, evaluate, write_trec_run

__all__ = [
    "ModeScores",
    "QrelSet",
    "Query",
    "Run",
    "evaluate",
    "load_beir",
    "load_dev_qrels",
    "mean",
    "mrr_at",
    "ndcg_at",
    "recall_at",
    "write_trec_run",
]
