"""The search page: ``/search?q=...`` with modes, filters, paging and live results.

Filters are form fields that become query syntax (``cat:``, ``org:``,
``year:``), so the URL of any search is its permalink and the same text
works in the CLI. With HTMX the page swaps only the results as you type;
without JavaScript the form submits and the whole page renders the same
results.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from paperlens.accounts.votes import Upvotes, upvotes
from paperlens.errors import InvalidQuery
from paperlens.rank.more_like_this import semantic_ready
from paperlens.rank.search import MODES, Mode, SearchResult, search
from paperlens.services import Services
from paperlens.web.deps import CurrentUser, ServicesDep, check_csrf
from paperlens.web.render import is_htmx, query_string, render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
PER_PAGE = 20
MODE_LABELS = {"keyword": "Keyword", "semantic": "Meaning", "hybrid": "Hybrid"}


def available_modes(services: Services) -> tuple[str, ...]:
    """The search modes this installation can run.

    ``paperlens.rank.search.available_modes(services)`` decides when it exists;
    otherwise meaning and hybrid need stored embeddings for the configured model
    (checked without loading the model), and keyword always works.
    """
    module = importlib.import_module("paperlens.rank.search")
    probe = getattr(module, "available_modes", None)
    if probe is None:
        return MODES if semantic_ready(services) else ("keyword",)
    try:
        return tuple(m for m in probe(services) if m in MODES) or ("keyword",)
    except Exception:  # a model that cannot load means keyword only, not a broken page
        return ("keyword",)


@dataclass(slots=True)
class SearchForm:
    q: str = ""
    mode: str = "keyword"
    cat: str = ""
    org: str = ""
    year_from: int | None = None
    year_to: int | None = None
    page: int = 1
    default_mode: str = "keyword"

    def full_query(self) -> str:
        parts = [self.q.strip()]
        for name, value in (("cat", self.cat), ("org", self.org)):
            value = value.strip().replace('"', "")
            if value:
                parts.append(f'{name}:"{value}"' if " " in value else f"{name}:{value}")
        if self.year_from or self.year_to:
            parts.append(f"year:{self.year_from or ''}..{self.year_to or ''}")
        return " ".join(p for p in parts if p)

    def params(self) -> dict[str, Any]:
        return {
            "q": self.q,
            "mode": self.mode if self.mode != self.default_mode else None,
            "cat": self.cat,
            "org": self.org,
            "from": self.year_from,
            "to": self.year_to,
        }


@dataclass(slots=True)
class SearchView:
    form: SearchForm
    results: list[SearchResult] = field(default_factory=list)
    total: int = 0
    offset: int = 0
    counts: dict[int, Upvotes] = field(default_factory=dict)
    keys: dict[str, int] = field(default_factory=dict)
    error: str | None = None


def run_search(
    services: Services, form: SearchForm, *, user_id: int | None, per_page: int = PER_PAGE
) -> SearchView:
    """Search with the form's filters; an unusable query becomes a message, not an error page."""
    view = SearchView(form, offset=(form.page - 1) * per_page)
    query = form.full_query()
    if not query:
        return view
    mode = form.mode if form.mode in available_modes(services) else "keyword"
    try:
        page = search(services, query, mode=cast(Mode, mode), limit=per_page, offset=view.offset)
        view.total, view.results = page.total, page.results
    except InvalidQuery as exc:
        view.error = str(exc)
        return view
    view.keys = {r.paper.id: r.key for r in view.results}
    view.counts = upvotes(services, list(view.keys.values()), user_id=user_id)
    return view


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    services: ServicesDep,
    user: CurrentUser,
    q: Annotated[str, Query(max_length=1000, description="Search text and filters.")] = "",
    mode: Annotated[str, Query(pattern="^(keyword|semantic|hybrid|)$")] = "",
    cat: Annotated[str, Query(max_length=100)] = "",
    org: Annotated[str, Query(max_length=200)] = "",
    year_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    year_to: Annotated[str, Query(alias="to", max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=500)] = 1,
) -> HTMLResponse:
    # Years arrive as text: a browser sends an empty field as "from=", not as nothing.
    years: list[int | None] = []
    problems: list[str] = []
    for label, text in (("From year", year_from), ("To year", year_to)):
        text = text.strip()
        if not text:
            years.append(None)
        elif text.isdigit() and 1900 <= int(text) <= 2100:
            years.append(int(text))
        else:
            years.append(None)
            problems.append(f"{label} must be a year between 1900 and 2100, not {text!r}.")
    modes = available_modes(services)
    default = str(getattr(services.settings, "search_mode", "keyword"))
    default = default if default in modes else "keyword"
    form = SearchForm(q, mode or default, cat, org, years[0], years[1], page, default)
    if problems:
        view = SearchView(form, error=" ".join(problems))
    else:
        view = run_search(services, form, user_id=user.id if user else None)
    feed_q = form.full_query()
    feeds = []
    if feed_q:
        from urllib.parse import quote

        feeds = [
            (
                "application/atom+xml",
                f"Search: {feed_q} (Atom)",
                f"/feeds/search.atom?q={quote(feed_q)}",
            ),
            (
                "application/feed+json",
                f"Search: {feed_q} (JSON Feed)",
                f"/feeds/search.json?q={quote(feed_q)}",
            ),
        ]
    context = {
        "view": view,
        "form": form,
        "modes": modes,
        "mode_labels": MODE_LABELS,
        "per_page": PER_PAGE,
        "title": f"{form.q} · Search" if form.q else "Search",
        "feeds": feeds,
        "public_page": True,
    }
    if is_htmx(request) and request.headers.get("hx-target") == "results":
        # The permalink without the empty fields the form also sends.
        permalink = "/search" + query_string(form.params(), page=page if page > 1 else None)
        return render(request, "_search_results.html", context, headers={"HX-Push-Url": permalink})
    return render(request, "search.html", context)
