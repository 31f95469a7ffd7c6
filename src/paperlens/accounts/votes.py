"""Upvotes: one per user and paper, withdrawable, and a signal like any other.

The ``votes`` table says who voted (so a vote counts once and can be taken
back). After every change the paper's vote count is appended to ``signals``
as an ``upvotes`` observation from source ``"paperlens"``, so trending reads
our votes from the same time series as Hugging Face's, velocity included.

Demo votes (``seed_demo_votes``) are observations from source ``"demo"``:
made up, seeded only by ``paperlens demo``, counted apart from real ones and
labelled "demo data" wherever they are shown.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from paperlens.rank.trending import DEMO_SOURCE, VOTE_SOURCE
from paperlens.store.accounts import AccountStore

if TYPE_CHECKING:
    from paperlens.services import Services


@dataclass(frozen=True, slots=True)
class Upvotes:
    """What an upvote button shows for one paper."""

    real: int
    """Latest count per real source (Hugging Face, this site...), summed."""
    demo: int = 0
    """Seeded demo votes; shown separately and labelled."""
    voted: bool = False
    """Whether the viewer has upvoted it here."""


def set_vote(services: Services, user_id: int, paper_key: int, *, on: bool) -> Upvotes:
    """Cast (``on``) or withdraw a vote; idempotent. Returns the new counts."""
    accounts = AccountStore(services.store)
    now = services.clock()
    with accounts.transaction():
        changed = (
            accounts.add_vote(user_id, paper_key, now)
            if on
            else accounts.remove_vote(user_id, paper_key)
        )
        if changed:
            accounts.record_vote_count(paper_key, VOTE_SOURCE, accounts.vote_count(paper_key), now)
    return upvotes(services, [paper_key], user_id=user_id)[paper_key]


def upvotes(
    services: Services, paper_keys: Sequence[int], *, user_id: int | None = None
) -> dict[int, Upvotes]:
    """Counts for many papers in two queries; papers without votes get zeros."""
    accounts = AccountStore(services.store)
    latest = accounts.latest_upvotes(paper_keys)
    mine = accounts.voted(user_id, paper_keys) if user_id is not None else set()
    out = {}
    for key in paper_keys:
        per_source = latest.get(key, {})
        real = sum(v for s, v in per_source.items() if s != DEMO_SOURCE)
        out[key] = Upvotes(int(real), int(per_source.get(DEMO_SOURCE, 0)), key in mine)
    return out


def has_demo_votes(services: Services) -> bool:
    return AccountStore(services.store).has_signals_from(DEMO_SOURCE)


def seed_demo_votes(services: Services, *, seed: int = 7, limit: int = 5000) -> int:
    """Seed made-up upvotes (source ``"demo"``) on papers with no real upvotes.

    Deterministic for a seed. Each paper gets a heavy-tailed count and a
    three-point series (three days ago, yesterday, now) so velocity has
    something to show. Returns the number of papers seeded; a second call
    seeds nothing new (it skips papers that already have demo votes).
    """
    conn = services.store.conn  # type: ignore[attr-defined]
    rows = conn.execute(
        "SELECT key FROM papers WHERE key NOT IN (SELECT paper FROM signals WHERE kind='upvotes') "
        "ORDER BY key LIMIT ?",
        (limit,),
    ).fetchall()
    now = services.clock()
    accounts = AccountStore(services.store)
    seeded = 0
    with accounts.transaction():
        for (key,) in rows:
            rng = random.Random(seed * 1_000_003 + key)
            count = int(min(rng.paretovariate(1.1) * 4 - 4, 250))
            if count <= 0:
                continue
            for days, share in ((3, 0.35), (1, 0.75), (0, 1.0)):
                accounts.record_vote_count(
                    key, DEMO_SOURCE, round(count * share), now - timedelta(days=days)
                )
            seeded += 1
    return seeded
