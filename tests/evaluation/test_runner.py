"""The runner on a tiny BEIR sample: ingest, search, map ids back, score, TREC run files.

Fixtures: ``tests/fixtures/beir/queries_sample.jsonl`` holds SciFact test claims
94, 659, 660 and 1137 copied verbatim from BEIR SciFact ``queries.jsonl``, the
only test claims whose relevant abstracts are in ``corpus_sample.jsonl``;
``qrels_sample_test.tsv`` holds their four rows of ``qrels/test.tsv`` with
BEIR's Windows line endings.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperlens.cli import app
from paperlens.evaluation.beir import BeirIds, default_db, ingest_corpus
from paperlens.evaluation.qrels import QrelSet, Query, load_beir
from paperlens.evaluation.runner import (
    Run,
    evaluate,
    read_trec_run,
    score_run,
    write_trec_run,
)
from paperlens.services import Services

from .test_qrels import beir_sample

METRICS = ("ndcg@10", "recall@100", "mrr@10")


def test_runner_on_the_beir_sample(services: Services, tmp_path: Path) -> None:
    root = beir_sample(tmp_path)
    report = ingest_corpus(services.store, root)
    assert (report.new, report.rejected) == (20, [])
    again = ingest_corpus(services.store, root)
    assert (again.new, again.unchanged) == (0, 20)  # reused, not duplicated
    services.sync_keyword()
    qset = load_beir(root)
    ids = BeirIds(services.store)
    runs, scores = evaluate(services, qset, ["keyword"], METRICS, doc_ids=ids)
    (run,) = runs
    corpus = {json.loads(line)["_id"] for line in (root / "corpus.jsonl").read_text().splitlines()}
    assert set(run.rankings) == {"94", "659", "660", "1137"}
    for ranked in run.rankings.values():
        docs = [d for d, _ in ranked]
        assert docs and set(docs) <= corpus and len(docs) == len(set(docs))
        assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    # each claim names its abstract's drug or gene, which only that abstract contains
    assert {q: r[0][0] for q, r in run.rankings.items()} == {
        "94": "1215116",
        "659": "1215116",
        "660": "1215116",
        "1137": "33370",
    }
    (s,) = scores
    assert s.overall == {"ndcg@10": 1.0, "recall@100": 1.0, "mrr@10": 1.0}
    assert s.queries == {"all": 4}
    assert len(s.latency_ms) == 3


def test_beir_ids_map_through_the_store(services: Services, tmp_path: Path) -> None:
    ingest_corpus(services.store, beir_sample(tmp_path))
    ids = BeirIds(services.store)
    paper = services.store.paper("33370")  # resolves by source key
    assert paper is not None
    assert ids(paper) == ("33370",)
    assert ids(paper) == ("33370",)  # cached


def test_score_run_per_type_and_missing_queries() -> None:
    qset = QrelSet(
        name="t",
        queries=[Query("a", "x", "keyword"), Query("b", "y", "draft"), Query("c", "z", "draft")],
        qrels={"a": {"d1": 3, "d2": 1}, "b": {"d3": 2}, "c": {"d4": 1}},
        min_rel=2,
    )
    run = Run("keyword", rankings={"a": [("d2", 2.0), ("d1", 1.0)], "b": []})
    s = score_run(run, qset, ["ndcg@10", "mrr@10"])
    # c has no grade >= 2, so it is not scored; b ranked nothing and scores 0
    assert s.queries == {"all": 2, "keyword": 1, "draft": 1}
    assert s.by_type["draft"] == {"ndcg@10": 0.0, "mrr@10": 0.0}
    assert s.by_type["keyword"]["mrr@10"] == 0.5
    assert s.overall["mrr@10"] == 0.25


def test_trec_run_format_round_trips() -> None:
    runs = [
        Run("keyword", rankings={"q1": [("d1", 12.5), ("d2", 3.0)], "q2": []}),
        Run("hybrid", rankings={"q1": [("d2", 0.0331), ("d1", 0.0164)]}),
    ]
    buffer = io.StringIO()
    assert write_trec_run(runs, buffer) == 4
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "q1 Q0 d1 1 12.500000 keyword"
    assert lines[3] == "q1 Q0 d1 2 0.016400 hybrid"
    for line in lines:
        _qid, q0, _doc, rank, score, _tag = line.split(" ")
        assert q0 == "Q0" and int(rank) >= 1 and float(score) >= 0
    back = read_trec_run(io.StringIO(buffer.getvalue()))
    assert back == {
        "keyword": {"q1": [("d1", 12.5), ("d2", 3.0)]},
        "hybrid": {"q1": [("d2", 0.0331), ("d1", 0.0164)]},
    }
    with pytest.raises(ValueError, match="line 1"):
        read_trec_run(io.StringIO("q1 Q0 d1 1 0.5\n"))


def test_trec_run_keeps_top_100() -> None:
    run = Run("semantic", rankings={"q": [(f"d{i}", 1.0 - i / 1000) for i in range(150)]})
    buffer = io.StringIO()
    assert write_trec_run([run], buffer) == 100


def test_default_beir_db_is_outside_the_collection(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    root = beir_sample(tmp_path)
    db = default_db(root)
    assert db.parent == tmp_path / "data" / "paperlens" / "beir"
    assert db.name.startswith("paperlens-beir-scifact-sample-") and db.suffix == ".db"
    assert default_db(root) == db


def test_cli_eval_beir(tmp_path: Path) -> None:
    root = beir_sample(tmp_path)
    run_file = tmp_path / "run.txt"
    args = ["eval", "--beir", str(root), "--modes", "keyword", "--db", str(tmp_path / "b.db")]
    result = CliRunner().invoke(app, [*args, "--json", "--run-out", str(run_file)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["qrels"] == "scifact-sample/test"
    (mode,) = data["modes"]
    assert mode["mode"] == "keyword"
    assert mode["overall"]["ndcg@10"] == 1.0
    assert data["ingest"]["new"] == 20
    with run_file.open() as stream:
        assert read_trec_run(stream)["keyword"]["1137"][0][0] == "33370"
    table = CliRunner().invoke(app, args)  # reuses the store; prints a table
    assert table.exit_code == 0, table.output
    assert "ndcg@10" in table.stdout and "keyword" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "exactly one"),
        (["--qrels", "x.json", "--beir", "."], "exactly one"),
        (["--beir", ".", "--modes", "fuzzy"], "unknown mode"),
    ],
)
def test_cli_eval_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["eval", *args])
    assert result.exit_code == 2
    assert message in result.stderr
