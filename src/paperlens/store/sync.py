"""SQL for live sources: sync cursors, Semantic Scholar enrichment, the submissions queue.

A class over the ``SqliteStore`` (its ``conn`` and ``transaction()``), kept
apart from ``sqlite.py`` because only ``sync/`` asks these questions. Nothing
here commits: the caller wraps a page's papers and its cursor in one
``store.transaction()``, which is what makes a killed sync resume without a
duplicate or a gap. Bound parameters only.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from paperlens.store import Store


def ts(when: datetime) -> str:
    """The stored form of a time: UTC, seconds, comparable as text."""
    return when.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(slots=True)
class SyncState:
    """Where a sync stream stands: its JSON cursor and whether its last run finished."""

    name: str
    cursor: dict[str, Any]
    done: bool
    started_at: str
    updated_at: str


@dataclass(slots=True)
class Reference:
    """One entry of a paper's reference list, with the ids that can link it to a stored paper."""

    s2_paper_id: str | None
    arxiv_id: str | None
    doi: str | None
    title: str | None


@dataclass(slots=True)
class Enrichment:
    """What Semantic Scholar said about a paper at its last enrichment."""

    status: str
    s2_paper_id: str | None
    tldr: str | None
    citation_count: int | None
    influential_citation_count: int | None
    reference_count: int | None
    fetched_at: str
    references: list[Reference]


@dataclass(slots=True)
class Submission:
    """A queued "submit a paper" request from the web app."""

    id: int
    ref: str
    arxiv_id: str | None


class SyncTables:
    """Queries over the sync tables of one store (migration ``0004_sync.sql``)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = self.store.conn  # type: ignore[attr-defined]
        return conn

    # -- cursors -----------------------------------------------------------

    def state(self, name: str) -> SyncState | None:
        row = self.conn.execute(
            "SELECT cursor, done, started_at, updated_at FROM sync_state WHERE name=?", (name,)
        ).fetchone()
        if row is None:
            return None
        return SyncState(name, json.loads(row[0]), bool(row[1]), row[2], row[3])

    def states(self, prefix: str = "") -> list[SyncState]:
        rows = self.conn.execute(
            "SELECT name, cursor, done, started_at, updated_at FROM sync_state "
            "WHERE substr(name, 1, ?) = ? ORDER BY name",
            (len(prefix), prefix),
        ).fetchall()
        return [SyncState(r[0], json.loads(r[1]), bool(r[2]), r[3], r[4]) for r in rows]

    def save_state(
        self, name: str, cursor: dict[str, Any], *, done: bool = False, new_run: bool = False
    ) -> None:
        """Write a stream's cursor; ``new_run`` restarts its ``started_at``."""
        now = ts(datetime.now(UTC))
        text = json.dumps(cursor, sort_keys=True, ensure_ascii=False)
        if new_run:
            self.conn.execute(
                "INSERT OR REPLACE INTO sync_state VALUES (?,?,?,?,?)",
                (name, text, int(done), now, now),
            )
            return
        self.conn.execute(
            "INSERT INTO sync_state VALUES (?,?,?,?,?) ON CONFLICT(name) DO UPDATE SET "
            "cursor=excluded.cursor, done=excluded.done, updated_at=excluded.updated_at",
            (name, text, int(done), now, now),
        )

    # -- enrichment --------------------------------------------------------

    def papers_to_enrich(
        self, *, limit: int, refreshed_before: datetime
    ) -> list[tuple[int, str | None, str | None]]:
        """``(key, arxiv_id, doi)`` of papers never enriched first, then the stalest.

        Only papers with an arXiv id or a DOI: Semantic Scholar's batch
        endpoint looks papers up by id, never by title.
        """
        rows = self.conn.execute(
            "SELECT p.key, p.arxiv_id, p.doi FROM papers p "
            "LEFT JOIN paper_enrichment e ON e.paper = p.key "
            "WHERE (p.arxiv_id IS NOT NULL OR p.doi IS NOT NULL) "
            "AND (e.fetched_at IS NULL OR e.fetched_at < ?) "
            "ORDER BY e.fetched_at IS NOT NULL, e.fetched_at, p.key LIMIT ?",
            (ts(refreshed_before), limit),
        ).fetchall()
        return [(int(r[0]), r[1], r[2]) for r in rows]

    def save_enrichment(self, paper: int, enrichment: Enrichment) -> None:
        """Replace a paper's enrichment and reference list (caller holds the transaction)."""
        e = enrichment
        self.conn.execute(
            "INSERT OR REPLACE INTO paper_enrichment VALUES (?,?,?,?,?,?,?,?)",
            (paper, e.status, e.s2_paper_id, e.tldr, e.citation_count,
             e.influential_citation_count, e.reference_count, e.fetched_at),
        )  # fmt: skip
        if e.status != "found":
            return
        self.conn.execute("DELETE FROM paper_references WHERE paper=?", (paper,))
        self.conn.executemany(
            "INSERT INTO paper_references VALUES (?,?,?,?,?,?)",
            [
                (paper, i, r.s2_paper_id, r.arxiv_id, r.doi, r.title)
                for i, r in enumerate(e.references)
            ],
        )

    def enrichment(self, paper: int) -> Enrichment | None:
        row = self.conn.execute(
            "SELECT status, s2_paper_id, tldr, citation_count, influential_citation_count, "
            "reference_count, fetched_at FROM paper_enrichment WHERE paper=?",
            (paper,),
        ).fetchone()
        if row is None:
            return None
        refs = [
            Reference(*r)
            for r in self.conn.execute(
                "SELECT s2_paper_id, arxiv_id, doi, title FROM paper_references "
                "WHERE paper=? ORDER BY position",
                (paper,),
            )
        ]
        status, s2_id, tldr, cites, influential, refs_count, fetched_at = row
        return Enrichment(status, s2_id, tldr, cites, influential, refs_count, fetched_at, refs)

    # -- the web app's submissions queue (migration 0002_accounts.sql) -----

    def has_submissions(self) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='submissions'"
        ).fetchone()
        return row is not None

    def queued_submissions(self, *, limit: int) -> list[Submission]:
        if not self.has_submissions():
            return []
        rows = self.conn.execute(
            "SELECT id, ref, arxiv_id FROM submissions WHERE status='queued' "
            "ORDER BY created_at, id LIMIT ?",
            (limit,),
        ).fetchall()
        return [Submission(int(r[0]), r[1], r[2]) for r in rows]

    def mark_submissions(
        self, ids: Sequence[int], status: str, *, arxiv_id: str | None = None, error: str | None
    ) -> None:
        """Set the outcome of submissions (caller holds the transaction)."""
        now = ts(datetime.now(UTC))
        self.conn.executemany(
            "UPDATE submissions SET status=?, error=?, arxiv_id=coalesce(?, arxiv_id), "
            "updated_at=? WHERE id=?",
            [(status, error, arxiv_id, now, i) for i in ids],
        )
