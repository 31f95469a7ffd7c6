"""The full BEIR SciFact test split in keyword mode, from ``../shared/benchmarks/scifact``.

About 45 s on the 2-core dev box (ingest 5,183 abstracts, index, 300 queries at
depth 100). Skipped where the benchmark copy is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperlens.cli import app
from paperlens.evaluation.runner import read_trec_run

SCIFACT = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "scifact"


@pytest.mark.slow
@pytest.mark.skipif(not (SCIFACT / "corpus.jsonl").is_file(), reason="no shared SciFact copy")
def test_scifact_keyword_ndcg(tmp_path: Path) -> None:
    run_file = tmp_path / "scifact.run"
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "--beir",
            str(SCIFACT),
            "--modes",
            "keyword",
            "--db",
            str(tmp_path / "s.db"),
            "--json",
            "--run-out",
            str(run_file),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (keyword,) = data["modes"]
    assert keyword["queries"]["all"] == 300
    assert keyword["errors"] == {}
    assert data["ingest"]["new"] + data["ingest"]["merged"] == 5183
    # BEIR BM25 multi-field 0.665, flat 0.679; the target is 0.67
    assert keyword["overall"]["ndcg@10"] >= 0.67
    assert keyword["overall"]["recall@100"] >= 0.88

    # the run file re-scores to the same numbers with trec_eval
    pytrec_eval = pytest.importorskip("pytrec_eval")
    with run_file.open() as stream:
        run = read_trec_run(stream)["keyword"]
    qrels: dict[str, dict[str, int]] = {}
    for line in (SCIFACT / "qrels" / "test.tsv").read_text().splitlines()[1:]:
        qid, doc, grade = line.split("\t")
        qrels.setdefault(qid, {})[doc] = int(grade)
    scores = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10"}).evaluate(
        {qid: dict(ranked) for qid, ranked in run.items() if ranked}
    )
    theirs = sum(s["ndcg_cut_10"] for s in scores.values()) / len(qrels)
    assert theirs == pytest.approx(keyword["overall"]["ndcg@10"], abs=0.003)
