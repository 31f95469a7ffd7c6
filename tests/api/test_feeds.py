"""Atom and JSON Feed: valid (feedparser reads them), escaped, advertised on their pages."""

from __future__ import annotations

import feedparser
import pytest
from fastapi.testclient import TestClient
from web_support import XSS_TITLE, csrf_of, sign_up

FEEDS = [
    "/feeds/trending/daily",
    "/feeds/trending/weekly",
    "/feeds/trending/monthly",
    "/feeds/search.{fmt}?q=diffusion",
    "/feeds/author.{fmt}?name=Ada%20Lovelace",
    "/feeds/org.{fmt}?name=example-lab",
    "/feeds/category.{fmt}?name=cs.CV",
]


def _url(feed: str, fmt: str) -> str:
    return feed.replace("{fmt}", fmt) if "{fmt}" in feed else f"{feed}.{fmt}"


@pytest.mark.parametrize("feed", FEEDS)
def test_atom_parses(client: TestClient, feed: str) -> None:
    r = client.get(_url(feed, "atom"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(r.content)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == "atom10"
    assert parsed.entries and all(e.link.startswith("http://testserver/papers/pl_")
                                  for e in parsed.entries)  # fmt: skip


@pytest.mark.parametrize("feed", FEEDS)
def test_json_feed_parses(client: TestClient, feed: str) -> None:
    r = client.get(_url(feed, "json"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/feed+json")
    check_json_feed(r.json())


def check_json_feed(doc: dict) -> None:  # type: ignore[type-arg]
    """The JSON Feed 1.1 rules (feedparser 6.0 reads only XML feeds): required keys and types."""
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(doc["title"], str) and doc["title"]
    assert doc["feed_url"].startswith("http://testserver/")
    assert doc["items"]
    for item in doc["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert item["url"].startswith("http://testserver/papers/pl_")
        assert isinstance(item["title"], str)
        assert all(isinstance(a["name"], str) for a in item["authors"])
        assert "T" in item["date_published"]  # RFC 3339


def test_hostile_titles_are_text_in_feeds(client: TestClient) -> None:
    raw = client.get("/feeds/search.atom?q=alert").content
    assert b"<script>" not in raw and b"&lt;script&gt;" in raw
    parsed = feedparser.parse(raw)
    entry = next(e for e in parsed.entries if "Bold" in e.title)
    assert entry.title == XSS_TITLE
    data = client.get("/feeds/search.json?q=alert").json()
    assert data["items"][0]["title"] == XSS_TITLE


def test_control_characters_do_not_break_atom(client: TestClient, site) -> None:  # type: ignore[no-untyped-def]
    site.store.conn.execute(  # a crafted title with XML-illegal characters
        "UPDATE papers SET title=? WHERE arxiv_id='2504.00003'", ("Bad \x01\x0b title",)
    )
    parsed = feedparser.parse(client.get("/feeds/category.atom?name=cs.LG").content)
    assert not parsed.bozo and parsed.entries[0].title == "Bad  title"


def test_feeds_are_advertised(client: TestClient) -> None:
    for page, feed in [("/", "/feeds/trending/daily.atom"),
                       ("/papers/week/2025-W15", "/feeds/trending/weekly.atom"),
                       ("/authors/Ada Lovelace", "/feeds/author.atom?name=Ada%20Lovelace"),
                       ("/orgs/example-lab", "/feeds/org.atom?name=example-lab")]:  # fmt: skip
        html = client.get(page).text
        assert '<link rel="alternate" type="application/atom+xml"' in html
        assert f'href="{feed}"' in html, (page, feed)


def test_public_list_feed(client: TestClient) -> None:
    token = sign_up(client)
    client.post("/lists", data={"csrf_token": token, "name": "Mine", "public": "true"})
    slug = client.get("/lists").text.split('href="/lists/')[1].split('"')[0]
    client.post("/papers/2504.00001/lists", data={"csrf_token": csrf_of(client), "slug": slug})
    assert f'href="/feeds/list/{slug}.atom"' in client.get(f"/lists/{slug}").text
    parsed = feedparser.parse(client.get(f"/feeds/list/{slug}.atom").content)
    assert [e.title for e in parsed.entries] == ["Paper 1 on diffusion models"]


@pytest.mark.parametrize(
    "path",
    ["/feeds/search.atom", "/feeds/search.xml?q=x", "/feeds/trending/yearly.atom",
     "/feeds/author.atom?name=Nobody", "/feeds/list/nope.atom"],
)  # fmt: skip
def test_feed_errors(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code in (404, 422)
    assert r.json()["error"]["message"]
