"""The page cache and the trending cache under a crowd: one render, stale served at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest

from paperlens.web import trending_cache as trending_cache_module
from paperlens.web.page_cache import MARK, PageCache
from paperlens.web.trending_cache import TrendingCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class SlowPage:
    """An ASGI app that counts renders and, when ``gate`` is set, waits on it before answering."""

    def __init__(self, *, cacheable: bool = True, status: int = 200) -> None:
        self.renders = 0
        self.cacheable = cacheable
        self.status = status
        self.gate: asyncio.Event | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.renders += 1
        version = self.renders
        if self.gate is not None:
            await self.gate.wait()
        headers = [(b"content-type", b"text/html")]
        if self.cacheable:
            headers.append((MARK, b"public"))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": f"render {version}".encode()})


async def get(
    app: Any, path: str = "/", *, method: str = "GET", cookie: str = "", extra: Any = ()
) -> tuple:
    headers = [(b"cookie", cookie.encode())] if cookie else []
    scope = {"type": "http", "method": method, "path": path, "query_string": b"",
             "headers": [*headers, *extra], "state": {}}  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], dict(start["headers"]), body.decode()


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a scenario on a fresh event loop in a thread of its own.

    The browser tests' Playwright (sync API) keeps an event loop running in the
    main thread for the rest of the session, where ``asyncio.run`` refuses to start.
    """
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()


async def settle() -> None:
    """Let background refresh tasks run to completion."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_a_crowd_asking_for_an_uncached_page_renders_it_once() -> None:
    async def scenario() -> None:
        page = SlowPage()
        page.gate = asyncio.Event()
        cache = PageCache(page, ttl=10, stale=60, clock=Clock())
        crowd = [asyncio.create_task(get(cache, "/papers/month/2025-04")) for _ in range(20)]
        await settle()
        assert page.renders == 1  # the other 19 wait for the first render
        page.gate.set()
        results = await asyncio.gather(*crowd)
        assert {body for _s, _h, body in results} == {"render 1"}
        assert all(MARK not in headers for _s, headers, _b in results)

    run(scenario)


def test_a_stale_page_is_served_at_once_and_refreshed_in_the_background() -> None:
    async def scenario() -> None:
        clock = Clock()
        page = SlowPage()
        cache = PageCache(page, ttl=10, stale=60, clock=clock)
        assert (await get(cache))[2] == "render 1"
        clock.now += 30  # expired, but within the stale window
        page.gate = asyncio.Event()  # the refresh will hang until released
        assert (await get(cache))[2] == "render 1"  # no waiting for the slow render
        assert (await get(cache))[2] == "render 1"
        await settle()
        assert page.renders == 2  # one background refresh, not one per visitor
        page.gate.set()
        await settle()
        assert (await get(cache))[2] == "render 2"
        assert page.renders == 2

    run(scenario)


def test_past_the_stale_window_the_visitor_waits_for_a_fresh_render() -> None:
    async def scenario() -> None:
        clock = Clock()
        page = SlowPage()
        cache = PageCache(page, ttl=10, stale=60, clock=clock)
        await get(cache)
        clock.now += 71
        assert (await get(cache))[2] == "render 2"

    run(scenario)


@pytest.mark.parametrize(
    ("page", "method", "cookie"),
    [
        (SlowPage(cacheable=False), "GET", ""),  # the handler did not mark it public
        (SlowPage(status=404), "GET", ""),  # only 200s are kept
        (SlowPage(), "HEAD", ""),  # a HEAD response has no body to keep
        (SlowPage(), "GET", "pl_session=abc"),  # signed in: always rendered
    ],
)
def test_what_is_never_cached(page: SlowPage, method: str, cookie: str) -> None:
    async def scenario() -> None:
        cache = PageCache(page, ttl=10, stale=60, clock=Clock())
        for _ in range(3):
            await get(cache, method=method, cookie=cookie)
        assert page.renders == 3

    run(scenario)


def test_waiters_render_themselves_when_the_first_render_is_not_cacheable() -> None:
    async def scenario() -> None:
        page = SlowPage(status=404)
        page.gate = asyncio.Event()
        cache = PageCache(page, ttl=10, stale=60, clock=Clock())
        crowd = [asyncio.create_task(get(cache)) for _ in range(3)]
        await settle()
        page.gate.set()
        results = await asyncio.gather(*crowd)
        assert [status for status, _h, _b in results] == [404, 404, 404]
        assert page.renders == 3

    run(scenario)


def test_the_cache_keeps_within_its_byte_budget_dropping_the_least_recently_read() -> None:
    async def scenario() -> None:
        page = SlowPage()
        cache = PageCache(page, ttl=10, stale=60, max_bytes=30, clock=Clock())
        for path in ("/a", "/b", "/c"):  # 8 bytes each ("render N")
            await get(cache, path)
        await get(cache, "/a")  # read again: now the most recent
        await get(cache, "/d")  # 32 bytes > 30: the least recently read (/b) goes
        assert page.renders == 4
        await get(cache, "/a")
        await get(cache, "/c")
        assert page.renders == 4
        await get(cache, "/b")
        assert page.renders == 5

    run(scenario)


def test_htmx_fragments_are_cached_apart_from_the_page() -> None:
    async def scenario() -> None:
        page = SlowPage()
        cache = PageCache(page, ttl=10, stale=60, clock=Clock())
        scope_headers = [(b"hx-request", b"true"), (b"hx-target", b"similar")]
        assert (await get(cache, "/papers/x/similar"))[2] == "render 1"
        assert (await get(cache, "/papers/x/similar", extra=scope_headers))[2] == "render 2"
        assert (await get(cache, "/papers/x/similar", extra=scope_headers))[2] == "render 2"
        assert (await get(cache, "/papers/x/similar"))[2] == "render 1"

    run(scenario)


class CountingScorer:
    """Stands in for ``score_window`` to count calls; blocks while ``gate`` is clear."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate = threading.Event()
        self.gate.set()
        self._lock = threading.Lock()

    def __call__(self, services: Any, *, window: str, day: date) -> list[Any]:
        with self._lock:
            self.calls += 1
            version = self.calls
        self.gate.wait(10)
        return [version]


