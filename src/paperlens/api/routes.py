"""``/api/v1``: read-only JSON calling the same functions as the pages.

Papers, one paper, similar papers, search, trending, authors, organisations,
categories and public reading lists. Lists are paged with ``limit``/``offset``
and say where the next page is; errors share one shape (``schemas.ErrorResponse``).
Writing (votes, lists) happens through the site's forms, which carry CSRF
tokens; the API has no cookie-authenticated writes to protect.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request

from paperlens.accounts import lists as reading_lists
from paperlens.accounts.votes import upvotes
from paperlens.api.schemas import (
    ErrorResponse,
    ListEntryOut,
    ListingResponse,
    NameCount,
    PaperDetail,
    PaperList,
    PaperSummary,
    ProvenanceOut,
    ReadingListOut,
    SearchHit,
    SearchResponse,
    SignalOut,
    SimilarEntry,
    SimilarResponse,
    SnippetSegment,
    TrendingEntry,
    TrendingResponse,
    VersionOut,
)
from paperlens.rank.listings import Kind, listing, newest
from paperlens.rank.more_like_this import similar_to
from paperlens.rank.search import search
from paperlens.rank.trending import TrendingWeights, window_bounds
from paperlens.store.browse import Order as BrowseOrder
from paperlens.store.trending import TrendingQueries
from paperlens.web.deps import CurrentUser, ServicesDep
from paperlens.web.pages.paper import latest_signals, resolve_paper, sightings
from paperlens.web.pages.search import available_modes
from paperlens.web.pages.trending import parse_day
from paperlens.web.trending_cache import trending_slice

_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse, "description": "Bad request (e.g. malformed query)."},
    404: {"model": ErrorResponse, "description": "No such paper, author, list..."},
    422: {"model": ErrorResponse, "description": "A parameter is out of range or malformed."},
}
router = APIRouter(prefix="/api/v1", tags=["api"], responses=_ERRORS)

Limit = Annotated[int, Query(ge=1, le=100, description="Items per page (1-100).")]
Offset = Annotated[int, Query(ge=0, le=10_000, description="Items to skip (0-10000).")]
Order = Annotated[Literal["newest", "upvotes"], Query(description="newest or upvotes")]


def _next(request: Request, total: int | None, limit: int, offset: int, got: int) -> str | None:
    more = offset + got < total if total is not None else got == limit
    if not more:
        return None
    params = dict(request.query_params)
    params.update(limit=str(limit), offset=str(offset + limit))
    return f"{request.url.path}?{urlencode(params)}"


@router.get("/papers", response_model=PaperList, summary="Newest papers")
def papers(
    request: Request, services: ServicesDep, limit: Limit = 20, offset: Offset = 0
) -> PaperList:
    rows = newest(services, limit=limit, offset=offset)
    counts = upvotes(services, [k for k, _ in rows])
    total = services.store.count()
    return PaperList(
        items=[PaperSummary.of(p, counts.get(k)) for k, p in rows],
        total=total,
        limit=limit,
        offset=offset,
        next=_next(request, total, limit, offset, len(rows)),
    )


@router.get(
    "/papers/{ref:path}/similar",
    response_model=SimilarResponse,
    summary="Papers similar to a paper",
)
def similar(ref: str, services: ServicesDep, limit: Limit = 10) -> SimilarResponse:
    key, paper = resolve_paper(services, ref)
    found = similar_to(services, key, limit=limit)
    keys = {s.paper.id: services.store.key_of(s.paper.id) for s in found}
    counts = upvotes(services, [k for k in keys.values() if k is not None])
    return SimilarResponse(
        paper=paper.id,
        items=[
            SimilarEntry(
                paper=PaperSummary.of(s.paper, counts.get(keys[s.paper.id] or -1)),
                score=s.score,
                method=s.method,
            )
            for s in found
        ],
    )


@router.get(
    "/papers/{ref:path}",
    response_model=PaperDetail,
    summary="One paper, by paperlens id, arXiv id or DOI",
)
def paper(ref: str, services: ServicesDep) -> PaperDetail:
    key, found = resolve_paper(services, ref, with_claims=True)
    votes = upvotes(services, [key])[key]
    base = PaperSummary.of(found, votes).model_dump()
    return PaperDetail(
        **base,
        abstract=found.abstract,
        updated=found.updated,
        comment=found.comment,
        journal_ref=found.journal_ref,
        version=found.version,
        versions=[VersionOut(version=v.version, date=v.date) for v in found.versions],
        signals=[
            SignalOut(kind=s.kind, source=s.source, value=s.value, observed_at=s.observed_at)
            for s in latest_signals(found)
        ],
        provenance=[
            ProvenanceOut(
                source=s.source, origin=s.origin, first_seen=s.first_seen, fields=s.fields
            )
            for s in sightings(found.claims)
        ],
    )


@router.get("/search", response_model=SearchResponse, summary="Search papers")
def search_api(
    request: Request,
    services: ServicesDep,
    q: Annotated[
        str,
        Query(
            max_length=1000,
            description='Words, "phrases", -not, author:, title:, cat:, org:, year:2021..2023',
        ),
    ] = "",
    mode: Annotated[
        Literal["keyword", "semantic", "hybrid"] | None,
        Query(description="Default: the installation's search_mode where it can run."),
    ] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> SearchResponse:
    modes = available_modes(services)
    if mode is None:
        mode = getattr(services.settings, "search_mode", "keyword")
    if mode not in modes:
        mode = "keyword"
    if not q.strip():
        return SearchResponse(
            query=q, mode=mode, items=[], total=0, limit=limit, offset=offset, next=None
        )
    page = search(services, q, mode=mode, limit=limit, offset=offset)
    keys: dict[str, int | None] = {r.paper.id: r.key for r in page.results}
    counts = upvotes(services, [k for k in keys.values() if k is not None])
    hits = [
        SearchHit(
            paper=PaperSummary.of(r.paper, counts.get(keys[r.paper.id] or -1)),
            score=r.score,
            snippet=[SnippetSegment(text=t, match=m) for t, m in r.snippet],
            explain=r.explain,
        )
        for r in page.results
    ]
    return SearchResponse(
        query=q,
        mode=page.mode,
        items=hits,
        total=page.total,
        limit=limit,
        offset=offset,
        next=_next(request, page.total, limit, offset, len(hits)),
    )


@router.get("/trending", response_model=TrendingResponse, summary="Trending papers")
def trending_api(
    request: Request,
    services: ServicesDep,
    user: CurrentUser,
    window: Annotated[Literal["daily", "weekly", "monthly"], Query()] = "daily",
    day: Annotated[
        str | None,
        Query(
            alias="date",
            description="YYYY-MM-DD; default: the latest day with papers",
            max_length=10,
        ),
    ] = None,
    limit: Limit = 30,
    offset: Offset = 0,
) -> TrendingResponse:
    when: date
    if day:
        when = parse_day(day)
    else:
        today = services.clock().date()
        when = TrendingQueries(services.store).latest_day(on_or_before=today) or today
    exclude = reading_lists.not_interested(services, user.id) if user else set()
    items, total = trending_slice(
        request.app.state.trending, window, when, exclude=exclude, limit=limit, offset=offset
    )
    counts = upvotes(services, [i.key for i in items])
    start, end = window_bounds(window, when)
    weights = TrendingWeights.from_settings(services.settings)
    return TrendingResponse(
        window=window,
        date=when,
        start=start,
        end=end,
        weights={k: getattr(weights, k) for k in weights.__dataclass_fields__},
        demo_data=request.app.state.demo_data(),
        items=[
            TrendingEntry(
                paper=PaperSummary.of(i.paper, counts.get(i.key)),
                score=i.score,
                breakdown=i.breakdown,
                inputs=i.inputs,
                day=i.day,
            )
            for i in items
        ],
        total=total,
        limit=limit,
        offset=offset,
        next=_next(request, total, limit, offset, len(items)),
    )


def _listing(
    request: Request,
    services: ServicesDep,
    kind: Kind,
    name: str,
    order: str,
    limit: int,
    offset: int,
) -> ListingResponse:
    result = listing(
        services,
        kind,
        name.strip(),
        order=cast(BrowseOrder, order),
        limit=limit,
        offset=offset,
    )
    counts = upvotes(services, [k for k, _ in result.papers])
    return ListingResponse(
        kind=kind,
        name=result.name,
        order=order,
        first=result.first,
        last=result.last,
        people=[NameCount(name=n, papers=c) for n, c in result.people],
        organisations=[NameCount(name=n, papers=c) for n, c in result.orgs],
        items=[PaperSummary.of(p, counts.get(k)) for k, p in result.papers],
        total=result.total,
        limit=limit,
        offset=offset,
        next=_next(request, result.total, limit, offset, len(result.papers)),
    )


@router.get("/authors/{name:path}", response_model=ListingResponse, summary="An author's papers")
def author(
    request: Request,
    name: str,
    services: ServicesDep,
    order: Order = "newest",
    limit: Limit = 20,
    offset: Offset = 0,
) -> ListingResponse:
    return _listing(request, services, "author", name, order, limit, offset)


@router.get(
    "/organisations/{name:path}", response_model=ListingResponse, summary="An organisation's papers"
)
def organisation(
    request: Request,
    name: str,
    services: ServicesDep,
    order: Order = "newest",
    limit: Limit = 20,
    offset: Offset = 0,
) -> ListingResponse:
    return _listing(request, services, "org", name, order, limit, offset)


@router.get(
    "/categories/{name:path}", response_model=ListingResponse, summary="A category's papers"
)
def category(
    request: Request,
    name: str,
    services: ServicesDep,
    order: Order = "newest",
    limit: Limit = 20,
    offset: Offset = 0,
) -> ListingResponse:
    return _listing(request, services, "category", name, order, limit, offset)


@router.get(
    "/lists/{slug}", response_model=ReadingListOut, summary="A public reading list (or your own)"
)
def reading_list(slug: str, services: ServicesDep, user: CurrentUser) -> ReadingListOut:
    row = reading_lists.get_list(services, slug, viewer=user.id if user else None)
    entries = reading_lists.entries(services, row)
    counts = upvotes(services, [e.key for e in entries])
    return ReadingListOut(
        slug=row.slug,
        name=row.name,
        owner=row.owner,
        public=row.public,
        created_at=row.created_at,
        updated_at=row.updated_at,
        count=row.count,
        items=[
            ListEntryOut(
                paper=PaperSummary.of(e.paper, counts.get(e.key)),
                note=e.note,
                read=e.read,
                added_at=e.added_at,
            )
            for e in entries
        ],
    )
