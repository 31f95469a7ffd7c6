"""A real app on a real SQLite file: a handful of papers (one hostile), votes, a client.

``site`` is the app's services with the corpus; ``client`` a TestClient on
``create_app(site)``; ``signed_in`` a client with a fresh account. The web and
API conftests re-export these fixtures; tests import the helpers from here
(a uniquely named module: ``from conftest import`` breaks when several test
folders with a conftest run in one session).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from paperlens.config import Settings
from paperlens.ingest import IngestReport, apply_batch
from paperlens.model import Observation, Record
from paperlens.services import Services
from paperlens.web.app import create_app

NOW = datetime(2025, 4, 10, 12, tzinfo=UTC)
DAY = date(2025, 4, 9)
XSS_TITLE = '<script>alert("t")</script><b>Bold</b> & "quotes" $x^2$'
XSS_ABSTRACT = (
    "An <img src=x onerror=alert(1)> abstract about diffusion </textarea><script>x()</script>"
)
_CSRF_RE = re.compile(r'<meta name="csrf-token" content="([0-9a-f]{64})">')


def _record(n: int, **fields: object) -> Record:
    base: dict[str, object] = {
        "source": "test",
        "source_key": f"k{n}",
        "arxiv_id": f"2504.{n:05d}",
        "title": f"Paper {n} on diffusion models",
        "abstract": f"We study diffusion number {n} and video generation.",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "organisations": ["example-lab"],
        "categories": ["cs.CV"],
        "featured": DAY,
        "published": DAY,
        "links": ["https://github.com/example/repo"],
        "observed_at": NOW,
    }
    base.update(fields)
    return Record(**base)  # type: ignore[arg-type]


def build_corpus(services: Services) -> None:
    records = [
        _record(1, signals=[Observation("upvotes", 30, "hf-daily", NOW - timedelta(days=1)),
                            Observation("comments", 4, "hf-daily", NOW - timedelta(days=1))]),
        _record(2, signals=[Observation("upvotes", 10, "hf-daily", NOW - timedelta(days=1))]),
        _record(3, title="Sparse networks for vision", abstract="Pruning and masks.",
                authors=["Grace Hopper"], organisations=["other-org"], categories=["cs.LG"]),
        _record(4, title=XSS_TITLE, abstract=XSS_ABSTRACT, authors=["<b>Mallory</b>"],
                organisations=["<i>evil-org</i>"], links=["javascript:alert(1)"]),
        _record(5, title="An older paper", featured=None, published=date(2024, 1, 5)),
    ]  # fmt: skip
    with services.store.transaction():
        apply_batch(services.store, records, IngestReport())


@pytest.fixture
def site(tmp_path) -> Iterator[Services]:  # type: ignore[no-untyped-def]
    services = Services(Settings(db=tmp_path / "site.db", embed=False), clock=lambda: NOW)
    build_corpus(services)
    yield services
    services.close()


@pytest.fixture
def app(site: Services):  # type: ignore[no-untyped-def]
    return create_app(site)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


def csrf_of(client: TestClient, path: str = "/") -> str:
    """The CSRF token a page hands out (and the cookie it sets on the client)."""
    match = _CSRF_RE.search(client.get(path).text)
    assert match, "page has no csrf meta tag"
    return match.group(1)


def sign_up(client: TestClient, username: str = "reader1", password: str = "correct horse") -> str:
    token = csrf_of(client, "/signup")
    r = client.post("/signup", data={"username": username, "password": password,
                                     "csrf_token": token, "next": "/"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    return csrf_of(client)


@pytest.fixture
def signed_in(client: TestClient) -> tuple[TestClient, str]:
    """A client with an account, and its current CSRF token."""
    return client, sign_up(client)
