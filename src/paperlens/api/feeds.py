"""Atom and JSON Feed for everything a person might follow.

Trending (each window), a search, an author, an organisation, a category and
a public reading list, each as ``.atom`` (RFC 4287) and ``.json`` (JSON Feed
1.1). Atom is written with ElementTree, which escapes every text and
attribute; characters XML 1.0 forbids (control characters a crafted input
might carry) are removed first, so the feed always parses.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from paperlens.accounts import lists as reading_lists
from paperlens.errors import NotFound
from paperlens.model import Paper
from paperlens.rank.listings import Kind, listing
from paperlens.rank.search import search
from paperlens.store.trending import TrendingQueries
from paperlens.web.deps import ServicesDep
from paperlens.web.trending_cache import trending_slice

router = APIRouter(prefix="/feeds", tags=["feeds"])
FEED_SIZE = 30
ATOM = "http://www.w3.org/2005/Atom"
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
Format = Literal["atom", "json"]


@dataclass(slots=True)
class Feed:
    title: str
    page_path: str
    """The HTML page this feed follows."""
    papers: list[Paper]


def _clean(text: str | None) -> str:
    return _XML_INVALID.sub("", text or "")


def _when(paper: Paper) -> datetime:
    day = paper.featured or paper.published or paper.updated or date(1970, 1, 1)
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def atom(feed: Feed, *, base: str, self_path: str) -> bytes:
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: _clean(v) for k, v in attrs.items()})
        if text is not None:
            el.text = _clean(text)
        return el

    updated = max((_when(p) for p in feed.papers), default=datetime(1970, 1, 1, tzinfo=UTC))
    sub(root, "id", base + self_path)
    sub(root, "title", feed.title)
    sub(root, "updated", updated.isoformat())
    sub(root, "link", rel="self", href=base + self_path, type="application/atom+xml")
    sub(root, "link", rel="alternate", href=base + feed.page_path, type="text/html")
    sub(root, "generator", "paperlens")
    for paper in feed.papers:
        entry = sub(root, "entry")
        url = f"{base}/papers/{paper.id}"
        sub(entry, "id", url)
        sub(entry, "title", paper.title or paper.id)
        sub(entry, "link", rel="alternate", href=url, type="text/html")
        sub(entry, "updated", _when(paper).isoformat())
        if paper.published:
            sub(entry, "published", _when(paper).isoformat())
        for name in paper.authors or ["Unknown"]:
            sub(sub(entry, "author"), "name", name)
        for cat in paper.categories:
            sub(entry, "category", term=cat)
        if paper.abstract:
            sub(entry, "summary", paper.abstract, type="text")
    body: bytes = ET.tostring(root, encoding="utf-8")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def json_feed(feed: Feed, *, base: str, self_path: str) -> bytes:
    items = []
    for paper in feed.papers:
        url = f"{base}/papers/{paper.id}"
        item: dict[str, object] = {
            "id": url,
            "url": url,
            "title": paper.title or paper.id,
            "date_published": _when(paper).isoformat(),
            "authors": [{"name": n} for n in paper.authors],
            "tags": paper.categories,
        }
        if paper.abstract:
            item["content_text"] = paper.abstract
        items.append(item)
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "home_page_url": base + feed.page_path,
        "feed_url": base + self_path,
        "items": items,
    }
    return json.dumps(doc, ensure_ascii=False, indent=1).encode()


def _respond(request: Request, feed: Feed, fmt: Format) -> Response:
    base = str(request.base_url).rstrip("/")
    self_path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if fmt == "atom":
        body = atom(feed, base=base, self_path=self_path)
        media = "application/atom+xml; charset=utf-8"
    else:
        body = json_feed(feed, base=base, self_path=self_path)
        media = "application/feed+json; charset=utf-8"
    return Response(body, media_type=media, headers={"Cache-Control": "public, max-age=300"})


@router.get("/trending/{window}.{fmt}", summary="Trending papers as a feed")
def trending_feed(
    request: Request,
    services: ServicesDep,
    window: Literal["daily", "weekly", "monthly"],
    fmt: Format,
) -> Response:
    today = services.clock().date()
    day = TrendingQueries(services.store).latest_day(on_or_before=today) or today
    items, _ = trending_slice(request.app.state.trending, window, day, limit=FEED_SIZE)
    feed = Feed(f"paperlens: trending ({window})", "/", [i.paper for i in items])
    return _respond(request, feed, fmt)


@router.get("/search.{fmt}", summary="Search results as a feed")
def search_feed(
    request: Request,
    services: ServicesDep,
    fmt: Format,
    q: Annotated[str, Query(min_length=1, max_length=1000)],
) -> Response:
    page = search(services, q, limit=FEED_SIZE)
    from urllib.parse import quote

    feed = Feed(f"paperlens: {q}", f"/search?q={quote(q)}", [r.paper for r in page.results])
    return _respond(request, feed, fmt)


_KIND_PATH: dict[str, tuple[Kind, str]] = {
    "author": ("author", "/authors/"),
    "org": ("org", "/orgs/"),
    "category": ("category", "/categories/"),
}


@router.get("/{kind}.{fmt}", summary="An author's, organisation's or category's papers")
def listing_feed(
    request: Request,
    services: ServicesDep,
    kind: Literal["author", "org", "category"],
    fmt: Format,
    name: Annotated[str, Query(min_length=1, max_length=300)],
) -> Response:
    from urllib.parse import quote

    what, path = _KIND_PATH[kind]
    result = listing(services, what, name.strip(), limit=FEED_SIZE, with_context=False)
    feed = Feed(
        f"paperlens: {name.strip()}",
        path + quote(name.strip(), safe=""),
        [p for _, p in result.papers],
    )
    return _respond(request, feed, fmt)


@router.get("/list/{slug}.{fmt}", summary="A public reading list as a feed")
def list_feed(request: Request, services: ServicesDep, slug: str, fmt: Format) -> Response:
    row = reading_lists.get_list(services, slug, viewer=None)
    if not row.public:  # get_list already refuses; kept explicit for feeds
        raise NotFound(f"No reading list {slug!r}.")
    papers: Sequence[Paper] = [
        e.paper for e in reading_lists.entries(services, row, limit=FEED_SIZE)
    ]
    return _respond(
        request, Feed(f"paperlens list: {row.name}", f"/lists/{slug}", list(papers)), fmt
    )
