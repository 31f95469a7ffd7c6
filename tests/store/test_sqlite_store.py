from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from paperlens.errors import StoreError
from paperlens.model import Paper
from paperlens.store import open_store


def test_new_database_is_migrated_and_in_wal_mode(tmp_path: Path) -> None:
    store = open_store(tmp_path / "a.db")
    assert "0001_core.sql" in store.applied_migrations()  # type: ignore[attr-defined]
    mode = store.conn.execute("PRAGMA journal_mode").fetchone()[0]  # type: ignore[attr-defined]
    assert mode == "wal"
    store.close()
    again = open_store(tmp_path / "a.db")  # re-opening applies nothing twice
    assert again.applied_migrations().count("0001_core.sql") == 1  # type: ignore[attr-defined]


def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = open_store(tmp_path / "a.db")
    with pytest.raises(RuntimeError), store.transaction():
        store.save_papers([(None, Paper(id="pl_1", title="T"))], store.next_seq())
        raise RuntimeError("boom")
    assert store.count() == 0


def test_nested_transaction_rolls_back_only_inner(tmp_path: Path) -> None:
    store = open_store(tmp_path / "a.db")
    with store.transaction():
        store.save_papers([(None, Paper(id="pl_1", title="Outer"))], 1)
        with pytest.raises(RuntimeError), store.transaction():
            store.save_papers([(None, Paper(id="pl_2", title="Inner"))], 2)
            raise RuntimeError("inner")
    assert [p.title for p in store.iter_papers()] == ["Outer"]


def test_duplicate_doi_is_displayed_once(tmp_path: Path) -> None:
    store = open_store(tmp_path / "a.db")
    with store.transaction():
        store.save_papers(
            [(None, Paper(id="pl_1", doi="10.1/x")), (None, Paper(id="pl_2", doi="10.1/x"))], 1
        )
    dois = [p.doi for p in store.iter_papers()]
    assert dois == ["10.1/x", None]


def test_garbage_file_is_a_store_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=r"bad\.db"):
        open_store(bad)


def test_postgres_url_is_refused_clearly(tmp_path: Path) -> None:
    from paperlens.errors import ConfigError

    with pytest.raises(ConfigError, match="PostgreSQL"):
        open_store("postgresql://u@localhost/db")


def test_store_is_plain_sqlite(tmp_path: Path) -> None:
    store = open_store(tmp_path / "a.db")
    with store.transaction():
        store.save_papers([(None, Paper(id="pl_1", title="Plain", authors=["A B"]))], 1)
    store.close()
    with sqlite3.connect(tmp_path / "a.db") as conn:
        assert conn.execute("SELECT title, authors FROM papers").fetchone() == ("Plain", '["A B"]')
