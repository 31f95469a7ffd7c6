"""Submit a paper by arXiv id or URL: queue it for the sync code to fetch.

The web never fetches: it records the request as ``queued``. The live-sources
code claims queued rows (``AccountStore.queued_submissions``), fetches the
arXiv entry and marks the row ``fetched`` or ``failed`` with a reason. A paper
already in the store is answered at once (``fetched``, with its id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from paperlens.accounts import AccountError, RateLimited
from paperlens.ids import parse_arxiv_id
from paperlens.store.accounts import AccountStore, SubmissionRow

if TYPE_CHECKING:
    from paperlens.services import Services

MAX_PER_DAY = 50


@dataclass(slots=True)
class Submitted:
    """The outcome of one submission."""

    submission: SubmissionRow
    paper_id: str | None
    """The paperlens id when the paper is already in the store."""


def submit(services: Services, user_id: int, ref: str) -> Submitted:
    """Queue ``ref`` (an arXiv id, abs/pdf URL or arXiv DOI) for fetching."""
    ref = ref.strip()
    parsed = parse_arxiv_id(ref) if len(ref) <= 300 else None
    if parsed is None:
        raise AccountError(
            f"{ref[:80]!r} is not an arXiv id or URL; "
            "try 2401.01234 or https://arxiv.org/abs/2401.01234."
        )
    arxiv_id = parsed[0]
    accounts = AccountStore(services.store)
    now = services.clock()
    key = services.store.resolve(arxiv_id)
    with accounts.transaction():
        existing = accounts.queued_submission(user_id, arxiv_id)
        if existing is not None and key is None:
            return Submitted(existing, None)
        if accounts.count_submissions_since(user_id, now - timedelta(days=1)) >= MAX_PER_DAY:
            raise RateLimited(
                f"You have submitted {MAX_PER_DAY} papers today; try again tomorrow.",
                retry_after=3600,
            )
        status = "fetched" if key is not None else "queued"
        sid = accounts.add_submission(ref, arxiv_id, user_id, status, now)
    row = next(s for s in accounts.submissions_of(user_id, limit=MAX_PER_DAY) if s.id == sid)
    paper_id = None
    if key is not None:
        paper = services.store.papers([key])
        paper_id = paper[0].id if paper else None
    return Submitted(row, paper_id)


def submissions_of(services: Services, user_id: int) -> list[SubmissionRow]:
    return AccountStore(services.store).submissions_of(user_id)
