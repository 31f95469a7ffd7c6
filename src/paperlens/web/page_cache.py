"""A few seconds of caching for the pages anonymous visitors read most.

A page opts in by rendering with ``public_page`` (trending, search, paper,
author/organisation/category); for a visitor without a session, ``render``
then marks the response ``x-page-cache: public`` and this middleware keeps
its body, keyed by path and query (and, for HTMX requests, the fragment
asked for). Signed-in visitors and anything not marked always reach the
handlers.

Two rules keep a busy site from rendering the same page many times at once,
which is what made tail latency explode under load (50 clients asking for
the month's trending page all rendered it together):

- **one render per page at a time**: while a page renders, other requests
  for it wait for that render and share its result;
- **stale while revalidate**: for ``stale`` seconds after ``ttl`` expires,
  the old copy is served at once while one background render refreshes it.

The cost is staleness for anonymous readers (at most ``ttl + stale``
seconds, and only for the first reader after ``ttl``; a vote cast elsewhere
shows a little later); the gain is that a popular page is rendered once per
``ttl`` instead of once per visitor, and no visitor waits for it. Pure ASGI,
so responses stream through unchanged when they are not cached.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MARK = b"x-page-cache"
_MAX_BODY = 2_000_000  # one page; the whole cache is bounded by ``max_bytes``
_WAIT_SECONDS = 30.0  # a waiter gives up on a stuck render and renders itself

logger = logging.getLogger(__name__)


@dataclass(slots=True, frozen=True)
class _Entry:
    at: float
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class PageCache:
    def __init__(
        self,
        app: ASGIApp,
        *,
        ttl: float = 10.0,
        stale: float = 60.0,
        entries: int = 5000,
        max_bytes: int = 64 << 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.clock = clock
        self.ttl = ttl
        self.stale = max(stale, 0.0)
        self.entries = entries
        self.max_bytes = max_bytes
        self._bytes = 0
        self._store: OrderedDict[str, _Entry] = OrderedDict()
        self._rendering: dict[str, asyncio.Event] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._store.clear()
            self._bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _cache_key(scope) if scope["type"] == "http" and self.ttl > 0 else None
        if key is None:
            await self.app(scope, receive, _strip_mark(send))
            return
        hit = self._get(key)
        if hit is not None:
            age = self.clock() - hit.at
            if age < self.ttl:
                await _replay(hit, send)
                return
            if age < self.ttl + self.stale:
                if key not in self._rendering:
                    self._refresh_in_background(key, scope)
                await _replay(hit, send)
                return
        pending = self._rendering.get(key)
        if pending is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(pending.wait(), _WAIT_SECONDS)
            hit = self._get(key)
            if hit is not None:
                await _replay(hit, send)
                return
        await self._render(key, scope, receive, send)

    async def _render(self, key: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Render through the app, keeping a cacheable 200; others wait on ``key`` meanwhile."""
        done = self._rendering.setdefault(key, asyncio.Event())
        started: dict[str, object] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                started["status"] = message["status"]
                started["cacheable"] = any(k.lower() == MARK for k, _ in headers)
                started["headers"] = [(k, v) for k, v in headers if k.lower() != MARK]
                message["headers"] = started["headers"]
            elif message["type"] == "http.response.body" and started.get("cacheable"):
                chunks.append(message.get("body", b""))
                if not message.get("more_body") and started["status"] == 200:
                    body = b"".join(chunks)
                    if len(body) <= _MAX_BODY:
                        self._put(key, started["status"], started["headers"], body)  # type: ignore[arg-type]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            if self._rendering.get(key) is done:
                del self._rendering[key]
            done.set()

    def _refresh_in_background(self, key: str, scope: Scope) -> None:
        """Render ``key`` again for the cache alone; the visitor already has the stale copy."""
        # The request's own state (its CSRF seed) stays with the request.
        copy = {**scope, "state": dict(scope.get("state", {}))}

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def discard(message: Message) -> None:
            return None

        async def refresh() -> None:
            try:
                await self._render(key, copy, receive, discard)
            except Exception:  # the next visitor renders it and sees the error page
                logger.exception("background refresh of %s failed", key)

        self._rendering.setdefault(key, asyncio.Event())
        task = asyncio.get_running_loop().create_task(refresh())
        self._tasks.add(task)  # keep a reference until it finishes
        task.add_done_callback(self._tasks.discard)

    def _get(self, key: str) -> _Entry | None:
        with self._lock:
            hit = self._store.get(key)
            if hit is not None:
                self._store.move_to_end(key)  # least recently read goes first
            return hit

    def _put(self, key: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        kept = [(k, v) for k, v in headers if k.lower() != b"set-cookie"]
        with self._lock:
            old = self._store.pop(key, None)
            self._bytes += len(body) - (len(old.body) if old else 0)
            self._store[key] = _Entry(self.clock(), status, kept, body)
            while len(self._store) > self.entries or self._bytes > self.max_bytes:
                _key, dropped = self._store.popitem(last=False)
                self._bytes -= len(dropped.body)


async def _replay(entry: _Entry, send: Send) -> None:
    await send({"type": "http.response.start", "status": entry.status, "headers": entry.headers})
    await send({"type": "http.response.body", "body": entry.body})


def _cache_key(scope: Scope) -> str | None:
    """The cache key of an anonymous GET, or None when the response must not be shared.

    An HTMX request gets its own key per target: the handler answers it with
    a fragment (the search results, a paper's similar papers), not the page.
    """
    if scope["method"] != "GET":  # a HEAD response has no body to keep
        return None
    htmx = target = ""
    for name, value in scope.get("headers", []):
        if name == b"cookie" and b"pl_session=" in value:
            return None
        if name == b"hx-history-restore-request":
            return None  # answered with the whole page, like a plain request; rare
        if name == b"hx-request":
            htmx = "hx"
        elif name == b"hx-target":
            target = value.decode("latin-1")
    query = scope.get("query_string", b"").decode("latin-1")
    path = scope["path"] + ("?" + query if query else "")
    return f"{htmx}:{target}:{path}" if htmx else path


def _strip_mark(send: Send) -> Send:
    async def strip(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [
                (k, v) for k, v in message.get("headers", []) if k.lower() != MARK
            ]
        await send(message)

    return strip
