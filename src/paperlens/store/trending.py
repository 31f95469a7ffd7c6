"""SQL for trending: the papers featured in a window and their signal time series.

Kept apart from ``sqlite.py`` (the ingest and paper reads) because only
``rank/trending.py`` asks these questions. Bound parameters only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

from paperlens.store import Store


class SignalRow(NamedTuple):
    """One observation of one signal of one paper."""

    paper: int
    kind: str
    source: str
    observed_at: str
    value: float


class TrendingQueries:
    """Read-only queries behind ``paperlens.rank.trending``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def _conn(self) -> Any:
        return self.store.conn  # type: ignore[attr-defined]

    def window_papers(self, start: date, end: date) -> list[tuple[int, date]]:
        """``(key, shown date)`` for papers featured in ``[start, end]``.

        The shown date is the featured date (the day a curated list showed the
        paper), else the published date. Two queries joined by UNION ALL so each
        half uses its own index; ``coalesce(featured, published)`` would not.
        """
        rows = self._conn.execute(
            "SELECT key, featured FROM papers WHERE featured BETWEEN ? AND ? "
            "UNION ALL "
            "SELECT key, published FROM papers "
            "WHERE published BETWEEN ? AND ? AND +featured IS NULL",
            (start.isoformat(), end.isoformat(), start.isoformat(), end.isoformat()),
        ).fetchall()
        return [(int(k), date.fromisoformat(d[:10])) for k, d in rows]

    def signals_in_window(self, start: date, end: date, kinds: Sequence[str]) -> list[SignalRow]:
        """Every observation of ``kinds`` for the papers featured in ``[start, end]``.

        Ordered by paper, kind, source and time, so the caller reads each series
        front to back. One query (the window is a subquery), not one per paper.
        """
        marks = ",".join("?" * len(kinds))
        window = (start.isoformat(), end.isoformat())
        sql = (
            "SELECT paper, kind, source, observed_at, value FROM signals "
            f"WHERE kind IN ({marks}) AND paper IN ("
            " SELECT key FROM papers WHERE featured BETWEEN ? AND ?"
            " UNION ALL"
            " SELECT key FROM papers WHERE published BETWEEN ? AND ? AND +featured IS NULL"
            ") ORDER BY paper, kind, source, observed_at"
        )
        rows = self._conn.execute(sql, (*kinds, *window, *window)).fetchall()
        return [SignalRow(int(p), k, s, at, float(v)) for p, k, s, at, v in rows]

    def latest_day(self, *, on_or_before: date) -> date | None:
        """The most recent featured (else published) day with a paper, not after ``on_or_before``.

        The home page opens on this day when today has no papers yet (a fresh
        install, a weekend), instead of an empty list.
        """
        bound = on_or_before.isoformat()
        return _nearest(self._conn, "<=", bound, descending=True)


def _nearest(conn: Any, op: str, bound: str, *, descending: bool) -> date | None:
    """The nearest shown date on one side of ``bound``, from two index walks.

    ``+featured`` keeps SQLite off the ``featured`` index for the IS NULL test
    (it would otherwise scan every unfeatured paper); each half walks its own
    date index from ``bound`` and stops at the first row.
    """
    order = "DESC" if descending else "ASC"
    found = []
    for sql in (
        f"SELECT featured FROM papers WHERE featured {op} ? ORDER BY featured {order} LIMIT 1",
        f"SELECT published FROM papers INDEXED BY papers_published WHERE published {op} ? "
        f"AND +featured IS NULL ORDER BY published {order} LIMIT 1",
    ):
        row = conn.execute(sql, (bound,)).fetchone()
        if row and row[0]:
            found.append(date.fromisoformat(row[0][:10]))
    if not found:
        return None
    return max(found) if descending else min(found)
