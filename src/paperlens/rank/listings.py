"""Listings for the author, organisation and category pages and their JSON twins.

The pages, the API and the feeds call these, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from paperlens.errors import NotFound
from paperlens.index.keyword import ParsedQuery
from paperlens.model import Paper
from paperlens.store.browse import BrowseQueries, Order

if TYPE_CHECKING:
    from paperlens.services import Services

Kind = Literal["author", "org", "category"]
ORDERS: tuple[str, ...] = ("newest", "upvotes")


@dataclass(slots=True)
class Listing:
    """One page of an author's, an organisation's or a category's papers, with context."""

    kind: Kind
    name: str
    order: str
    papers: list[tuple[int, Paper]]
    total: int
    first: date | None = None
    last: date | None = None
    people: list[tuple[str, int]] = field(default_factory=list)
    """Frequent co-authors (author page) or most frequent authors (organisation, category)."""
    orgs: list[tuple[str, int]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "order": self.order,
            "total": self.total,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "people": [{"name": n, "papers": c} for n, c in self.people],
            "organisations": [{"name": n, "papers": c} for n, c in self.orgs],
        }


def listing(
    services: Services,
    kind: Kind,
    name: str,
    *,
    order: Order = "newest",
    limit: int = 30,
    offset: int = 0,
    with_context: bool = True,
) -> Listing:
    """Papers of an author, organisation or category; ``NotFound`` when there are none."""
    queries = BrowseQueries(services.store)
    if kind == "category":
        return _category(
            services,
            queries,
            name,
            order=order,
            limit=limit,
            offset=offset,
            with_context=with_context,
        )
    summary = queries.facet_summary(kind, name)
    if summary["papers"] == 0:
        what = "author" if kind == "author" else "organisation"
        raise NotFound(f"No {what} named {name!r} in the store.")
    keys = queries.facet_papers(kind, name, order=order, limit=limit, offset=offset)
    result = Listing(
        kind,
        name,
        order,
        _load(services, keys),
        summary["papers"],
        summary["first"],
        summary["last"],
    )
    if with_context:
        result.people = queries.coauthors(kind, name)
        result.orgs = queries.facet_orgs(kind, name)
    return result


def _category(
    services: Services,
    queries: BrowseQueries,
    name: str,
    *,
    order: Order,
    limit: int,
    offset: int,
    with_context: bool,
) -> Listing:
    index = services.fulltext
    _hits, total = index.search(ParsedQuery(categories=[name]), limit=1)
    if total == 0:
        raise NotFound(f"No papers in category {name!r}.")
    keys = queries.category_papers(name, order=order, limit=limit, offset=offset)
    papers = _load(services, keys)
    result = Listing("category", name, order, papers, total)
    if with_context and papers:
        dates = [d for _, p in papers if (d := p.featured or p.published) is not None]
        result.last = max(dates) if dates and order == "newest" and offset == 0 else None
        counts: dict[str, int] = {}
        for _, paper in papers:
            for author in paper.authors:
                counts[author] = counts.get(author, 0) + 1
        result.people = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:12]
    return result


def newest(services: Services, *, limit: int = 30, offset: int = 0) -> list[tuple[int, Paper]]:
    """The most recently published papers."""
    return _load(services, BrowseQueries(services.store).newest(limit=limit, offset=offset))


def _load(services: Services, keys: list[int]) -> list[tuple[int, Paper]]:
    by_key = services.store.papers_by_key(keys)
    return [(k, by_key[k]) for k in keys if k in by_key]
