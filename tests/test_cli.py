"""The CLI as a user runs it: exit codes, --json shapes, --help everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperlens.cli import app

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _commands() -> list[list[str]]:
    import typer.main

    group = typer.main.get_command(app)
    names: list[list[str]] = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        names.append([name])
        for sub in getattr(cmd, "commands", {}):
            names.append([name, sub])
    return names


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_command_has_help(command: list[str]) -> None:
    code, out, _ = run(*command, "--help")
    assert code == 0 and "Usage" in out


def test_ingest_json_summary_and_exit_codes(db: Path, tmp_path: Path) -> None:
    code, out, _ = run("ingest", str(FIXTURES / "seeds"), "--db", str(db), "--json")
    assert code == 0
    summary = json.loads(out)
    assert (summary["new"], summary["merged"], summary["rejected"]) == (269, 7, [])

    bad = tmp_path / "bad.jsonl"
    good = (FIXTURES / "kaggle_snapshot" / "arxiv-metadata-oai-snapshot_head200.jsonl").read_text(
        encoding="utf-8"
    )
    bad.write_text(good.splitlines()[0] + "\n{not json\n", encoding="utf-8")
    code, out, _ = run("ingest", str(bad), "--db", str(db), "--json", "-f", "arxiv-jsonl")
    assert code == 1
    rejected = json.loads(out)["rejected"]
    assert rejected[0]["origin"] == str(bad) and rejected[0]["location"] == "line 2"


def test_ingest_twice_says_nothing_new(db: Path) -> None:
    run("ingest", str(FIXTURES / "seeds"), "--db", str(db))
    code, out, _ = run("ingest", str(FIXTURES / "seeds"), "--db", str(db))
    assert code == 0 and "Nothing new" in out


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["ingest", "/no/such/file"], 2),
        (["ingest", "x", "--format", "nope"], 2),
        (["search", "year:abc"], 2),
        (["search", "x", "--mode", "psychic"], 2),
        (["show", "2101.00001"], 1),
        (["export", "--format", "docx"], 2),
    ],
)
def test_errors_are_one_line_with_exit_codes(db: Path, args: list[str], code: int) -> None:
    exit_code, _, err = run(*args, "--db", str(db))
    assert exit_code == code
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_search_show_stats_export(db: Path) -> None:
    run("ingest", str(FIXTURES / "seeds"), "--db", str(db))
    code, out, _ = run("search", "lottery ticket", "--db", str(db), "--json", "-n", "3")
    assert code == 0
    results = json.loads(out)
    assert len(results) == 3
    assert {"id", "title", "abstract", "authors", "score"} <= set(results[0])

    code, out, _ = run("show", "2202.09844", "--db", str(db), "--json")
    assert code == 0
    paper = json.loads(out)
    assert paper["arxiv_id"] == "2202.09844"
    assert paper["claims"]["abstract"][0]["source"] == "listing"

    code, out, _ = run("stats", "--db", str(db), "--json")
    stats = json.loads(out)
    assert stats["papers"] == 269 and stats["per_source"] == {"listing": 269}

    code, out, _ = run("export", "lottery", "--format", "bibtex", "--db", str(db))
    assert code == 0 and out.count("@") >= 1
    code, out, _ = run("export", "--format", "csl-json", "--db", str(db))
    assert code == 0 and len(json.loads(out)) == 269
    code, out, _ = run("export", "--format", "jsonl", "--db", str(db))
    assert code == 0 and len(out.strip().splitlines()) == 269


def test_db_flag_beats_environment(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERLENS_DB", str(tmp_path / "env.db"))
    run("ingest", str(FIXTURES / "seeds" / "002_b71440666dad1b22.txt"), "--db", str(db))
    assert db.exists() and not (tmp_path / "env.db").exists()
