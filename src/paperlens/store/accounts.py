"""SQL for accounts: users, sessions, login throttling, votes, lists, submissions.

A thin layer over the SQLite store's connection: bound parameters only, no
commits (the callers in ``paperlens.accounts`` own the transactions), and
plain tuples/dataclasses out. Paper columns hold ``papers.key``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from paperlens.store import Store

_IN_CHUNK = 500


@dataclass(slots=True)
class UserRow:
    id: int
    username: str
    password_hash: str
    created_at: str


@dataclass(slots=True)
class ListRow:
    id: int
    slug: str
    user_id: int
    owner: str
    name: str
    public: bool
    created_at: str
    updated_at: str
    count: int = 0


@dataclass(slots=True)
class ListItemRow:
    paper: int
    note: str
    read: bool
    added_at: str


@dataclass(slots=True)
class SubmissionRow:
    id: int
    ref: str
    arxiv_id: str | None
    user_id: int | None
    status: str
    error: str | None
    created_at: str
    updated_at: str


def _iso(when: datetime) -> str:
    return when.isoformat()


class AccountStore:
    """Account tables of one store (migration ``0002_accounts.sql``)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def conn(self) -> Any:
        return self.store.conn  # type: ignore[attr-defined]

    def transaction(self) -> Any:
        return self.store.transaction()

    # -- users -------------------------------------------------------------

    def add_user(self, username: str, username_key: str, password_hash: str, now: datetime) -> int:
        cur = self.conn.execute(
            "INSERT INTO users (username, username_key, password_hash, created_at) "
            "VALUES (?,?,?,?)",
            (username, username_key, password_hash, _iso(now)),
        )
        return int(cur.lastrowid)

    def user_by_key(self, username_key: str) -> UserRow | None:
        row = self.conn.execute(
            "SELECT id, username, password_hash, created_at FROM users WHERE username_key=?",
            (username_key,),
        ).fetchone()
        return UserRow(*row) if row else None

    def user(self, user_id: int) -> UserRow | None:
        row = self.conn.execute(
            "SELECT id, username, password_hash, created_at FROM users WHERE id=?", (user_id,)
        ).fetchone()
        return UserRow(*row) if row else None

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self.conn.execute("UPDATE users SET password_hash=? WHERE id=?", (password_hash, user_id))

    def touch_login(self, user_id: int, now: datetime) -> None:
        self.conn.execute("UPDATE users SET last_login_at=? WHERE id=?", (_iso(now), user_id))

    # -- sessions ----------------------------------------------------------

    def add_session(self, token_hash: str, user_id: int, now: datetime, expires: datetime) -> None:
        self.conn.execute(
            "INSERT INTO sessions VALUES (?,?,?,?)",
            (token_hash, user_id, _iso(now), _iso(expires)),
        )

    def session_user(self, token_hash: str, now: datetime) -> UserRow | None:
        row = self.conn.execute(
            "SELECT u.id, u.username, u.password_hash, u.created_at FROM sessions s "
            "JOIN users u ON u.id = s.user_id WHERE s.token_hash=? AND s.expires_at > ?",
            (token_hash, _iso(now)),
        ).fetchone()
        return UserRow(*row) if row else None

    def delete_session(self, token_hash: str) -> None:
        self.conn.execute("DELETE FROM sessions WHERE token_hash=?", (token_hash,))

    def delete_expired_sessions(self, now: datetime) -> int:
        cur = self.conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (_iso(now),))
        return int(cur.rowcount)

    # -- login throttling --------------------------------------------------

    def add_login_failure(self, subjects: Sequence[str], now: datetime) -> None:
        self.conn.executemany(
            "INSERT INTO login_failures VALUES (?,?)", [(s, _iso(now)) for s in subjects]
        )

    def login_failures_since(self, subject: str, since: datetime) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM login_failures WHERE subject=? AND at > ?",
            (subject, _iso(since)),
        ).fetchone()
        return int(row[0])

    def clear_login_failures(self, subject: str) -> None:
        self.conn.execute("DELETE FROM login_failures WHERE subject=?", (subject,))

    def prune_login_failures(self, before: datetime) -> None:
        self.conn.execute("DELETE FROM login_failures WHERE at <= ?", (_iso(before),))

    # -- votes -------------------------------------------------------------

    def add_vote(self, user_id: int, paper: int, now: datetime) -> bool:
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO votes VALUES (?,?,?)", (user_id, paper, _iso(now))
        )
        return bool(cur.rowcount)

    def remove_vote(self, user_id: int, paper: int) -> bool:
        cur = self.conn.execute("DELETE FROM votes WHERE user_id=? AND paper=?", (user_id, paper))
        return bool(cur.rowcount)

    def vote_count(self, paper: int) -> int:
        row = self.conn.execute("SELECT count(*) FROM votes WHERE paper=?", (paper,)).fetchone()
        return int(row[0])

    def voted(self, user_id: int, papers: Sequence[int]) -> set[int]:
        out: set[int] = set()
        for chunk in _chunks(list(papers)):
            marks = ",".join("?" * len(chunk))
            out.update(
                r[0]
                for r in self.conn.execute(
                    f"SELECT paper FROM votes WHERE user_id=? AND paper IN ({marks})",
                    (user_id, *chunk),
                )
            )
        return out

    def record_vote_count(self, paper: int, source: str, count: int, now: datetime) -> None:
        """Append the running count to the signals series (same instant: last wins)."""
        self.conn.execute(
            "INSERT OR REPLACE INTO signals (paper, kind, source, observed_at, value) "
            "VALUES (?, 'upvotes', ?, ?, ?)",
            (paper, source, _iso(now), float(count)),
        )

    def latest_upvotes(self, papers: Sequence[int]) -> dict[int, dict[str, float]]:
        """``{paper: {source: latest upvote count}}`` for each paper."""
        out: dict[int, dict[str, float]] = {}
        for chunk in _chunks(list(papers)):
            marks = ",".join("?" * len(chunk))
            for paper, source, value in self.conn.execute(
                "SELECT paper, source, value FROM signals s WHERE kind='upvotes' "
                f"AND paper IN ({marks}) AND observed_at = ("
                " SELECT max(observed_at) FROM signals t WHERE t.paper=s.paper "
                " AND t.kind='upvotes' AND t.source=s.source)",
                chunk,
            ):
                out.setdefault(int(paper), {})[source] = float(value)
        return out

    def has_signals_from(self, source: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM signals WHERE source=? LIMIT 1", (source,)
        ).fetchone()
        return row is not None

    # -- lists -------------------------------------------------------------

    _LIST_COLUMNS = (
        "l.id, l.slug, l.user_id, u.username, l.name, l.public, l.created_at, l.updated_at, "
        "(SELECT count(*) FROM list_items i WHERE i.list_id = l.id)"
    )

    def add_list(self, slug: str, user_id: int, name: str, public: bool, now: datetime) -> int:
        cur = self.conn.execute(
            "INSERT INTO lists (slug, user_id, name, public, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?)",
            (slug, user_id, name, int(public), _iso(now), _iso(now)),
        )
        return int(cur.lastrowid)

    def list_by_slug(self, slug: str) -> ListRow | None:
        row = self.conn.execute(
            f"SELECT {self._LIST_COLUMNS} FROM lists l JOIN users u ON u.id = l.user_id "
            "WHERE l.slug=?",
            (slug,),
        ).fetchone()
        return _list_row(row) if row else None

    def lists_of(self, user_id: int) -> list[ListRow]:
        rows = self.conn.execute(
            f"SELECT {self._LIST_COLUMNS} FROM lists l JOIN users u ON u.id = l.user_id "
            "WHERE l.user_id=? ORDER BY l.updated_at DESC, l.id DESC",
            (user_id,),
        ).fetchall()
        return [_list_row(r) for r in rows]

    def update_list(self, list_id: int, *, name: str, public: bool, now: datetime) -> None:
        self.conn.execute(
            "UPDATE lists SET name=?, public=?, updated_at=? WHERE id=?",
            (name, int(public), _iso(now), list_id),
        )

    def touch_list(self, list_id: int, now: datetime) -> None:
        self.conn.execute("UPDATE lists SET updated_at=? WHERE id=?", (_iso(now), list_id))

    def delete_list(self, list_id: int) -> None:
        self.conn.execute("DELETE FROM lists WHERE id=?", (list_id,))

    def add_item(self, list_id: int, paper: int, now: datetime) -> bool:
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO list_items (list_id, paper, added_at) VALUES (?,?,?)",
            (list_id, paper, _iso(now)),
        )
        return bool(cur.rowcount)

    def remove_item(self, list_id: int, paper: int) -> bool:
        cur = self.conn.execute(
            "DELETE FROM list_items WHERE list_id=? AND paper=?", (list_id, paper)
        )
        return bool(cur.rowcount)

    def update_item(self, list_id: int, paper: int, *, note: str | None, read: bool | None) -> bool:
        sets: list[str] = []
        args: list[object] = []
        if note is not None:
            sets.append("note=?")
            args.append(note)
        if read is not None:
            sets.append("read=?")
            args.append(int(read))
        if not sets:
            return False
        cur = self.conn.execute(
            f"UPDATE list_items SET {', '.join(sets)} WHERE list_id=? AND paper=?",
            (*args, list_id, paper),
        )
        return bool(cur.rowcount)

    def items(self, list_id: int, *, limit: int = 1000, offset: int = 0) -> list[ListItemRow]:
        rows = self.conn.execute(
            "SELECT paper, note, read, added_at FROM list_items WHERE list_id=? "
            "ORDER BY added_at DESC, paper DESC LIMIT ? OFFSET ?",
            (list_id, limit, offset),
        ).fetchall()
        return [ListItemRow(int(p), n, bool(r), a) for p, n, r, a in rows]

    def lists_containing(self, user_id: int, paper: int) -> set[int]:
        return {
            int(r[0])
            for r in self.conn.execute(
                "SELECT i.list_id FROM list_items i JOIN lists l ON l.id = i.list_id "
                "WHERE l.user_id=? AND i.paper=?",
                (user_id, paper),
            )
        }

    # -- not interested ----------------------------------------------------

    def set_not_interested(self, user_id: int, paper: int, on: bool, now: datetime) -> None:
        if on:
            self.conn.execute(
                "INSERT OR IGNORE INTO not_interested VALUES (?,?,?)", (user_id, paper, _iso(now))
            )
        else:
            self.conn.execute(
                "DELETE FROM not_interested WHERE user_id=? AND paper=?", (user_id, paper)
            )

    def not_interested(self, user_id: int) -> set[int]:
        return {
            int(r[0])
            for r in self.conn.execute(
                "SELECT paper FROM not_interested WHERE user_id=?", (user_id,)
            )
        }

    # -- submissions -------------------------------------------------------

    _SUB_COLUMNS = "id, ref, arxiv_id, user_id, status, error, created_at, updated_at"

    def add_submission(
        self, ref: str, arxiv_id: str | None, user_id: int | None, status: str, now: datetime
    ) -> int:
        cur = self.conn.execute(
            "INSERT INTO submissions (ref, arxiv_id, user_id, status, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?)",
            (ref, arxiv_id, user_id, status, _iso(now), _iso(now)),
        )
        return int(cur.lastrowid)

    def submissions_of(self, user_id: int, *, limit: int = 50) -> list[SubmissionRow]:
        rows = self.conn.execute(
            f"SELECT {self._SUB_COLUMNS} FROM submissions WHERE user_id=? "
            "ORDER BY created_at DESC, id DESC LIMIT ?",
            (user_id, limit),
        ).fetchall()
        return [SubmissionRow(*r) for r in rows]

    def queued_submission(self, user_id: int, arxiv_id: str) -> SubmissionRow | None:
        row = self.conn.execute(
            f"SELECT {self._SUB_COLUMNS} FROM submissions "
            "WHERE user_id=? AND arxiv_id=? AND status='queued'",
            (user_id, arxiv_id),
        ).fetchone()
        return SubmissionRow(*row) if row else None

    def queued_submissions(self, *, limit: int = 100) -> list[SubmissionRow]:
        """Oldest queued first: what the sync code should fetch next."""
        rows = self.conn.execute(
            f"SELECT {self._SUB_COLUMNS} FROM submissions WHERE status='queued' "
            "ORDER BY created_at, id LIMIT ?",
            (limit,),
        ).fetchall()
        return [SubmissionRow(*r) for r in rows]

    def set_submission_status(
        self, submission_id: int, status: str, error: str | None, now: datetime
    ) -> None:
        self.conn.execute(
            "UPDATE submissions SET status=?, error=?, updated_at=? WHERE id=?",
            (status, error, _iso(now), submission_id),
        )

    def count_submissions_since(self, user_id: int, since: datetime) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM submissions WHERE user_id=? AND created_at > ?",
            (user_id, _iso(since)),
        ).fetchone()
        return int(row[0])


def _list_row(row: Sequence[Any]) -> ListRow:
    lid, slug, uid, owner, name, public, created, updated, count = row
    return ListRow(
        int(lid), slug, int(uid), owner, name, bool(public), created, updated, int(count)
    )


def _chunks(values: list[Any]) -> Any:
    for i in range(0, len(values), _IN_CHUNK):
        yield values[i : i + _IN_CHUNK]