@pytest.fixture
def scorer(monkeypatch: pytest.MonkeyPatch) -> CountingScorer:
    counting = CountingScorer()
    monkeypatch.setattr(trending_cache_module, "score_window", counting)
    return counting


def test_trending_scores_a_window_once_for_concurrent_callers(scorer: CountingScorer) -> None:
    cache = TrendingCache(None, ttl=30, stale=300, clock=Clock())  # type: ignore[arg-type]
    scorer.gate.clear()
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.scored("monthly", date(2025, 4, 9))))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    scorer.gate.set()
    for t in threads:
        t.join(10)
    assert scorer.calls == 1
    assert results == [[1]] * 8


def test_trending_serves_stale_scores_while_refreshing(scorer: CountingScorer) -> None:
    clock = Clock()
    cache = TrendingCache(None, ttl=30, stale=300, clock=clock)  # type: ignore[arg-type]
    day = date(2025, 4, 9)
    assert cache.scored("daily", day) == [1]
    clock.now += 60
    scorer.gate.clear()
    assert cache.scored("daily", day) == [1]  # returned at once, refresh running
    assert cache.scored("daily", day) == [1]
    scorer.gate.set()
    for _ in range(100):
        if cache.scored("daily", day) == [2]:
            break
        threading.Event().wait(0.02)
    assert cache.scored("daily", day) == [2]
    assert scorer.calls == 2
    clock.now += 400  # past the stale window: scored again before answering
    assert cache.scored("daily", day) == [3]


def test_warm_scores_the_windows_before_anyone_asks(scorer: CountingScorer) -> None:
    cache = TrendingCache(None, clock=Clock())  # type: ignore[arg-type]
    day = date(2025, 4, 9)
    cache.warm([("daily", day), ("weekly", day), ("monthly", day)]).join(10)
    assert scorer.calls == 3
    cache.scored("monthly", day)
    assert scorer.calls == 3
