"""``/api/v1``: shapes, paging, one error shape, and the same answers as the pages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from web_support import XSS_TITLE


def test_papers_paged(client: TestClient) -> None:
    r = client.get("/api/v1/papers", params={"limit": 2})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 5 and body["limit"] == 2 and len(body["items"]) == 2
    assert body["next"] == "/api/v1/papers?limit=2&offset=2"
    last = client.get("/api/v1/papers", params={"limit": 2, "offset": 4}).json()
    assert len(last["items"]) == 1 and last["next"] is None


def test_paper_detail(client: TestClient) -> None:
    body = client.get("/api/v1/papers/2504.00001").json()
    assert body["title"] == "Paper 1 on diffusion models"
    assert body["upvotes"] == 30 and body["demo_upvotes"] == 0
    assert {s["kind"] for s in body["signals"]} == {"upvotes", "comments"}
    assert body["provenance"][0]["source"] == "test"
    assert body["url"] == f"/papers/{body['id']}"
    assert client.get(f"/api/v1/papers/{body['id']}").json()["id"] == body["id"]


def test_similar(client: TestClient) -> None:
    body = client.get("/api/v1/papers/2504.00001/similar", params={"limit": 3}).json()
    assert body["items"] and all(i["paper"]["arxiv_id"] != "2504.00001" for i in body["items"])
    assert body["items"][0]["method"] in ("keyword", "semantic")


def test_search_matches_the_page(client: TestClient) -> None:
    body = client.get("/api/v1/search", params={"q": "diffusion", "limit": 2}).json()
    assert body["total"] >= 3 and len(body["items"]) == 2 and body["next"]
    hit = body["items"][0]
    assert any(seg["match"] for seg in hit["snippet"])
    html = client.get("/search", params={"q": "diffusion"}).text
    assert hit["paper"]["title"] in html
    assert client.get("/api/v1/search").json()["items"] == []


def test_trending(client: TestClient) -> None:
    body = client.get("/api/v1/trending").json()
    assert body["date"] == "2025-04-09" and body["window"] == "daily"
    assert body["items"][0]["paper"]["arxiv_id"] == "2504.00001"
    assert body["items"][0]["breakdown"]["upvotes"] == 30
    assert body["weights"]["half_life_days"] == 7.0 and body["demo_data"] is False
    weekly = client.get("/api/v1/trending", params={"window": "monthly", "date": "2024-01-20"})
    assert [i["paper"]["title"] for i in weekly.json()["items"]] == ["An older paper"]


def test_people(client: TestClient) -> None:
    body = client.get("/api/v1/authors/Ada Lovelace").json()
    assert body["total"] == 3 and body["people"][0] == {"name": "Alan Turing", "papers": 3}
    assert client.get("/api/v1/organisations/example-lab").json()["total"] == 3
    assert client.get("/api/v1/categories/cs.LG").json()["total"] == 1


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/papers/0000.00000", 404, "not_found"),
        ("/api/v1/authors/Nobody", 404, "not_found"),
        ("/api/v1/lists/nope", 404, "not_found"),
        ("/api/v1/papers?limit=0", 422, "invalid_parameters"),
        ("/api/v1/papers?limit=abc", 422, "invalid_parameters"),
        ("/api/v1/search?q=year:abc", 400, "invalid_query"),
        ("/api/v1/trending?date=2025-02-30", 400, "bad_request"),
        ("/api/v1/trending?window=yearly", 422, "invalid_parameters"),
        ("/api/v1/nothing", 404, "not_found"),
    ],
)
def test_one_error_shape(client: TestClient, path: str, status: int, code: str) -> None:
    r = client.get(path)
    assert r.status_code == status
    error = r.json()["error"]
    assert error["status"] == status and error["code"] == code and error["message"]


def test_openapi_and_docs(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    paths = set(schema["paths"])
    assert {"/api/v1/papers", "/api/v1/search", "/api/v1/trending"} <= paths
    assert not any(p.startswith(("/login", "/lists/{slug}/edit")) for p in paths)
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn." not in docs.text  # vendored, works offline
    assert client.get("/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js").status_code == 200


def test_hostile_text_is_plain_json(client: TestClient) -> None:
    body = client.get("/api/v1/papers/2504.00004").json()
    assert body["title"] == XSS_TITLE  # data, not markup: clients escape when they render
    assert (
        client.get("/api/v1/papers/2504.00004")
        .headers["content-type"]
        .startswith("application/json")
    )
