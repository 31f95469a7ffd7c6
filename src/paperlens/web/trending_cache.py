"""A short-lived cache of scored trending windows, shared by the pages, API and feeds.

Scoring a month means reading the signals of every paper in it (about a
second at a million papers); caching the sorted keys turns the busiest page
into a slice and a lookup. Like ``PageCache`` it never lets a crowd pay for
the same work: one thread scores a window while others asking for it wait,
and for ``stale`` seconds after ``ttl`` the old scores are returned at once
while a background thread re-scores. ``warm`` scores the current windows at
start-up so the first visitor does not wait either. A vote cast here clears
the cache so the voter sees the new order; votes arriving from elsewhere
(another worker, a sync) show within ``ttl`` (``ttl + stale`` at most).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import date

from paperlens.rank.trending import (
    ScoredKey,
    TrendingItem,
    Window,
    score_window,
    window_bounds,
)
from paperlens.services import Services

_MAX_ENTRIES = 64
logger = logging.getLogger(__name__)

_Key = tuple[str, date]


class TrendingCache:
    """``(window, first day) -> scored keys``, each entry fresh for ``ttl`` seconds."""

    def __init__(
        self,
        services: Services,
        *,
        ttl: float = 30.0,
        stale: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.services = services
        self.clock = clock
        self.ttl = ttl
        self.stale = stale
        self._entries: OrderedDict[_Key, tuple[float, list[ScoredKey]]] = OrderedDict()
        self._scoring: dict[_Key, threading.Lock] = {}
        self._refreshing: set[_Key] = set()
        self._lock = threading.Lock()

    def scored(self, window: Window, day: date) -> list[ScoredKey]:
        key = (window, window_bounds(window, day)[0])
        hit = self._fresh(key, self.ttl + self.stale)
        if hit is None:
            return self._score(key, window, day)
        at, scored = hit
        if self.clock() - at >= self.ttl:
            self._refresh_in_background(key, window, day)
        return scored

    def warm(self, windows: Iterable[tuple[Window, date]]) -> threading.Thread:
        """Score ``windows`` in a background thread (started, and returned for tests)."""
        todo = list(windows)

        def run() -> None:
            for window, day in todo:
                try:
                    self.scored(window, day)
                except Exception:  # a broken store shows on the page, not here
                    logger.exception("warming trending %s %s failed", window, day)

        thread = threading.Thread(target=run, name="trending-warm", daemon=True)
        thread.start()
        return thread

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _fresh(self, key: _Key, max_age: float) -> tuple[float, list[ScoredKey]] | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is None or self.clock() - hit[0] >= max_age:
                return None
            self._entries.move_to_end(key)
            return hit

    def _score(
        self, key: _Key, window: Window, day: date, *, force: bool = False
    ) -> list[ScoredKey]:
        """Score one window; concurrent callers for the same window wait and share it."""
        with self._lock:
            gate = self._scoring.setdefault(key, threading.Lock())
        with gate:
            hit = None if force else self._fresh(key, self.ttl)
            if hit is not None:  # another thread scored it while this one waited
                return hit[1]
            scored = score_window(self.services, window=window, day=day)
            with self._lock:
                self._entries[key] = (self.clock(), scored)
                self._entries.move_to_end(key)
                while len(self._entries) > _MAX_ENTRIES:
                    self._entries.popitem(last=False)
                # Forget the gate (a crawler walking every date must not grow it);
                # at worst a caller holding the old gate scores once more.
                self._scoring.pop(key, None)
            return scored

    def _refresh_in_background(self, key: _Key, window: Window, day: date) -> None:
        with self._lock:
            if key in self._refreshing:
                return
            self._refreshing.add(key)

        def run() -> None:
            try:
                self._score(key, window, day, force=True)
            except Exception:  # the stale scores stay; the next expiry tries again
                logger.exception("refreshing trending %s failed", key)
            finally:
                with self._lock:
                    self._refreshing.discard(key)

        threading.Thread(target=run, name="trending-refresh", daemon=True).start()


def trending_slice(
    cache: TrendingCache,
    window: Window,
    day: date,
    *,
    exclude: set[int] | frozenset[int] = frozenset(),
    limit: int = 30,
    offset: int = 0,
) -> tuple[list[TrendingItem], int]:
    """One page of a trending window and the window's size, papers loaded."""
    scored = cache.scored(window, day)
    if exclude:
        scored = [s for s in scored if s.key not in exclude]
    page = scored[offset : offset + limit]
    by_key = cache.services.store.papers_by_key([s.key for s in page])
    items = [
        TrendingItem(by_key[s.key], s.key, s.score, s.breakdown, inputs=s.inputs, day=s.day)
        for s in page
        if s.key in by_key
    ]
    return items, len(scored)
