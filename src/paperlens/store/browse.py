"""SQL for browsing: papers of an author, an organisation or a category; newest papers.

Read-only, bound parameters only. "Newest" orders by the shown date (featured,
else published); "upvotes" by each source's highest count summed, a cheap
stand-in for the latest count that uses the signals primary key.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from paperlens.store import Store

Order = Literal["newest", "upvotes"]
Facet = Literal["author", "org"]

_UPVOTES = (
    "(SELECT coalesce(sum(v), 0) FROM (SELECT max(s.value) AS v FROM signals s "
    "WHERE s.paper = p.key AND s.kind = 'upvotes' GROUP BY s.source))"
)
_SHOWN = "coalesce(p.featured, p.published)"
_FACET = {
    "author": ("paper_authors", "name"),
    "org": ("paper_orgs", "org"),
}


class BrowseQueries:
    """Listings behind the author, organisation and category pages and ``/api/v1/papers``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def _conn(self) -> Any:
        return self.store.conn  # type: ignore[attr-defined]

    def facet_papers(
        self, facet: Facet, value: str, *, order: Order, limit: int, offset: int
    ) -> list[int]:
        table, column = _FACET[facet]
        by = f"{_UPVOTES} DESC, {_SHOWN} DESC" if order == "upvotes" else f"{_SHOWN} DESC"
        rows = self._conn.execute(
            f"SELECT p.key FROM {table} f JOIN papers p ON p.key = f.paper "
            f"WHERE f.{column} = ? GROUP BY p.key ORDER BY {by}, p.key DESC LIMIT ? OFFSET ?",
            (value, limit, offset),
        ).fetchall()
        return [int(r[0]) for r in rows]

    def facet_summary(self, facet: Facet, value: str) -> dict[str, Any]:
        """Paper count and the first and last dates for an author or organisation."""
        table, column = _FACET[facet]
        count, first, last = self._conn.execute(
            f"SELECT count(DISTINCT p.key), min({_SHOWN}), max({_SHOWN}) FROM {table} f "
            f"JOIN papers p ON p.key = f.paper WHERE f.{column} = ?",
            (value,),
        ).fetchone()
        return {
            "papers": int(count),
            "first": date.fromisoformat(first[:10]) if first else None,
            "last": date.fromisoformat(last[:10]) if last else None,
        }

    def coauthors(self, facet: Facet, value: str, *, limit: int = 12) -> list[tuple[str, int]]:
        """The most frequent authors on the papers of an author (others) or an organisation."""
        table, column = _FACET[facet]
        exclude = "AND b.name != ?" if facet == "author" else ""
        args: tuple[Any, ...] = (value, value, limit) if facet == "author" else (value, limit)
        rows = self._conn.execute(
            f"SELECT b.name, count(DISTINCT b.paper) FROM {table} f "
            f"JOIN paper_authors b ON b.paper = f.paper WHERE f.{column} = ? {exclude} "
            "GROUP BY b.name ORDER BY 2 DESC, 1 LIMIT ?",
            args,
        ).fetchall()
        return [(n, int(c)) for n, c in rows]

    def facet_orgs(self, facet: Facet, value: str, *, limit: int = 12) -> list[tuple[str, int]]:
        """Organisations on the papers of an author (or other orgs on an org's papers)."""
        table, column = _FACET[facet]
        exclude = "AND o.org != ?" if facet == "org" else ""
        args: tuple[Any, ...] = (value, value, limit) if facet == "org" else (value, limit)
        rows = self._conn.execute(
            f"SELECT o.org, count(DISTINCT o.paper) FROM {table} f "
            f"JOIN paper_orgs o ON o.paper = f.paper WHERE f.{column} = ? {exclude} "
            "GROUP BY o.org ORDER BY 2 DESC, 1 LIMIT ?",
            args,
        ).fetchall()
        return [(n, int(c)) for n, c in rows]

    def category_papers(self, category: str, *, order: Order, limit: int, offset: int) -> list[int]:
        """Papers in a category, newest first by the ``published`` index.

        Categories are a JSON list on the paper, with no index of their own;
        walking ``published`` backwards stops as soon as the page is full, which
        is fast for the categories people browse (the busy ones).
        """
        needle = '%"' + category.replace("\\", "\\\\").replace('"', '\\"') + '"%'
        if order == "upvotes":
            rows = self._conn.execute(
                f"SELECT p.key FROM papers p WHERE p.categories LIKE ? ESCAPE '\\' "
                f"AND EXISTS (SELECT 1 FROM signals s WHERE s.paper = p.key "
                f"AND s.kind = 'upvotes') ORDER BY {_UPVOTES} DESC, p.published DESC "
                "LIMIT ? OFFSET ?",
                (needle, limit, offset),
            ).fetchall()
        else:
            rows = self._conn.execute(
                "SELECT p.key FROM papers p INDEXED BY papers_published "
                "WHERE p.published IS NOT NULL AND p.categories LIKE ? ESCAPE '\\' "
                "ORDER BY p.published DESC, p.key DESC LIMIT ? OFFSET ?",
                (needle, limit, offset),
            ).fetchall()
        return [int(r[0]) for r in rows]

    def newest(self, *, limit: int, offset: int) -> list[int]:
        rows = self._conn.execute(
            "SELECT key FROM papers INDEXED BY papers_published WHERE published IS NOT NULL "
            "ORDER BY published DESC, key DESC LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()
        return [int(r[0]) for r in rows]

    def neighbour_day(
        self, *, before: date | None = None, after: date | None = None
    ) -> date | None:
        """The nearest shown date with papers strictly before ``before`` or after ``after``."""
        from paperlens.store.trending import _nearest

        if before is not None:
            return _nearest(self._conn, "<", before.isoformat(), descending=True)
        if after is not None:
            return _nearest(self._conn, ">", after.isoformat(), descending=False)
        raise ValueError("give before or after")
