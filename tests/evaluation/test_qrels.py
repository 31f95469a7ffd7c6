"""Loading evaluation sets: dev qrels JSON, BEIR queries.jsonl and CRLF qrels TSV."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from paperlens.errors import ConfigError
from paperlens.evaluation.qrels import (
    DEV_QUERY_TYPES,
    load_beir,
    load_dev_qrels,
    read_qrels_tsv,
)

REPO = Path(__file__).resolve().parents[2]
BEIR_FIXTURES = REPO / "tests" / "fixtures" / "beir"


def beir_sample(tmp_path: Path) -> Path:
    """The 20-document SciFact sample laid out as a BEIR collection directory."""
    root = tmp_path / "scifact-sample"
    (root / "qrels").mkdir(parents=True)
    shutil.copy(BEIR_FIXTURES / "corpus_sample.jsonl", root / "corpus.jsonl")
    shutil.copy(BEIR_FIXTURES / "queries_sample.jsonl", root / "queries.jsonl")
    shutil.copy(BEIR_FIXTURES / "qrels_sample_test.tsv", root / "qrels" / "test.tsv")
    return root


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "qrels.json"
    path.write_text(json.dumps(data))
    return path


def test_dev_qrels_round_trip(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "name": "tiny",
            "relevant_min": 2,
            "queries": [
                {
                    "id": "k1",
                    "type": "keyword",
                    "text": " diffusion ",
                    "judgments": [
                        {"paper": "pl_a", "arxiv": "2301.00001", "title": "A", "grade": 3},
                        {"paper": "pl_b", "grade": 0},
                    ],
                },
                {"id": "q1", "type": "question", "text": "what?", "judgments": []},
            ],
        },
    )
    qset = load_dev_qrels(path)
    assert qset.name == "tiny"
    assert qset.min_rel == 2
    assert [(q.id, q.text, q.type) for q in qset.queries] == [
        ("k1", "diffusion", "keyword"),
        ("q1", "what?", "question"),
    ]
    assert qset.qrels == {"k1": {"pl_a": 3, "pl_b": 0}, "q1": {}}
    assert qset.types == ["keyword", "question"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "'queries' list"),
        ({"queries": [{"text": "x"}]}, "no 'id'"),
        ({"queries": [{"id": "a", "text": ""}]}, "no 'text'"),
        ({"queries": [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}]}, "duplicate"),
        ({"queries": [{"id": "a", "text": "x", "judgments": [{"grade": 1}]}]}, "no 'paper'"),
        (
            {"queries": [{"id": "a", "text": "x", "judgments": [{"paper": "p", "grade": 4}]}]},
            "not 0-3",
        ),
        (
            {"queries": [{"id": "a", "text": "x", "judgments": [{"paper": "p", "grade": "3"}]}]},
            "not an integer",
        ),
        (
            {
                "queries": [
                    {
                        "id": "a",
                        "text": "x",
                        "judgments": [{"paper": "p", "grade": 1}, {"paper": "p", "grade": 2}],
                    }
                ]
            },
            "judged twice",
        ),
        ({"relevant_min": 0, "queries": []}, "relevant_min"),
    ],
)
def test_dev_qrels_errors_name_the_problem(tmp_path: Path, data: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_dev_qrels(_write(tmp_path, data))


def test_dev_qrels_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_dev_qrels(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not a JSON"):
        load_dev_qrels(bad)


def test_qrels_tsv_with_windows_line_endings(tmp_path: Path) -> None:
    raw = (BEIR_FIXTURES / "qrels_sample_test.tsv").read_bytes()
    assert b"\r\n" in raw  # the fixture keeps BEIR's line endings
    qrels = read_qrels_tsv(BEIR_FIXTURES / "qrels_sample_test.tsv")
    assert qrels == {
        "94": {"1215116": 1},
        "659": {"1215116": 1},
        "660": {"1215116": 1},
        "1137": {"33370": 1},
    }
    assert all("\r" not in k for judged in qrels.values() for k in judged)


def test_qrels_tsv_variants(tmp_path: Path) -> None:
    path = tmp_path / "q.tsv"
    # no header, a TREC 4-column row, a zero grade, a blank line, LF endings
    path.write_text("q1\td1\t2\nq1 0 d2 0\n\nq2\td3\t1\n")
    assert read_qrels_tsv(path) == {"q1": {"d1": 2, "d2": 0}, "q2": {"d3": 1}}
    path.write_text("query-id\tcorpus-id\tscore\nq1\td1\tyes\n")
    with pytest.raises(ConfigError, match="line 2"):
        read_qrels_tsv(path)


def test_load_beir_keeps_only_judged_queries(tmp_path: Path) -> None:
    root = beir_sample(tmp_path)
    with (root / "queries.jsonl").open("a") as f:
        f.write('{"_id": "9999", "text": "an unjudged train claim", "metadata": {}}\n')
    qset = load_beir(root)
    assert qset.name == "scifact-sample/test"
    assert [q.id for q in qset.queries] == ["94", "659", "660", "1137"]
    assert qset.queries[3].text == "TNFAIP3 is a tumor suppressor in glioblastoma."
    assert qset.min_rel == 1


def test_load_beir_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a BEIR collection"):
        load_beir(tmp_path)
    root = beir_sample(tmp_path)
    with pytest.raises(ConfigError, match="not a BEIR collection"):
        load_beir(root, split="dev")
    (root / "queries.jsonl").write_text('{"_id": "94", "text": "only one"}\n')
    with pytest.raises(ConfigError, match="have no text"):
        load_beir(root)


def test_the_dev_set_meets_its_brief() -> None:
    """eval/dev-qrels.json: 28+ queries, 7+ of each kind, graded, named by paperlens id."""
    qset = load_dev_qrels(REPO / "eval" / "dev-qrels.json")
    assert len(qset.queries) >= 28
    for qtype in DEV_QUERY_TYPES:
        assert sum(q.type == qtype for q in qset.queries) >= 7, qtype
    assert set(qset.types) == set(DEV_QUERY_TYPES)
    for qid, judged in qset.qrels.items():
        assert all(doc.startswith("pl_") for doc in judged), qid
        assert any(g >= qset.min_rel for g in judged.values()), qid
        assert len(judged) >= 4, qid
