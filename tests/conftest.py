"""Shared fixtures: real SQLite files under tmp_path, real recorded inputs."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from paperlens.config import Settings
from paperlens.services import Services

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Ingest embeds by default; tests that are about embeddings turn it back on.
os.environ.setdefault("PAPERLENS_EMBED", "false")

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = FIXTURES / "seeds"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at a fresh database file in the test's own directory."""
    return Settings(db=tmp_path / "paperlens.db", embed=False)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    svc = Services(settings)
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


# A sync's arXiv query ends at the minute its run started, and the query URL is
# each record's origin: two runs a minute apart differ there and nowhere else.
_UNTIL_RE = re.compile(r"TO\+\d{12}")


def _dump(db: Path) -> list[tuple[object, ...]]:
    """Everything in a database but timestamps, for comparing two databases."""
    with sqlite3.connect(db) as conn:
        papers = conn.execute(
            "SELECT key, id, arxiv_id, doi, title, abstract, authors, categories, published,"
            " featured, versions, sources FROM papers ORDER BY key"
        ).fetchall()
        records = [
            (source, key, _UNTIL_RE.sub("TO+<run start>", origin), paper, digest)
            for source, key, origin, paper, digest in conn.execute(
                "SELECT source, source_key, origin, paper, content_hash FROM records"
            )
        ]
        records.sort(key=lambda r: (r[0], r[1], r[2]))
        authors = conn.execute("SELECT * FROM paper_authors ORDER BY 1, 2").fetchall()
    return [*papers, *records, *authors]


@pytest.fixture
def db_dump() -> Callable[[Path], list[tuple[object, ...]]]:
    return _dump
