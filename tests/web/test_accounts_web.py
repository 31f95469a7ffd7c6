"""Accounts through the site: sign-up/in/out, cookies, CSRF on every POST, votes, lists, submit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from web_support import csrf_of, sign_up

from paperlens.services import Services
from paperlens.web.app import create_app


def test_sign_up_sets_a_secure_session_and_rotates_csrf(client: TestClient) -> None:
    before = csrf_of(client, "/signup")
    r = client.post("/signup", data={"username": "ada_l", "password": "correct horse",
                                     "csrf_token": before, "next": "/lists"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/lists"
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("pl_session="))
    assert "HttpOnly" in session and "samesite=lax" in session.lower()
    assert any(c.startswith("pl_csrf=") for c in cookies)  # a new seed after sign-in
    after = csrf_of(client)
    assert after != before
    assert "ada_l" in client.get("/").text


def test_secure_flag_when_configured(site: Services) -> None:
    with TestClient(create_app(site, cookie_secure="true")) as c:
        token = csrf_of(c, "/signup")
        r = c.post("/signup", data={"username": "sec_user", "password": "correct horse",
                                    "csrf_token": token}, follow_redirects=False)  # fmt: skip
        assert all("Secure" in h for h in r.headers.get_list("set-cookie"))


def test_sign_in_errors_are_the_same_and_rate_limited(client: TestClient) -> None:
    sign_up(client, "grace")
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    token = csrf_of(client, "/login")
    wrong = client.post("/login", data={"username": "grace", "password": "bad password",
                                        "csrf_token": token})  # fmt: skip
    unknown = client.post("/login", data={"username": "nobody", "password": "bad password",
                                          "csrf_token": token})  # fmt: skip
    assert wrong.status_code == unknown.status_code == 400
    assert "Incorrect username or password." in wrong.text
    assert "Incorrect username or password." in unknown.text
    for _ in range(4):
        client.post("/login", data={"username": "grace", "password": "x" * 9, "csrf_token": token})
    limited = client.post("/login", data={"username": "grace", "password": "correct horse",
                                          "csrf_token": token})  # fmt: skip
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert "Too many failed sign-ins" in limited.text


def test_sign_in_and_out(client: TestClient) -> None:
    sign_up(client, "grace")
    out = client.post("/logout", data={"csrf_token": csrf_of(client)}, follow_redirects=False)
    assert out.status_code == 303
    assert "Sign in" in client.get("/").text
    token = csrf_of(client, "/login")
    r = client.post("/login", data={"username": "GRACE", "password": "correct horse",
                                    "csrf_token": token, "next": "//evil.example/x"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/"  # no open redirect
    assert client.get("/account").status_code == 200


def test_signup_errors(client: TestClient) -> None:
    sign_up(client, "taken")
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    token = csrf_of(client, "/signup")
    r = client.post("/signup", data={"username": "TAKEN", "password": "correct horse",
                                     "csrf_token": token})  # fmt: skip
    assert r.status_code == 409 and "is taken" in r.text
    r = client.post("/signup", data={"username": "<script>", "password": "correct horse",
                                     "csrf_token": token})  # fmt: skip
    assert r.status_code == 400 and "<script>" not in r.text.split("<main")[1].split("</main>")[0]


def _routes(routes):  # type: ignore[no-untyped-def]
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI >= 0.165 wraps included routers
        yield from _routes(inner.routes) if inner is not None else [route]


def _post_routes(app) -> list[str]:  # type: ignore[no-untyped-def]
    paths = []
    for route in _routes(app.routes):
        # The digest pages keep their own rules (RFC 8058 one-click unsubscribe is a
        # POST from a mail client, with a signed token instead of a CSRF token).
        if "POST" in getattr(route, "methods", set()) and not route.path.startswith("/digest"):
            paths.append(route.path.replace("{ref:path}", "2504.00001").replace("{slug}", "zzz"))
    return paths


def test_every_post_needs_a_csrf_token(app, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    client, token = client, sign_up(client)
    paths = _post_routes(app)
    assert len(paths) >= 10
    for path in paths:
        r = client.post(path, data={"name": "x", "on": "true"}, follow_redirects=False)
        assert r.status_code == 403, path
        assert "csrf" in r.text.lower() or "expired" in r.text, path
        r = client.post(path, data={"csrf_token": "0" * 64}, follow_redirects=False)
        assert r.status_code == 403, path
        r = client.post(path, data={"csrf_token": token}, follow_redirects=False,
                        headers={"Origin": "https://evil.example"})  # fmt: skip
        assert r.status_code == 403, path


def test_vote_needs_sign_in(client: TestClient) -> None:
    token = csrf_of(client, "/login")
    r = client.post("/papers/2504.00002/vote", data={"csrf_token": token, "on": "true"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    r = client.post("/papers/2504.00002/vote", headers={"X-CSRF-Token": token,
                    "HX-Request": "true"}, data={"on": "true"})  # fmt: skip
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("/login")


def test_vote_counts_once_and_withdraws(signed_in: tuple[TestClient, str]) -> None:
    client, token = signed_in
    hx = {"HX-Request": "true", "X-CSRF-Token": token}
    r = client.post("/papers/2504.00002/vote", data={"on": "true"}, headers=hx)
    assert r.status_code == 200 and "<html" not in r.text
    assert 'class="vote-count">11<' in r.text and 'aria-pressed="true"' in r.text
    r = client.post("/papers/2504.00002/vote", data={"on": "true"}, headers=hx)
    assert 'class="vote-count">11<' in r.text
    api = client.get("/api/v1/papers/2504.00002").json()
    assert api["upvotes"] == 11
    r = client.post("/papers/2504.00002/vote", data={"on": "false"}, headers=hx)
    assert 'class="vote-count">10<' in r.text and 'aria-pressed="false"' in r.text
    # Without JavaScript: a plain form post redirects back.
    r = client.post("/papers/2504.00002/vote", data={"on": "true", "csrf_token": token},
                    headers={"Referer": "http://testserver/search?q=x"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/search?q=x"


def test_reading_lists(signed_in: tuple[TestClient, str], app) -> None:  # type: ignore[no-untyped-def]
    client, token = signed_in
    r = client.post("/papers/2504.00004/lists", data={"csrf_token": token,
                    "new_list": "To <b>read</b>"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    listing = client.get("/lists").text
    assert "To &lt;b&gt;read&lt;/b&gt;" in listing
    slug = listing.split('href="/lists/')[1].split('"')[0]
    client.post("/papers/2504.00001/lists", data={"csrf_token": token, "slug": slug})
    page = client.get(f"/lists/{slug}").text
    assert "Paper 1 on diffusion" in page and "&lt;script&gt;alert" in page
    note = "<script>alert('n')</script> check §3"
    r = client.post(f"/lists/{slug}/items/2504.00001", data={"csrf_token": token,
                    "action": "note", "note": note}, headers={"HX-Request": "true"})  # fmt: skip
    assert r.status_code == 200 and "&lt;script&gt;alert(&#39;n&#39;)" in r.text
    client.post(f"/lists/{slug}/items/2504.00001", data={"csrf_token": token, "action": "read"})
    assert 'class="is-read"' in client.get(f"/lists/{slug}").text
    bib = client.get(f"/lists/{slug}/export.bib")
    assert bib.status_code == 200 and bib.text.count("@misc{") == 2
    assert "attachment" in bib.headers["content-disposition"]
    csl = client.get(f"/lists/{slug}/export.json")
    assert csl.status_code == 200 and len(csl.json()) == 2
    # Private: invisible to others, feeds refused.
    with TestClient(app) as other:
        assert other.get(f"/lists/{slug}").status_code == 404
        assert other.get(f"/lists/{slug}/export.bib").status_code == 404
        assert other.get(f"/feeds/list/{slug}.atom").status_code == 404
        assert other.get(f"/api/v1/lists/{slug}").status_code == 404
    client.post(f"/lists/{slug}/edit", data={"csrf_token": token, "name": "Public one",
                                              "public": "true"})  # fmt: skip
    with TestClient(app) as other:
        assert "Public one" in other.get(f"/lists/{slug}").text
        assert other.get(f"/feeds/list/{slug}.atom").status_code == 200
        assert (
            other.post(
                f"/lists/{slug}/delete",
                data={"csrf_token": csrf_of(other, "/login")},
                follow_redirects=False,
            ).status_code
            == 303
        )  # fmt: skip (to login)
    client.post(f"/lists/{slug}/items/2504.00001", data={"csrf_token": token, "action": "remove"})
    assert "Paper 1 on diffusion" not in client.get(f"/lists/{slug}").text
    client.post(f"/lists/{slug}/delete", data={"csrf_token": token})
    assert client.get(f"/lists/{slug}").status_code == 404


def test_not_interested_hides_from_my_trending(signed_in: tuple[TestClient, str]) -> None:
    client, token = signed_in
    assert "Paper 2 on diffusion" in client.get("/papers/date/2025-04-09").text
    client.post("/papers/2504.00002/not-interested", data={"csrf_token": token, "on": "true"})
    assert "Paper 2 on diffusion" not in client.get("/papers/date/2025-04-09").text
    client.post("/papers/2504.00002/not-interested", data={"csrf_token": token, "on": "false"})
    assert "Paper 2 on diffusion" in client.get("/papers/date/2025-04-09").text


def test_submit(signed_in: tuple[TestClient, str]) -> None:
    client, token = signed_in
    r = client.post("/submit", data={"csrf_token": token, "ref": "https://arxiv.org/abs/2401.01234v2"},
                    follow_redirects=True)  # fmt: skip
    assert r.status_code == 200 and "Queued" in r.text and "arXiv:2401.01234" in r.text
    assert "queued" in client.get("/account").text
    r = client.post("/submit", data={"csrf_token": token, "ref": "<b>nonsense</b>"})
    assert r.status_code == 400 and "is not an arXiv id" in r.text and "<b>nonsense" not in r.text
    r = client.post("/submit", data={"csrf_token": token, "ref": "2504.00003"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].startswith("/papers/pl_")


@pytest.mark.parametrize("path", ["/account", "/lists", "/submit"])
def test_pages_that_need_sign_in_redirect(client: TestClient, path: str) -> None:
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}"
