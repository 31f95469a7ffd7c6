"""A short-lived cache of scored trending windows, shared by the pages, API and feeds.

Scoring a month means reading the signals of every paper in it; caching the
sorted keys for a few seconds turns the busiest page into a slice and a
lookup. A vote cast here clears the cache so the voter sees the new order;
votes arriving from elsewhere (another worker, a sync) show within ``ttl``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
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


class TrendingCache:
    """``(window, first day) -> scored keys``, each entry fresh for ``ttl`` seconds."""

    def __init__(self, services: Services, *, ttl: float = 30.0) -> None:
        self.services = services
        self.ttl = ttl
        self._entries: OrderedDict[tuple[str, date], tuple[float, list[ScoredKey]]] = OrderedDict()
        self._lock = threading.Lock()

    def scored(self, window: Window, day: date) -> list[ScoredKey]:
        key = (window, window_bounds(window, day)[0])
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and now - hit[0] < self.ttl:
                self._entries.move_to_end(key)
                return hit[1]
        scored = score_window(self.services, window=window, day=day)
        with self._lock:
            self._entries[key] = (now, scored)
            self._entries.move_to_end(key)
            while len(self._entries) > _MAX_ENTRIES:
                self._entries.popitem(last=False)
        return scored

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


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
