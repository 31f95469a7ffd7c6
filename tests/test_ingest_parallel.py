"""Parsing in a second process gives exactly what parsing in-process gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from paperlens.ingest import ingest
from paperlens.ingest_parse import Known, _line_chunks
from paperlens.merge.fold import fold
from paperlens.model import Record
from paperlens.sources.arxiv_jsonl import ArxivJsonl
from paperlens.store import open_store

SNAP = Path(__file__).parent / "fixtures" / "kaggle_snapshot"
Dump = Callable[[Path], list[tuple[object, ...]]]


def _corpus(path: Path) -> Path:
    lines = b"".join(p.read_bytes() for p in sorted(SNAP.glob("*.jsonl")))
    path.write_bytes(lines + b'{"id": 7}\nnot json\n' + lines)  # bad lines, then duplicates
    return path


@pytest.mark.parametrize("batch_size", [1, 64, 5000])
def test_child_parse_equals_inline(tmp_path: Path, db_dump: Dump, batch_size: int) -> None:
    corpus = _corpus(tmp_path / "snap.jsonl")
    reports = []
    for name, parallel in (("inline.db", False), ("child.db", True)):
        store = open_store(tmp_path / name)
        reports.append(ingest(store, [corpus], batch_size=batch_size, parallel=parallel))
        store.close()
    inline, child = (r.to_json() for r in reports)
    for report in (inline, child):
        report.pop("seconds")
        report.pop("records_per_second")
    assert child == inline
    assert [e["location"] for e in child["rejected"]] == ["line 401", "line 402"]
    assert db_dump(tmp_path / "child.db") == db_dump(tmp_path / "inline.db")


def test_child_reports_an_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "empty.jsonl"
    bad.write_bytes(b"\n" * 10)
    report = ingest(open_store(tmp_path / "p.db"), [bad], fmt="arxiv-jsonl", parallel=True)
    assert report.failed_files and "empty" in report.failed_files[0]


def _snapshot_records() -> list[Record]:
    out = []
    for path in sorted(SNAP.glob("*.jsonl")):
        with path.open("rb") as f:
            out += [r for r in ArxivJsonl().parse(f, str(path)) if isinstance(r, Record)]
    return out


def test_single_record_fold_matches_the_general_rule() -> None:
    records = _snapshot_records()
    assert len(records) > 300
    for record in records:
        # Two copies of one record take the general path and must fold to the same paper.
        assert fold("pl_x", [record]) == fold("pl_x", [record, record])


def test_reingest_skips_remembered_lines_and_matches_inline(tmp_path: Path, db_dump: Dump) -> None:
    corpus = _corpus(tmp_path / "snap.jsonl")
    store = open_store(tmp_path / "p.db")
    assert not store.remembers_lines()  # so the first ingest looks up no lines
    first = ingest(store, [corpus], parallel=True)
    assert store.remembers_lines()
    remembered = store.conn.execute("SELECT count(*) FROM ingest_lines")  # type: ignore[attr-defined]
    assert remembered.fetchone()[0] == first.records  # each line by its place, copies too
    with corpus.open("rb") as stream:
        items = [i for chunk in _line_chunks(ArxivJsonl(), stream, str(corpus), 0, store)
                 for i in chunk]  # fmt: skip
    assert sum(isinstance(i, Known) for i in items) == first.records  # none decoded again
    with corpus.open("rb") as stream:  # the same lines under another path are parsed
        other = _line_chunks(ArxivJsonl(), stream, str(tmp_path / "copy.jsonl"), 0, store)
        assert not any(isinstance(i, Known) for chunk in other for i in chunk)
    before = db_dump(tmp_path / "p.db")
    again = ingest(store, [corpus], parallel=True)
    assert (again.records, again.unchanged, again.new) == (first.records, first.records, 0)
    assert len(again.rejected) == 2
    assert db_dump(tmp_path / "p.db") == before


def test_a_remembered_line_whose_record_was_replaced_is_parsed_again(
    tmp_path: Path, db_dump: Dump
) -> None:
    """Two lines, one arXiv id, different content: the later one replaces the earlier's row,
    so on re-ingest the earlier line is new again and the later one is no longer stored."""
    line = (SNAP / "arxiv-metadata-oai-snapshot_head200.jsonl").read_bytes().splitlines()[0]
    edited = line.replace(b'"title":"', b'"title":"Revised: ', 1)
    assert edited != line
    corpus = tmp_path / "dup.jsonl"
    corpus.write_bytes(line + b"\n" + edited + b"\n")
    reports = {}
    for name, parallel in (("inline.db", False), ("child.db", True)):
        store = open_store(tmp_path / name)
        ingest(store, [corpus], parallel=parallel, batch_size=1)
        reports[name] = ingest(store, [corpus], parallel=parallel, batch_size=1).to_json()
        reports[name].pop("seconds")
        reports[name].pop("records_per_second")
    assert reports["child.db"] == reports["inline.db"]
    assert reports["child.db"]["unchanged"] == 0
    assert db_dump(tmp_path / "child.db") == db_dump(tmp_path / "inline.db")


def test_line_memory_is_keyed_with_every_module_the_parser_imports() -> None:
    """A parser change must forget remembered lines: every paperlens module that
    ``arxiv_jsonl`` imports from is part of the key."""
    import ast

    from paperlens.sources import arxiv_jsonl

    tree = ast.parse(Path(arxiv_jsonl.__file__).read_text())
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("paperlens.")
    }
    assert imported - {"paperlens.errors"} <= set(ArxivJsonl.line_code)
