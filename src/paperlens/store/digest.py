"""SQL for digests: subscriptions, follows, saved searches, the outbox and sent papers.

A class over the ``SqliteStore`` (its ``conn`` and ``transaction()``), kept
apart from ``sqlite.py`` because only ``digest/`` and ``worker.py`` ask these
questions. Methods never commit on their own except the outbox transitions,
which are the unit of the exactly-once protocol and so commit by design
(each one is its own ``transaction()``; nested in a caller's, a savepoint).
Bound parameters only. Times are ISO-8601 UTC strings with milliseconds, so
they compare correctly as text.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from paperlens.store import Store

SUBSCRIPTION_STATES = ("pending", "active", "paused", "unsubscribed")
OUTBOX_STATES = (
    "queued", "sending", "committing", "sent", "retry", "failed", "unknown", "cancelled",
    "skipped",
)  # fmt: skip
FOLLOW_KINDS = ("author", "org", "category")
_IN_CHUNK = 500


def ts(when: datetime) -> str:
    """The stored form of a time: UTC, milliseconds, comparable as text."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


def parse_ts(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(slots=True)
class Subscription:
    """One address that asked for digests, and what it wants in them."""

    id: int
    email: str
    user_id: int | None = None
    status: str = "pending"
    cadence: str = "weekly"
    send_hour: int = 7
    weekday: int = 0
    timezone: str = "UTC"
    include_trending: bool = True
    trending_window: str = "weekly"
    trending_count: int = 5
    include_follows: bool = True
    include_searches: bool = True
    include_similar: bool = True
    personal_count: int = 10
    confirm_nonce: str | None = None
    confirm_sent_at: str | None = None
    confirms_today: int = 0
    confirms_day: str | None = None
    bounce_count: int = 0
    created_at: str = ""
    confirmed_at: str | None = None
    unsubscribed_at: str | None = None
    paused_at: str | None = None


_SUB_COLUMNS = tuple(f.name for f in fields(Subscription))
_SUB_SELECT = "SELECT " + ", ".join(_SUB_COLUMNS) + " FROM digest_subscriptions"
_BOOL_COLUMNS = {"include_trending", "include_follows", "include_searches", "include_similar"}
SETTABLE = frozenset(_SUB_COLUMNS) - {"id", "created_at"}


def _sub(row: Sequence[Any]) -> Subscription:
    sub = Subscription(*row)
    for name in _BOOL_COLUMNS:
        setattr(sub, name, bool(getattr(sub, name)))
    return sub


@dataclass(slots=True)
class Follow:
    kind: str
    value: str
    value_key: str


@dataclass(slots=True)
class SavedSearch:
    id: int
    query: str


@dataclass(slots=True)
class OutboxRow:
    """A message in the outbox (``message`` is loaded only when claimed)."""

    id: int
    subscription_id: int
    kind: str
    period: str
    state: str
    message_id: str | None
    recipient: str
    papers: int
    attempts: int
    next_attempt_at: str
    owner: str | None = None
    last_code: int | None = None
    last_error: str | None = None
    created_at: str = ""
    sent_at: str | None = None
    claimed_at: str | None = None
    message: bytes | None = field(default=None, repr=False)


_OUT_COLUMNS = (
    "id, subscription_id, kind, period, state, message_id, recipient, papers, attempts, "
    "next_attempt_at, owner, last_code, last_error, created_at, sent_at, claimed_at"
)
_OUT_N = _OUT_COLUMNS.count(",") + 1


def _out(row: Sequence[Any], message: bytes | None = None) -> OutboxRow:
    out = OutboxRow(*row)
    out.message = message
    return out


class DigestStore:
    """Digest tables of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = self.store.conn  # type: ignore[attr-defined]
        return conn

    def transaction(self) -> Any:
        return self.store.transaction()

    # -- subscriptions -------------------------------------------------------

    def subscription(self, sub_id: int) -> Subscription | None:
        row = self.conn.execute(_SUB_SELECT + " WHERE id=?", (sub_id,)).fetchone()
        return _sub(row) if row else None

    def subscription_by_email(self, email: str) -> Subscription | None:
        row = self.conn.execute(_SUB_SELECT + " WHERE email=?", (email,)).fetchone()
        return _sub(row) if row else None

    def subscriptions_of_user(self, user_id: int) -> list[Subscription]:
        rows = self.conn.execute(_SUB_SELECT + " WHERE user_id=? ORDER BY id", (user_id,))
        return [_sub(r) for r in rows]

    def subscriptions(
        self, *, status: str | None = None, cadence: str | None = None
    ) -> list[Subscription]:
        sql, args = _SUB_SELECT + " WHERE 1=1", []
        if status:
            sql += " AND status=?"
            args.append(status)
        if cadence:
            sql += " AND cadence=?"
            args.append(cadence)
        return [_sub(r) for r in self.conn.execute(sql + " ORDER BY id", args)]

    def insert_subscription(self, email: str, *, now: datetime, **values: Any) -> Subscription:
        values = {k: v for k, v in values.items() if k in SETTABLE}
        names = ["email", "created_at", *values]
        marks = ",".join("?" * len(names))
        with self.transaction():
            cur = self.conn.execute(
                f"INSERT INTO digest_subscriptions ({', '.join(names)}) VALUES ({marks})",
                (email, ts(now), *values.values()),
            )
        sub = self.subscription(int(cur.lastrowid or 0))
        assert sub is not None
        return sub

    def update_subscription(self, sub_id: int, **values: Any) -> None:
        unknown = set(values) - SETTABLE
        if unknown:
            raise ValueError(f"not a subscription setting: {', '.join(sorted(unknown))}")
        if not values:
            return
        sets = ", ".join(f"{k}=?" for k in values)
        with self.transaction():
            self.conn.execute(
                f"UPDATE digest_subscriptions SET {sets} WHERE id=?",
                (*(int(v) if isinstance(v, bool) else v for v in values.values()), sub_id),
            )

    # -- follows and saved searches ------------------------------------------

    def follows(self, sub_id: int) -> list[Follow]:
        return self.follows_for([sub_id]).get(sub_id, [])

    def follows_for(self, sub_ids: Sequence[int]) -> dict[int, list[Follow]]:
        out: dict[int, list[Follow]] = {}
        for chunk in _chunks(list(sub_ids)):
            marks = ",".join("?" * len(chunk))
            for sid, kind, value, key in self.conn.execute(
                "SELECT subscription_id, kind, value, value_key FROM digest_follows "
                f"WHERE subscription_id IN ({marks}) ORDER BY created_at, value",
                chunk,
            ):
                out.setdefault(sid, []).append(Follow(kind, value, key))
        return out

    def add_follow(self, sub_id: int, kind: str, value: str, value_key: str, now: datetime) -> bool:
        with self.transaction():
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO digest_follows VALUES (?,?,?,?,?)",
                (sub_id, kind, value, value_key, ts(now)),
            )
        return cur.rowcount > 0

    def remove_follow(self, sub_id: int, kind: str, value_key: str) -> bool:
        with self.transaction():
            cur = self.conn.execute(
                "DELETE FROM digest_follows WHERE subscription_id=? AND kind=? AND value_key=?",
                (sub_id, kind, value_key),
            )
        return cur.rowcount > 0

    def saved_searches(self, sub_id: int) -> list[SavedSearch]:
        return self.saved_searches_for([sub_id]).get(sub_id, [])

    def saved_searches_for(self, sub_ids: Sequence[int]) -> dict[int, list[SavedSearch]]:
        out: dict[int, list[SavedSearch]] = {}
        for chunk in _chunks(list(sub_ids)):
            marks = ",".join("?" * len(chunk))
            for sid, qid, query in self.conn.execute(
                "SELECT subscription_id, id, query FROM digest_saved_searches "
                f"WHERE subscription_id IN ({marks}) ORDER BY id",
                chunk,
            ):
                out.setdefault(sid, []).append(SavedSearch(qid, query))
        return out

    def add_saved_search(self, sub_id: int, query: str, now: datetime) -> bool:
        with self.transaction():
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO digest_saved_searches (subscription_id, query, created_at)"
                " VALUES (?,?,?)",
                (sub_id, query, ts(now)),
            )
        return cur.rowcount > 0

    def remove_saved_search(self, sub_id: int, search_id: int) -> bool:
        with self.transaction():
            cur = self.conn.execute(
                "DELETE FROM digest_saved_searches WHERE subscription_id=? AND id=?",
                (sub_id, search_id),
            )
        return cur.rowcount > 0

    # -- what a subscriber must not get again --------------------------------

    def sent_papers_for(self, sub_ids: Sequence[int]) -> dict[int, set[int]]:
        out: dict[int, set[int]] = {}
        for chunk in _chunks(list(sub_ids)):
            marks = ",".join("?" * len(chunk))
            for sid, paper in self.conn.execute(
                "SELECT subscription_id, paper FROM digest_sent_papers "
                f"WHERE subscription_id IN ({marks})",
                chunk,
            ):
                out.setdefault(sid, set()).add(paper)
        return out

    def user_papers(self, user_ids: Sequence[int]) -> dict[int, tuple[set[int], set[int]]]:
        """``{user: (papers in their lists, papers marked not interested)}``.

        The tables come from the accounts migration; until it is applied (or
        on a store without accounts) every user has neither.
        """
        out: dict[int, tuple[set[int], set[int]]] = {u: (set(), set()) for u in user_ids}
        if not user_ids:
            return out
        tables = self._tables()
        for chunk in _chunks(list(user_ids)):
            marks = ",".join("?" * len(chunk))
            if {"lists", "list_items"} <= tables:
                for uid, paper in self.conn.execute(
                    "SELECT l.user_id, i.paper FROM list_items i JOIN lists l ON l.id = i.list_id "
                    f"WHERE l.user_id IN ({marks})",
                    chunk,
                ):
                    out[uid][0].add(int(paper))
            if "not_interested" in tables:
                for uid, paper in self.conn.execute(
                    f"SELECT user_id, paper FROM not_interested WHERE user_id IN ({marks})",
                    chunk,
                ):
                    out[uid][1].add(int(paper))
        return out

    def embeddings_for(self, model: str, keys: Sequence[int]) -> dict[int, bytes]:
        """Stored vectors of ``model`` for ``keys`` (papers without one are left out)."""
        if "embeddings" not in self._tables():
            return {}
        out: dict[int, bytes] = {}
        for chunk in _chunks(list(keys)):
            marks = ",".join("?" * len(chunk))
            for paper, vector in self.conn.execute(
                f"SELECT paper, vector FROM embeddings WHERE model=? AND paper IN ({marks})",
                (model, *chunk),
            ):
                out[int(paper)] = bytes(vector)
        return out

    def _tables(self) -> set[str]:
        return {
            r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }

    # -- the outbox ----------------------------------------------------------

    def last_digest(self, sub_id: int) -> OutboxRow | None:
        """The subscriber's latest digest row that carried papers (any state)."""
        row = self.conn.execute(
            f"SELECT {_OUT_COLUMNS} FROM digest_outbox WHERE subscription_id=? AND kind='digest'"
            " AND state NOT IN ('skipped', 'cancelled', 'failed')"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            (sub_id,),
        ).fetchone()
        return _out(row) if row else None

    def last_digests_for(self, sub_ids: Sequence[int]) -> dict[int, str]:
        """``{subscription: created_at}`` of each one's latest digest with papers."""
        out: dict[int, str] = {}
        for chunk in _chunks(list(sub_ids)):
            marks = ",".join("?" * len(chunk))
            for sid, at in self.conn.execute(
                "SELECT subscription_id, max(created_at) FROM digest_outbox "
                f"WHERE kind='digest' AND state NOT IN ('skipped', 'cancelled', 'failed') "
                f"AND subscription_id IN ({marks}) GROUP BY subscription_id",
                chunk,
            ):
                out[sid] = at
        return out

    def periods_done(self, sub_ids: Sequence[int], periods: Iterable[str]) -> set[tuple[int, str]]:
        """Which ``(subscription, period)`` digests already have an outbox row."""
        wanted = sorted(set(periods))
        done: set[tuple[int, str]] = set()
        if not wanted:
            return done
        pmarks = ",".join("?" * len(wanted))
        for chunk in _chunks(list(sub_ids)):
            marks = ",".join("?" * len(chunk))
            done.update(
                self.conn.execute(
                    "SELECT subscription_id, period FROM digest_outbox WHERE kind='digest' "
                    f"AND subscription_id IN ({marks}) AND period IN ({pmarks})",
                    (*chunk, *wanted),
                ).fetchall()
            )
        return done

    def enqueue(
        self,
        sub_id: int,
        *,
        kind: str,
        period: str,
        recipient: str,
        message_id: str | None,
        message: bytes | None,
        papers: Sequence[tuple[int, str]] = (),
        now: datetime,
        state: str = "queued",
    ) -> int | None:
        """Write a message (or a ``skipped`` marker) for ``(subscription, kind, period)``.

        Returns the new row id, or None when that key already has a row: the
        unique key is what makes composing twice (a re-run, two workers)
        harmless. The digest's papers are recorded as sent in the same
        transaction, so the next digest cannot repeat them.
        """
        with self.transaction():
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO digest_outbox (subscription_id, kind, period, state,"
                " message_id, recipient, message, papers, next_attempt_at, created_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?)",
                (sub_id, kind, period, state, message_id, recipient, message, len(papers),
                 ts(now), ts(now)),
            )  # fmt: skip
            if cur.rowcount == 0:
                return None
            out_id = int(cur.lastrowid or 0)
            self.conn.executemany(
                "INSERT OR IGNORE INTO digest_sent_papers VALUES (?,?,?,?)",
                [(sub_id, key, out_id, reason) for key, reason in papers],
            )
        return out_id

    def outbox_row(self, out_id: int, *, with_message: bool = False) -> OutboxRow | None:
        extra = ", message" if with_message else ""
        row = self.conn.execute(
            f"SELECT {_OUT_COLUMNS}{extra} FROM digest_outbox WHERE id=?", (out_id,)
        ).fetchone()
        if row is None:
            return None
        return _out(
            row[:_OUT_N], bytes(row[_OUT_N]) if with_message and row[_OUT_N] is not None else None
        )

    def outbox(
        self, *, states: Sequence[str] = (), sub_id: int | None = None, limit: int = 1000
    ) -> list[OutboxRow]:
        sql = f"SELECT {_OUT_COLUMNS} FROM digest_outbox WHERE 1=1"
        args: list[Any] = []
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            args.extend(states)
        if sub_id is not None:
            sql += " AND subscription_id=?"
            args.append(sub_id)
        sql += " ORDER BY id LIMIT ?"
        return [_out(r) for r in self.conn.execute(sql, (*args, limit))]

    def outbox_counts(self) -> dict[str, int]:
        return dict(
            self.conn.execute("SELECT state, count(*) FROM digest_outbox GROUP BY state").fetchall()
        )

    def claim(
        self, *, now: datetime, owner: str, subscription_id: int | None = None
    ) -> OutboxRow | None:
        """Take the next due message: ``queued``/``retry`` → ``sending``, committed.

        One UPDATE ... RETURNING inside ``BEGIN IMMEDIATE``: two senders can
        never claim the same row.
        """
        only = "" if subscription_id is None else " AND subscription_id = ?"
        args: tuple[Any, ...] = (owner, ts(now), ts(now))
        if subscription_id is not None:
            args = (*args, subscription_id)
        with self.transaction():
            row = self.conn.execute(
                "UPDATE digest_outbox SET state='sending', owner=?, claimed_at=?,"
                " attempts=attempts+1 WHERE id = (SELECT id FROM digest_outbox"
                f" WHERE state IN ('queued', 'retry') AND next_attempt_at <= ?{only}"
                " ORDER BY next_attempt_at, id LIMIT 1)"
                f" RETURNING {_OUT_COLUMNS}, message",
                args,
            ).fetchone()
        if row is None:
            return None
        return _out(row[:_OUT_N], bytes(row[_OUT_N]) if row[_OUT_N] is not None else None)

    def transition(
        self,
        out_id: int,
        *,
        from_states: Sequence[str],
        to: str,
        owner: str | None = None,
        **values: Any,
    ) -> bool:
        """Move a row from one of ``from_states`` to ``to``, setting ``values``; committed.

        Returns False (and changes nothing) when the row is no longer in one of
        those states, or (with ``owner``) no longer owned by the caller.
        """
        allowed = {"next_attempt_at", "last_code", "last_error", "sent_at", "owner", "attempts"}
        if set(values) - allowed:
            raise ValueError(f"cannot set {', '.join(sorted(set(values) - allowed))}")
        sets = ", ".join(["state=?", *(f"{k}=?" for k in values)])
        sql = (
            f"UPDATE digest_outbox SET {sets} WHERE id=? "
            f"AND state IN ({','.join('?' * len(from_states))})"
        )
        args: list[Any] = [to, *values.values(), out_id, *from_states]
        if owner is not None:
            sql += " AND owner=?"
            args.append(owner)
        with self.transaction():
            cur = self.conn.execute(sql, args)
        return cur.rowcount == 1

    def in_flight(self) -> list[OutboxRow]:
        """Rows a sender holds (``sending``/``committing``), to check their owners."""
        return self.outbox(states=("sending", "committing"))

    def release_papers(self, out_id: int) -> None:
        """Forget the papers of a message that will never arrive; a later digest may carry them."""
        with self.transaction():
            self.conn.execute("DELETE FROM digest_sent_papers WHERE outbox_id=?", (out_id,))

    def cancel_pending(self, sub_id: int) -> int:
        """Cancel queued and retrying messages of a subscriber (unsubscribe, pause)."""
        with self.transaction():
            ids = [
                r[0]
                for r in self.conn.execute(
                    "SELECT id FROM digest_outbox WHERE subscription_id=? "
                    "AND state IN ('queued', 'retry')",
                    (sub_id,),
                )
            ]
            for out_id in ids:
                self.conn.execute(
                    "UPDATE digest_outbox SET state='cancelled' WHERE id=? "
                    "AND state IN ('queued', 'retry')",
                    (out_id,),
                )
                self.conn.execute("DELETE FROM digest_sent_papers WHERE outbox_id=?", (out_id,))
        return len(ids)

    def next_due_at(self) -> str | None:
        row = self.conn.execute(
            "SELECT min(next_attempt_at) FROM digest_outbox WHERE state IN ('queued', 'retry')"
        ).fetchone()
        return row[0] if row else None

    def record_bounce(self, sub_id: int, *, max_bounces: int, now: datetime) -> bool:
        """Count a permanent failure; pause the subscriber at ``max_bounces``. True if paused."""
        with self.transaction():
            self.conn.execute(
                "UPDATE digest_subscriptions SET bounce_count = bounce_count + 1 WHERE id=?",
                (sub_id,),
            )
            cur = self.conn.execute(
                "UPDATE digest_subscriptions SET status='paused', paused_at=? "
                "WHERE id=? AND status='active' AND bounce_count >= ?",
                (ts(now), sub_id, max_bounces),
            )
        return cur.rowcount > 0

    def reset_bounces(self, sub_id: int) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE digest_subscriptions SET bounce_count=0 WHERE id=? AND bounce_count>0",
                (sub_id,),
            )

    # -- runs and the worker -------------------------------------------------

    def start_run(self, *, cadence: str | None, dry_run: bool, now: datetime) -> int:
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO digest_runs (started_at, cadence, dry_run) VALUES (?,?,?)",
                (ts(now), cadence, int(dry_run)),
            )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, report: dict[str, Any], *, now: datetime) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE digest_runs SET finished_at=?, report=? WHERE id=?",
                (ts(now), json.dumps(report, default=str), run_id),
            )

    def job_times(self) -> dict[str, tuple[str | None, str | None, bool | None]]:
        """``{job: (started_at, finished_at, ok)}`` for every job the worker has run."""
        return {
            name: (started, finished, None if ok is None else bool(ok))
            for name, started, finished, ok in self.conn.execute(
                "SELECT name, started_at, finished_at, ok FROM worker_jobs"
            )
        }

    def job_started(self, name: str, now: datetime) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO worker_jobs (name, started_at) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET started_at=excluded.started_at",
                (name, ts(now)),
            )

    def job_finished(self, name: str, now: datetime, *, ok: bool, summary: dict[str, Any]) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE worker_jobs SET finished_at=?, ok=?, summary=? WHERE name=?",
                (ts(now), int(ok), json.dumps(summary, default=str), name),
            )


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(values), _IN_CHUNK):
        yield values[i : i + _IN_CHUNK]
