"""Trending pages: ``/`` and ``/papers/date|week|month/...`` with tabs and previous/next.

The home page opens on the latest day with papers (today when there are any),
the way a daily list should, rather than on an empty today.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperlens.accounts.lists import not_interested
from paperlens.accounts.users import User
from paperlens.accounts.votes import Upvotes, upvotes
from paperlens.errors import PaperlensError
from paperlens.rank.trending import TrendingItem, TrendingWeights, Window, window_bounds
from paperlens.services import Services
from paperlens.store.browse import BrowseQueries
from paperlens.store.trending import TrendingQueries
from paperlens.web.deps import CurrentUser, ServicesDep, check_csrf
from paperlens.web.render import render
from paperlens.web.trending_cache import TrendingCache, trending_slice

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
PER_PAGE = 30
SHORT_DAY = 10
_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadRequest(PaperlensError):
    """A malformed path or parameter; answered with 400 and this message."""


def parse_day(text: str) -> date:
    if _DAY_RE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise BadRequest(f"{text[:40]!r} is not a date; use YYYY-MM-DD, e.g. 2025-04-09.")


def parse_week(text: str) -> date:
    m = _WEEK_RE.match(text)
    if m:
        try:
            return date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        except ValueError:
            pass
    raise BadRequest(f"{text[:40]!r} is not an ISO week; use YYYY-Www, e.g. 2025-W15.")


def parse_month(text: str) -> date:
    m = _MONTH_RE.match(text)
    if m and 1 <= int(m.group(2)) <= 12 and int(m.group(1)) >= 1:
        return date(int(m.group(1)), int(m.group(2)), 1)
    raise BadRequest(f"{text[:40]!r} is not a month; use YYYY-MM, e.g. 2025-04.")


def window_path(window: str, day: date) -> str:
    if window == "weekly":
        year, week, _ = day.isocalendar()
        return f"/papers/week/{year}-W{week:02d}"
    if window == "monthly":
        return f"/papers/month/{day:%Y-%m}"
    return f"/papers/date/{day.isoformat()}"


def window_label(window: str, day: date) -> str:
    start, end = window_bounds(window, day)  # type: ignore[arg-type]
    if window == "weekly":
        year, week, _ = day.isocalendar()
        return f"Week {week}, {year} · {start:%b} {start.day} – {end:%b} {end.day}"
    if window == "monthly":
        return f"{start:%B %Y}"
    return f"{day:%A}, {day:%B} {day.day}, {day:%Y}"


@dataclass(slots=True)
class TrendingView:
    window: str
    day: date
    start: date
    end: date
    items: list[TrendingItem]
    total: int
    counts: dict[int, Upvotes]
    prev: date | None
    next: date | None
    offset: int


def trending_view(
    services: Services,
    cache: TrendingCache,
    window: Window,
    day: date,
    *,
    user: User | None,
    limit: int = PER_PAGE,
    offset: int = 0,
) -> TrendingView:
    exclude = not_interested(services, user.id) if user else set()
    items, total = trending_slice(cache, window, day, exclude=exclude, limit=limit, offset=offset)
    counts = upvotes(services, [i.key for i in items], user_id=user.id if user else None)
    start, end = window_bounds(window, day)
    browse = BrowseQueries(services.store)
    return TrendingView(
        window,
        day,
        start,
        end,
        items,
        total,
        counts,
        browse.neighbour_day(before=start),
        browse.neighbour_day(after=end),
        offset,
    )


def recent_best(
    services: Services,
    cache: TrendingCache,
    day: date,
    *,
    user: User | None,
    exclude: set[int],
    months: int = 36,
) -> TrendingView | None:
    """The best papers of the months up to ``day``, for a quiet day's page.

    Walks back month by month (each month's scores are cached) until it has
    ``SHORT_DAY`` papers, then orders them by score; so a small store or a
    weekend still opens on something worth reading.
    """
    items: list[TrendingItem] = []
    first = day
    cursor = day
    for _ in range(months):
        view = trending_view(services, cache, "monthly", cursor, user=user, limit=SHORT_DAY * 2)
        items.extend(i for i in view.items if i.key not in exclude)
        first = view.start
        if len(items) >= SHORT_DAY:
            break
        cursor = view.start - timedelta(days=1)
    if not items:
        return None
    items = sorted(items, key=lambda i: -i.score)[:SHORT_DAY]
    counts = upvotes(services, [i.key for i in items], user_id=user.id if user else None)
    return TrendingView("recent", day, first, day, items, len(items), counts, None, None, 0)


def _page(
    request: Request,
    services: Services,
    user: User | None,
    window: Window,
    day: date,
    page: int,
    *,
    note: str | None = None,
    canonical: str | None = None,
) -> HTMLResponse:
    cache: TrendingCache = request.app.state.trending
    view = trending_view(services, cache, window, day, user=user, offset=(page - 1) * PER_PAGE)
    more: TrendingView | None = None
    if window == "daily" and page == 1 and view.total < SHORT_DAY:
        more = recent_best(services, cache, day, user=user, exclude={i.key for i in view.items})
    feed_base = f"/feeds/trending/{window}"
    context: dict[str, Any] = {
        "view": view,
        "more": more,
        "page": page,
        "per_page": PER_PAGE,
        "note": note,
        "title": "Trending papers"
        if canonical == "/"
        else f"Trending · {window_label(window, day)}",
        "label": window_label(window, day),
        "window_path": window_path,
        "weights": TrendingWeights.from_settings(services.settings),
        "canonical": canonical or window_path(window, day),
        "public_page": True,
        "feeds": [
            ("application/atom+xml", f"Trending {window} (Atom)", f"{feed_base}.atom"),
            ("application/feed+json", f"Trending {window} (JSON Feed)", f"{feed_base}.json"),
        ],
    }
    return render(request, "trending.html", context)


def home_day(services: Services) -> tuple[date, date | None, date]:
    """The day the home page opens on, the latest day with papers (if any), and today."""
    today = services.clock().date()
    latest = TrendingQueries(services.store).latest_day(on_or_before=today)
    return latest or today, latest, today


def current_windows(services: Services) -> list[tuple[Window, date]]:
    """The windows the home page and its tabs show first: what start-up warms."""
    day = home_day(services)[0]
    return [("daily", day), ("weekly", day), ("monthly", day)]


PageParam = Annotated[int, Query(ge=1, le=10_000, description="Page number, from 1.")]


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, services: ServicesDep, user: CurrentUser, page: PageParam = 1
) -> HTMLResponse:
    day, latest, today = home_day(services)
    note = None
    if latest is not None and latest != today:
        note = f"No papers for today yet; showing the latest day with papers, {day:%B} {day.day}."
    return _page(request, services, user, "daily", day, page, note=note, canonical="/")


@router.get("/papers/date/{day}", response_class=HTMLResponse)
def daily(
    request: Request, day: str, services: ServicesDep, user: CurrentUser, page: PageParam = 1
) -> HTMLResponse:
    return _page(request, services, user, "daily", parse_day(day), page)


@router.get("/papers/week/{week}", response_class=HTMLResponse)
def weekly(
    request: Request, week: str, services: ServicesDep, user: CurrentUser, page: PageParam = 1
) -> HTMLResponse:
    return _page(request, services, user, "weekly", parse_week(week), page)


@router.get("/papers/month/{month}", response_class=HTMLResponse)
def monthly(
    request: Request, month: str, services: ServicesDep, user: CurrentUser, page: PageParam = 1
) -> HTMLResponse:
    return _page(request, services, user, "monthly", parse_month(month), page)


@router.get("/papers/date", response_model=None)
def jump(d: Annotated[str, Query(max_length=10, description="YYYY-MM-DD")]) -> Response:
    """Where the date picker goes: the daily page of the chosen day."""
    return RedirectResponse(f"/papers/date/{parse_day(d).isoformat()}", status_code=303)


@router.get("/about/trending", response_class=HTMLResponse)
def about_trending(request: Request, services: ServicesDep) -> HTMLResponse:
    weights = TrendingWeights.from_settings(services.settings)
    return render(
        request, "about_trending.html", {"title": "How trending works", "weights": weights}
    )
