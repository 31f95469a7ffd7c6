"""The ingest pipeline end to end on real inputs and a real SQLite file."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from paperlens.ingest import ingest
from paperlens.store import Store, open_store

Dump = Callable[[Path], list[tuple[object, ...]]]

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = FIXTURES / "seeds"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path / "p.db")


def test_five_seed_pages_give_exactly_269_papers(store: Store) -> None:
    report = ingest(store, [SEEDS])
    assert report.files == 5
    assert report.records == 276
    assert report.new == 269
    assert report.merged == 7
    assert not report.rejected and not report.failed_files
    assert store.count() == 269
    multi = store.conn.execute(  # type: ignore[attr-defined]
        "SELECT count(*) FROM (SELECT paper FROM records GROUP BY paper "
        "HAVING count(DISTINCT origin) = 2)"
    ).fetchone()[0]
    assert multi == 7


def test_reingest_changes_nothing_and_says_so(store: Store, tmp_path: Path, db_dump: Dump) -> None:
    ingest(store, [SEEDS])
    before = db_dump(tmp_path / "p.db")
    again = ingest(store, [SEEDS])
    assert (again.new, again.merged, again.updated) == (0, 0, 0)
    assert again.unchanged == 276
    assert db_dump(tmp_path / "p.db") == before


def test_batches_are_independent_of_batch_size(tmp_path: Path, db_dump: Dump) -> None:
    small = open_store(tmp_path / "small.db")
    big = open_store(tmp_path / "big.db")
    ingest(small, [SEEDS], batch_size=7)
    ingest(big, [SEEDS], batch_size=5000)
    assert db_dump(tmp_path / "small.db") == db_dump(tmp_path / "big.db")


def test_merged_paper_keeps_both_sources_as_claims(store: Store) -> None:
    ingest(store, [SEEDS])
    key = store.conn.execute(  # type: ignore[attr-defined]
        "SELECT paper FROM records GROUP BY paper HAVING count(DISTINCT origin) = 2 LIMIT 1"
    ).fetchone()[0]
    paper = store.papers([key])[0]
    full = store.paper(paper.id, with_claims=True)
    assert full is not None
    origins = {c.origin for c in full.claims["abstract"]}
    assert len(origins) == 2


def test_newer_arxiv_version_updates_and_keeps_history(store: Store, tmp_path: Path) -> None:
    line = (
        (FIXTURES / "kaggle_snapshot" / "arxiv-metadata-oai-snapshot_head200.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()[0]
    )
    old = json.loads(line)
    old["versions"] = old["versions"][:1]
    old["title"] = "An earlier title"
    new = json.loads(line)
    new["versions"] = [
        *new["versions"],
        {"version": "v9", "created": "Mon, 1 Jan 2024 00:00:00 GMT"},
    ]
    (tmp_path / "old.jsonl").write_text(json.dumps(old) + "\n", encoding="utf-8")
    (tmp_path / "new.jsonl").write_text(json.dumps(new) + "\n", encoding="utf-8")
    ingest(store, [tmp_path / "old.jsonl"])
    report = ingest(store, [tmp_path / "new.jsonl"])
    assert (report.new, report.merged, report.updated) == (0, 1, 1)
    paper = store.paper(old["id"], with_claims=True)
    assert paper is not None
    assert paper.version == 9 and paper.title == " ".join(new["title"].split())
    assert [v.version for v in paper.versions][-1] == 9
    assert {c.value for c in paper.claims["title"]} >= {"An earlier title"}


def test_malformed_records_are_reported_and_the_rest_stored(store: Store, tmp_path: Path) -> None:
    lines = (
        (FIXTURES / "kaggle_snapshot" / "arxiv-metadata-oai-snapshot_head200.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()[:5]
    )
    lines.insert(2, '{"id": "broken", "title": ')
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest(store, [path], fmt="arxiv-jsonl")
    assert report.records == 5 and store.count() == 5
    assert len(report.rejected) == 1
    assert report.rejected[0].origin == str(path) and "line 3" in report.rejected[0].location


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary\x00" * 100, "binary"),
        ("caf\xe9 au lait ".encode("latin-1") * 50, "UTF-8"),
    ],
)
def test_unusable_files_get_one_clear_error(
    store: Store, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    report = ingest(store, [path])
    assert len(report.failed_files) == 1
    assert str(path) in report.failed_files[0] and message in report.failed_files[0]
    assert store.count() == 0


def test_gzip_jsonl_is_read(store: Store, tmp_path: Path) -> None:
    src = FIXTURES / "kaggle_snapshot" / "arxiv-metadata-oai-snapshot_head200.jsonl"
    path = tmp_path / "snap.jsonl.gz"
    path.write_bytes(gzip.compress(src.read_bytes()))
    report = ingest(store, [path])
    assert report.formats[str(path)] == "arxiv-jsonl"
    assert report.new == 200


def test_ingest_collects_cycles_between_batches_and_restores_the_collector(
    store: Store, tmp_path: Path
) -> None:
    """The collector is off by allocation count during ingest, yet cycles do not pile up."""
    import gc
    import weakref

    from paperlens.ingest import _BatchCollections

    class Node:
        other: object = None

    with _BatchCollections() as collections:
        assert not gc.isenabled()
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: reference counting alone never frees it
        alive = weakref.ref(a)
        del a, b
        for _ in range(_BatchCollections.EVERY - 1):
            collections.batch_done()
        assert alive() is not None
        collections.batch_done()
        assert alive() is None
    assert gc.isenabled()
    ingest(store, [SEEDS])
    assert gc.isenabled()
