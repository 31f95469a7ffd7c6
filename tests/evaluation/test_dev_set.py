"""The development set scored end to end on the sample corpus, in keyword mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperlens.cli import app

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_dev_set_keyword_on_the_sample_corpus(tmp_path: Path) -> None:
    """The empty store is filled like ``paperlens demo``; every judged paper must be in it."""
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "--qrels",
            str(REPO / "eval" / "dev-qrels.json"),
            "--modes",
            "keyword",
            "--db",
            str(tmp_path / "dev.db"),
            "--root",
            str(REPO),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["missing_judged_papers"] == 0  # the ids in the qrels still name papers
    (keyword,) = data["modes"]
    assert keyword["queries"] == {"all": 32, "keyword": 8, "question": 8, "paraphrase": 8,
                                  "draft": 8}  # fmt: skip
    # a floor well under today's 0.63, to catch a broken keyword path, not to pin a number
    assert keyword["overall"]["ndcg@10"] >= 0.5
    assert keyword["by_type"]["keyword"]["mrr@10"] >= 0.8
