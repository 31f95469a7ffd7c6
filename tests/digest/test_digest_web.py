"""The digest pages in the running app, and every link of a received mail opened in it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from digest_support import (
    SmtpServer,
    active_subscriber,
    html_part,
    links_in,
    text_part,
)
from fastapi import FastAPI
from fastapi.testclient import TestClient

from paperlens.digest import prefs
from paperlens.digest.env import DigestEnv
from paperlens.digest.run import run
from paperlens.model import Record
from paperlens.services import Services
from paperlens.web.app import create_app
from paperlens.web.pages import digest as digest_pages

_CSRF_RE = re.compile(r'<meta name="csrf-token" content="([0-9a-f]{64})">')


@pytest.fixture
def app(services: Services, env: DigestEnv) -> FastAPI:
    app = create_app(services)
    if not any(getattr(r, "path", "") == "/digest" for r in app.routes):
        app.include_router(digest_pages.router)  # until the app factory lists it
    app.state.digest_env = env
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def _csrf(client: TestClient, path: str) -> str:
    match = _CSRF_RE.search(client.get(path).text)
    assert match, f"{path} has no csrf token"
    return match.group(1)


def _local(url: str) -> str:
    parts = urlparse(url)
    assert parts.netloc == "testserver", url
    return parts.path + ("?" + parts.query if parts.query else "")


def _subscribe(client: TestClient, email: str) -> str:
    token = _csrf(client, "/digest")
    r = client.post(
        "/digest/subscribe", data={"email": email, "cadence": "daily", "csrf_token": token}
    )
    assert r.status_code == 200, r.text
    return r.text


def _answer(html: str) -> str:
    return re.sub(r'content="[0-9a-f]{64}"', "", html)


def test_subscribe_confirm_and_the_links_open(
    client: TestClient, env: DigestEnv, papers: list[Record], smtp_server: SmtpServer
) -> None:
    page = _subscribe(client, "web.reader@example.org")
    assert "Check your inbox" in page
    (confirmation,) = smtp_server.wait_for(1)
    (link,) = [u for u in links_in(text_part(confirmation.message)) if "/digest/confirm" in u]
    opened = client.get(_local(link))
    assert opened.status_code == 200 and "Confirm subscription" in opened.text
    token = re.search(r'name="token" value="([^"]+)"', opened.text)
    assert token
    done = client.post("/digest/confirm", data={"token": token.group(1)})
    assert done.status_code == 200 and "You are subscribed" in done.text
    sub = env.db.subscription_by_email("web.reader@example.org")
    assert sub and sub.status == "active" and sub.cadence == "daily"

    run(env)
    digest = smtp_server.wait_for(2)[1].message
    links = set(links_in(text_part(digest))) | {
        u.replace("&amp;", "&") for u in links_in(html_part(digest))
    }
    paper_links = [u for u in links if "/papers/" in u]
    assert paper_links
    for url in sorted(links):
        r = client.get(_local(url))
        assert r.status_code == 200, (url, r.status_code)
    title = digest.get_body(preferencelist=("plain",)).get_content().splitlines()  # type: ignore[union-attr]
    first_paper = client.get(_local(paper_links[0])).text
    assert "<html" in first_paper and any(line.strip("* ") in first_paper for line in title[4:6])


def test_one_click_unsubscribe_without_cookies(
    app: FastAPI, env: DigestEnv, papers: list[Record], smtp_server: SmtpServer
) -> None:
    sub = active_subscriber(env)
    run(env)
    msg = smtp_server.messages[0].message
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = msg["List-Unsubscribe"].strip("<>")
    with TestClient(app, base_url="http://testserver") as fresh:  # no cookies, no CSRF token
        page = fresh.get(_local(url))
        assert page.status_code == 200 and "Stop sending digests" in page.text
        assert env.db.subscription(sub).status == "active"  # type: ignore[union-attr]
        r = fresh.post(
            _local(url),
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 200 and "Unsubscribed" in r.text
        assert env.db.subscription(sub).status == "unsubscribed"  # type: ignore[union-attr]
        again = fresh.post(
            _local(url),
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert again.status_code == 200


def test_bad_tokens_are_a_plain_400(client: TestClient, env: DigestEnv) -> None:
    sub = active_subscriber(env)
    other = env.tokens.unsubscribe(sub, "someone.else@example.org")
    for path in (
        "/digest/unsubscribe?token=garbage",
        f"/digest/unsubscribe?token={other}",
        "/digest/manage?token=garbage",
        "/digest/preview?token=garbage",
    ):
        r = client.get(path)
        assert r.status_code == 400 and "not valid" in r.text, path
    assert client.post("/digest/unsubscribe?token=x").status_code == 400
    assert client.post("/digest/confirm", data={"token": "x"}).status_code == 400
    assert env.db.subscription(sub).status == "active"  # type: ignore[union-attr]


def test_subscribe_answers_the_same_for_known_and_unknown_addresses(
    client: TestClient, env: DigestEnv, smtp_server: SmtpServer
) -> None:
    active_subscriber(env, "known@example.org")
    known = _subscribe(client, "known@example.org")
    unknown = _subscribe(client, "unknown@example.org")
    repeat = _subscribe(client, "unknown@example.org")
    assert _answer(known) == _answer(unknown) == _answer(repeat)
    smtp_server.wait_for(1)
    assert [m.rcpt_tos for m in smtp_server.messages] == [["unknown@example.org"]]


def test_subscribe_refuses_header_injection_and_needs_csrf(
    client: TestClient, env: DigestEnv
) -> None:
    token = _csrf(client, "/digest")
    r = client.post(
        "/digest/subscribe",
        data={"email": "x@example.org\r\nBcc: all@example.org", "csrf_token": token},
    )
    assert r.status_code == 400 and "line breaks" in r.text
    r = client.post("/digest/subscribe", data={"email": "y@example.org"})
    assert r.status_code == 403
    assert env.db.subscriptions() == []


def test_manage_link_changes_settings_follows_and_searches(
    client: TestClient, env: DigestEnv, papers: list[Record]
) -> None:
    sub = active_subscriber(env)
    subscription = env.db.subscription(sub)
    assert subscription
    url = _local(env.renderer.links.manage(subscription))
    assert client.get(url).status_code == 200
    r = client.post(
        url,
        data={
            "action": "save",
            "cadence": "daily",
            "send_hour": "9",
            "weekday": "2",
            "timezone": "Europe/Paris",
            "trending_window": "daily",
            "trending_count": "3",
            "personal_count": "5",
            "include_trending": "on",
        },
    )
    assert r.status_code == 200 and "Settings saved" in r.text
    after = env.db.subscription(sub)
    assert after and (after.cadence, after.send_hour, after.timezone) == (
        "daily",
        9,
        "Europe/Paris",
    )
    assert (after.include_trending, after.include_follows) == (True, False)
    assert (
        client.post(
            url, data={"action": "follow", "kind": "author", "value": "Jane Doe"}
        ).status_code
        == 200
    )
    assert (
        client.post(url, data={"action": "search", "query": "diffusion distillation"}).status_code
        == 200
    )
    assert [f.value for f in env.db.follows(sub)] == ["Jane Doe"]
    assert [s.query for s in env.db.saved_searches(sub)] == ["diffusion distillation"]
    bad = client.post(url, data={"action": "save", "timezone": "Mars/Base"})
    assert bad.status_code == 400 and "timezone" in bad.text
    page = client.get(url).text
    assert "Jane Doe" in page and "diffusion distillation" in page


def test_preview_shows_the_next_digest_and_writes_nothing(
    client: TestClient, env: DigestEnv, papers: list[Record], smtp_server: SmtpServer
) -> None:
    sub = active_subscriber(env)
    prefs.follow(env, sub, "author", "Jane Doe")
    subscription = env.db.subscription(sub)
    assert subscription
    token = env.tokens.manage(sub, subscription.email)
    r = client.get(f"/digest/preview?token={token}")
    assert r.status_code == 200
    assert "Diffusion Distillation for Fast Image Synthesis" in r.text
    assert "you follow Jane Doe" in r.text and "<script" not in r.text.lower()
    assert env.db.outbox_counts() == {} and smtp_server.messages == []


def test_signed_in_settings_and_preview(
    client: TestClient, env: DigestEnv, papers: list[Record], smtp_server: SmtpServer
) -> None:
    token = _csrf(client, "/signup")
    r = client.post(
        "/signup",
        data={
            "username": "digestuser",
            "password": "correct horse",
            "csrf_token": token,
            "next": "/",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert client.get("/digest/settings", follow_redirects=False).status_code == 303
    _subscribe(client, "member@example.org")
    (confirmation,) = smtp_server.wait_for(1)
    (link,) = [u for u in links_in(text_part(confirmation.message)) if "/digest/confirm" in u]
    opened = client.get(_local(link)).text
    value = re.search(r'name="token" value="([^"]+)"', opened)
    assert value
    client.post("/digest/confirm", data={"token": value.group(1)})
    sub = env.db.subscription_by_email("member@example.org")
    assert sub and sub.user_id is not None and sub.status == "active"
    page = client.get("/digest/settings")
    assert page.status_code == 200 and "member@example.org" in page.text
    csrf = _csrf(client, "/digest/settings")
    r = client.post(
        "/digest/settings",
        data={"action": "follow", "kind": "org", "value": "DeepMind", "csrf_token": csrf},
    )
    assert r.status_code == 200 and "Following DeepMind" in r.text
    r = client.post("/digest/settings", data={"action": "follow", "kind": "org", "value": "X"})
    assert r.status_code == 403  # no CSRF token
    preview = client.get("/digest/preview")
    assert preview.status_code == 200 and "you follow DeepMind" in preview.text


def test_settings_need_a_signed_in_user(client: TestClient) -> None:
    r = client.get("/digest/settings", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
