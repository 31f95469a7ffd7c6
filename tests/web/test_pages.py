"""Pages on a real store: trending windows, search, paper, people, errors, escaping, headers."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from web_support import XSS_ABSTRACT, XSS_TITLE, sign_up

from paperlens.services import Services


def test_home_shows_the_latest_day_ranked_with_why(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    html = r.text
    assert "<h1>Trending papers</h1>" in html
    assert "No papers for today yet" in html  # the clock is Apr 10, papers are on Apr 9
    first, second = html.index("Paper 1 on diffusion"), html.index("Paper 2 on diffusion")
    assert first < second  # 30 upvotes before 10
    assert "Why it&#39;s here" in html or "Why it's here" in html
    assert 'rel="alternate" type="application/atom+xml"' in html
    assert 'href="/feeds/trending/daily.atom"' in html
    assert 'aria-current="page">Daily' in html
    # A quiet day is topped up with the best recent papers, in their own section.
    assert "Also worth reading" in html and "An older paper" in html


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("/papers/date/2025-04-09", "Wednesday, April 9, 2025"),
        ("/papers/week/2025-W15", "Week 15, 2025"),
        ("/papers/month/2025-04", "April 2025"),
        ("/papers/month/2024-01", "January 2024"),
    ],
)
def test_windows(client: TestClient, path: str, label: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert label in r.text


def test_window_navigation_skips_empty_days(client: TestClient) -> None:
    html = client.get("/papers/date/2025-04-09").text
    assert 'rel="prev" href="/papers/date/2024-01-05"' in html
    assert client.get("/papers/date/2025-04-10").status_code == 200  # empty day renders
    assert "No papers in this window" in client.get("/papers/date/2025-04-10").text


@pytest.mark.parametrize(
    "path",
    ["/papers/date/2025-13-01", "/papers/date/yesterday", "/papers/week/2025-W60",
     "/papers/month/2025-00", "/papers/date?d=nope"],
)  # fmt: skip
def test_bad_dates_are_400_with_a_message(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 400
    assert "use YYYY" in r.text


def test_date_picker_redirects(client: TestClient) -> None:
    r = client.get("/papers/date?d=2025-04-09", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/papers/date/2025-04-09"


@pytest.mark.parametrize("page", ["0", "-1", "x"])
def test_bad_page_is_422(client: TestClient, page: str) -> None:
    r = client.get(f"/?page={page}")
    assert r.status_code == 422
    assert "page" in r.text


def test_paper_page(client: TestClient) -> None:
    r = client.get("/papers/2504.00001")
    assert r.status_code == 200
    html = r.text
    assert "<h1" in html and "Paper 1 on diffusion models" in html
    assert 'href="/authors/Ada%20Lovelace"' in html
    assert 'href="/orgs/example-lab"' in html
    assert "Seen in" in html and "test data" in html
    assert "@misc{" in html  # BibTeX
    assert "Similar papers" in html and 'hx-get="/papers/pl_' in html
    assert 'rel="canonical" href="/papers/pl_' in html
    paper_id = html.split('hx-get="/papers/', 1)[1].split("/similar", 1)[0]
    fragment = client.get(f"/papers/{paper_id}/similar", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "Paper 2 on diffusion models" in fragment.text
    assert "Paper 1 on diffusion models" not in fragment.text  # never the paper itself
    page = client.get("/papers/2504.00001/similar")  # without JavaScript: a page of its own
    assert "<h1" in page.text and "Paper 2 on diffusion models" in page.text
    assert f'href="/papers/{paper_id}/similar"' in html  # the link without JavaScript
    bib = client.get("/papers/2504.00001/bibtex")
    assert bib.status_code == 200 and bib.text.startswith("@misc{")


def test_unknown_paper_is_a_404_page(client: TestClient) -> None:
    r = client.get("/papers/9999.99999")
    assert r.status_code == 404
    assert "No paper" in r.text and "<h1>Not Found</h1>" in r.text
    assert client.get("/no/such/page").status_code == 404


def test_search_page_and_htmx_fragment(client: TestClient) -> None:
    r = client.get("/search", params={"q": "diffusion", "cat": "cs.CV"})
    assert r.status_code == 200
    assert "<mark>diffusion</mark>" in r.text
    assert 'href="/feeds/search.atom?q=diffusion%20cat%3Acs.CV"' in r.text
    frag = client.get("/search", params={"q": "diffusion"},
                      headers={"HX-Request": "true", "HX-Target": "results"})  # fmt: skip
    assert frag.status_code == 200
    assert "<html" not in frag.text and "<mark>diffusion</mark>" in frag.text


def test_search_filters(client: TestClient) -> None:
    html = client.get("/search", params={"q": "pruning diffusion", "org": "other-org"}).text
    assert "Sparse networks for vision" in html and "Paper 1 on" not in html
    # an index filter, case and spacing ignored, and the same in the query text
    html = client.get("/search", params={"q": "diffusion", "org": " Example-LAB "}).text
    assert "Paper 1 on" in html and "Sparse networks for vision" not in html
    assert client.get("/search", params={"q": "diffusion org:example-lab"}).text.count(
        "data-card"
    ) == html.count("data-card")
    html = client.get("/search", params={"q": "diffusion", "org": "nobody"}).text
    assert "No papers match" in html
    html = client.get("/search", params={"q": "paper older", "from": 2024, "to": 2024}).text
    assert "An older paper" in html and "Paper 1 on" not in html


def test_empty_and_bad_year_fields(client: TestClient) -> None:
    r = client.get("/search?q=diffusion&cat=&org=&from=&to=")
    assert r.status_code == 200 and "<mark>diffusion</mark>" in r.text
    r = client.get("/search?q=diffusion&from=20x5")
    assert r.status_code == 200 and "must be a year" in r.text


def test_search_errors_are_messages_not_500s(client: TestClient) -> None:
    r = client.get("/search", params={"q": "year:abc"})
    assert r.status_code == 200 and "is not a year" in r.text
    assert client.get("/search", params={"q": "x" * 1001}).status_code == 422
    assert client.get("/search", params={"mode": "magic"}).status_code == 422
    for q in ['"', "(", "*", "OR", "a:b:c", "\x00", "-", "+"]:
        assert client.get("/search", params={"q": q}).status_code == 200, q


def test_people_pages(client: TestClient) -> None:
    r = client.get("/authors/Ada Lovelace")
    assert r.status_code == 200
    assert "Frequent co-authors" in r.text and "Alan Turing" in r.text
    assert client.get("/authors/Ada Lovelace?order=upvotes").status_code == 200
    assert client.get("/orgs/example-lab").status_code == 200
    assert client.get("/categories/cs.CV").status_code == 200
    assert client.get("/authors/Nobody Here").status_code == 404
    assert client.get("/categories/xx.YY").status_code == 404
    assert client.get("/authors/Ada Lovelace?order=best").status_code == 422


def test_about_trending(client: TestClient) -> None:
    html = client.get("/about/trending").text
    assert "How trending works" in html and "Velocity" in html


_ALL_PAGES = [
    "/",
    "/papers/date/2025-04-09",
    "/papers/2504.00004",
    "/search?q=diffusion",
    "/search?q=alert",
    "/authors/%3Cb%3EMallory%3C%2Fb%3E",
    "/orgs/%3Ci%3Eevil-org%3C%2Fi%3E",
    "/categories/cs.CV",
]


@pytest.mark.parametrize("path", _ALL_PAGES)
def test_hostile_text_is_escaped_everywhere(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200, path
    html = r.text
    assert "<script>alert" not in html and "<script>x()" not in html
    assert "<img src=x" not in html and "<b>Mallory" not in html and "<i>evil" not in html
    assert 'href="javascript:' not in html
    if "Bold" in html:
        assert "&lt;script&gt;alert(" in html


def test_hostile_search_text_is_escaped(client: TestClient) -> None:
    q = '"><script>alert(9)</script>'
    html = client.get("/search", params={"q": q}).text
    assert "<script>alert(9)" not in html
    assert "&lt;script&gt;alert(9)" in html


def test_xss_fixture_is_what_we_think(site: Services) -> None:
    paper = site.store.paper("2504.00004")
    assert paper is not None and paper.title == XSS_TITLE and paper.abstract == XSS_ABSTRACT


def test_security_headers_and_static_caching(client: TestClient) -> None:
    r = client.get("/")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    cookie = r.headers["set-cookie"]
    assert "pl_csrf=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    css = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]+)"', r.text)
    assert css
    s = client.get(css.group(1))
    assert s.status_code == 200 and "immutable" in s.headers["cache-control"]
    for path in re.findall(r'(?:src|href)="(/static/[^"?]+)', r.text):
        assert client.get(path).status_code == 200, path


def test_no_traceback_on_unexpected_error(app, site: Services) -> None:  # type: ignore[no-untyped-def]
    site.store.conn.execute("DROP TABLE list_items")  # type: ignore[attr-defined]
    site.store.conn.execute("DROP TABLE lists")  # type: ignore[attr-defined]
    with TestClient(app, raise_server_exceptions=False) as c:
        sign_up(c)
        r = c.get("/account")
    assert r.status_code == 500
    assert "Traceback" not in r.text and "went wrong" in r.text


def test_anonymous_pages_are_cached_briefly_and_carry_no_token(app, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/papers/2504.00001")
    assert 'name="csrf-token"' not in first.text and 'href="/login?next=/papers/' in first.text
    assert "x-page-cache" not in first.headers
    site = app.state.web.services
    site.store.conn.execute("UPDATE papers SET title='Changed' WHERE arxiv_id='2504.00001'")
    assert "Paper 1 on diffusion" in client.get("/papers/2504.00001").text  # served from cache
    sign_up(client, "cache_reader")
    assert "Changed" in client.get("/papers/2504.00001").text  # signed in: always fresh
