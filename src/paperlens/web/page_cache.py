"""A few seconds of caching for the pages anonymous visitors read most.

A page opts in by rendering with ``public_page`` (trending, search, paper,
author/organisation/category); for a visitor without a session, ``render``
then marks the response ``x-page-cache: public`` and this middleware keeps
its body for ``ttl`` seconds, keyed by path and query. Signed-in visitors,
HTMX requests and anything not marked always reach the handlers. The cost is
up to ``ttl`` seconds of staleness for anonymous readers (a vote cast
elsewhere shows a little later); the gain is that a popular page is rendered
once per ``ttl`` instead of once per visitor. Pure ASGI, so responses stream
through unchanged when they are not cached.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MARK = b"x-page-cache"
_MAX_BODY = 2_000_000


class PageCache:
    def __init__(self, app: ASGIApp, *, ttl: float = 10.0, entries: int = 5000) -> None:
        self.app = app
        self.ttl = ttl
        self.entries = entries
        self._store: OrderedDict[str, tuple[float, int, list[tuple[bytes, bytes]], bytes]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._store.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.ttl <= 0 or not _anonymous_read(scope):
            await self.app(scope, receive, _strip_mark(send))
            return
        query = scope.get("query_string", b"").decode("latin-1")
        key = scope["path"] + ("?" + query if query else "")
        now = time.monotonic()
        with self._lock:
            hit = self._store.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            _at, status, headers, body = hit
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
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

        await self.app(scope, receive, capture)

    def _put(self, key: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        kept = [(k, v) for k, v in headers if k.lower() != b"set-cookie"]
        with self._lock:
            self._store[key] = (time.monotonic(), status, kept, body)
            self._store.move_to_end(key)
            while len(self._store) > self.entries:
                self._store.popitem(last=False)


def _anonymous_read(scope: Scope) -> bool:
    if scope["method"] not in ("GET", "HEAD"):
        return False
    for key, value in scope.get("headers", []):
        if key == b"hx-request":
            return False
        if key == b"cookie" and b"pl_session=" in value:
            return False
    return True


def _strip_mark(send: Send) -> Send:
    async def strip(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [
                (k, v) for k, v in message.get("headers", []) if k.lower() != MARK
            ]
        await send(message)

    return strip
