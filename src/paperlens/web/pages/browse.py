"""Author, organisation and category pages: papers newest or most upvoted, with context."""

from __future__ import annotations

from typing import Annotated, Literal, cast
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from paperlens.accounts.votes import upvotes
from paperlens.rank.listings import Kind, listing
from paperlens.store.browse import Order
from paperlens.web.deps import CurrentUser, ServicesDep, check_csrf
from paperlens.web.render import render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
PER_PAGE = 25
OrderParam = Annotated[Literal["newest", "upvotes"], Query(description="newest or upvotes")]
PageParam = Annotated[int, Query(ge=1, le=2000)]
_FEED_KIND = {"author": "author", "org": "org", "category": "category"}
_PATH = {"author": "/authors", "org": "/orgs", "category": "/categories"}


def _listing_page(
    request: Request,
    services: ServicesDep,
    user: CurrentUser,
    kind: Kind,
    name: str,
    order: str,
    page: int,
) -> HTMLResponse:
    name = name.strip()
    result = listing(
        services,
        kind,
        name,
        order=cast(Order, order),
        limit=PER_PAGE,
        offset=(page - 1) * PER_PAGE,
    )
    counts = upvotes(services, [k for k, _ in result.papers], user_id=user.id if user else None)
    feed = f"/feeds/{_FEED_KIND[kind]}"
    context = {
        "listing": result,
        "counts": counts,
        "page": page,
        "per_page": PER_PAGE,
        "base": f"{_PATH[kind]}/{quote(name, safe='')}",
        "title": name,
        "canonical": f"{_PATH[kind]}/{quote(name, safe='')}",
        "public_page": True,
        "feeds": [
            ("application/atom+xml", f"{name} (Atom)", f"{feed}.atom?name={quote(name)}"),
            ("application/feed+json", f"{name} (JSON Feed)", f"{feed}.json?name={quote(name)}"),
        ],
    }
    return render(request, "listing.html", context)


@router.get("/authors/{name:path}", response_class=HTMLResponse)
def author_page(
    request: Request,
    name: str,
    services: ServicesDep,
    user: CurrentUser,
    order: OrderParam = "newest",
    page: PageParam = 1,
) -> HTMLResponse:
    return _listing_page(request, services, user, "author", name, order, page)


@router.get("/orgs/{name:path}", response_class=HTMLResponse)
def org_page(
    request: Request,
    name: str,
    services: ServicesDep,
    user: CurrentUser,
    order: OrderParam = "newest",
    page: PageParam = 1,
) -> HTMLResponse:
    return _listing_page(request, services, user, "org", name, order, page)


@router.get("/categories/{name:path}", response_class=HTMLResponse)
def category_page(
    request: Request,
    name: str,
    services: ServicesDep,
    user: CurrentUser,
    order: OrderParam = "newest",
    page: PageParam = 1,
) -> HTMLResponse:
    return _listing_page(request, services, user, "category", name, order, page)
