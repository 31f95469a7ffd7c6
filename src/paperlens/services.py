"""The wiring: open the long-lived objects once, from ``Settings``, and hand them out.

Everything expensive (the embedding model, the indexes) opens lazily on first
use, so ``paperlens stats`` never loads torch and a web request never pays for
an index it does not use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from paperlens.config import Settings
from paperlens.store import Store, open_store

if TYPE_CHECKING:
    from paperlens.index.fulltext import FulltextIndex

ProgressFn = Callable[[int, int], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Services:
    """The store, indexes, model and clock for one running paperlens."""

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.store: Store = open_store(settings.db)
        self._fulltext: FulltextIndex | None = None
        self._lock = threading.RLock()

    @property
    def fulltext(self) -> FulltextIndex:
        """The keyword index, caught up with the store on first use."""
        with self._lock:
            if self._fulltext is None:
                from paperlens.index.fulltext import FulltextIndex

                self._fulltext = FulltextIndex(self.settings.data_dir / "keyword")
                self._fulltext.sync(self.store)
            return self._fulltext

    def sync_keyword(self, *, on_progress: ProgressFn | None = None) -> int:
        """Bring the keyword index up to date with the store; returns papers indexed."""
        with self._lock:
            if self._fulltext is None:
                from paperlens.index.fulltext import FulltextIndex

                self._fulltext = FulltextIndex(self.settings.data_dir / "keyword")
            return self._fulltext.sync(self.store, on_progress=on_progress)

    def close(self) -> None:
        self.store.close()
