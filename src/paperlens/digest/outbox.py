"""The outbox: every message is stored before it is sent, then moves through explicit states.

::

    queued ─claim─► sending ─body written─► committing ─2xx─► sent
      ▲  ▲            │  │                     │  │
      │  └── retry ◄──┘  └─5xx─► failed ◄─5xx──┘  └─no reply─► unknown
      │   (4xx, refused, dropped, timeout;           (kill -9, timeout after the
      │    exponential backoff; failed after          final dot: resent only on
      │    mail_max_attempts)                         request, same Message-ID)
      └── recover: a dead sender's 'sending' row
    queued/retry ─unsubscribe/pause─► cancelled      empty digest ─► skipped

Each arrow is one committed transaction, and the only SMTP traffic happens
while a row is ``sending`` or ``committing`` and owned by one live sender
(``host:pid:process start``). The guarantee:

* A row is claimed by exactly one sender (``UPDATE … RETURNING`` under
  ``BEGIN IMMEDIATE``).
* ``sending`` means the terminating dot has not been written, so if its
  owner dies the server cannot have accepted the message (a transaction
  without its end is discarded), and recovery puts it back to ``retry``.
* ``committing`` is written *before* the dot. If its owner dies, or the reply
  to the dot never comes, nobody can know whether the server accepted it;
  the row becomes ``unknown`` and is **not** resent automatically. That is
  the narrow window: from committing (one local commit) to reading the
  server's reply to the dot — one round trip. Within it we choose at most
  once: a duplicate digest is worse than a late one, and ``paperlens digest
  send --resend-unknown`` resends those rows with the same Message-ID, which
  mailbox providers use to drop duplicates.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol

import psutil  # type: ignore[import-untyped]

from paperlens.digest.send import Outcome, RateLimiter, Result, envelope_sender
from paperlens.digest.settings import DigestSettings
from paperlens.errors import ConfigError
from paperlens.store.digest import DigestStore, OutboxRow, Subscription, parse_ts, ts

logger = logging.getLogger(__name__)


class Transport(Protocol):
    def deliver(
        self, sender: str, recipient: str, message: bytes, *, before_end: Callable[[], None]
    ) -> Result: ...


class LostClaim(RuntimeError):
    """Our claim on a row was taken away (recovered as stale) while we held it."""


@cache
def owner_token() -> str:
    """``host:pid:start time``: names this process, and cannot be reused by another."""
    pid = os.getpid()
    start = psutil.Process(pid).create_time()
    return f"{socket.gethostname()}:{pid}:{start:.3f}"


def owner_alive(owner: str | None) -> bool | None:
    """Whether the process named by ``owner`` runs; None when it is on another host."""
    if not owner:
        return False
    try:
        host, pid_text, start_text = owner.rsplit(":", 2)
        pid, start = int(pid_text), float(start_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return None
    try:
        return bool(abs(psutil.Process(pid).create_time() - start) < 0.01)
    except psutil.Error:
        return False


def backoff(attempts: int, settings: DigestSettings) -> timedelta:
    """Delay before attempt ``attempts + 1``: base · 2^(attempts-1), capped."""
    seconds = settings.mail_retry_base_seconds * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.mail_retry_max_seconds))


@dataclass(slots=True)
class DrainReport:
    """What one pass over the outbox did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    cancelled: int = 0
    recovered: int = 0
    paused: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "sent": self.sent, "retried": self.retried, "failed": self.failed,
            "unknown": self.unknown, "cancelled": self.cancelled, "recovered": self.recovered,
            "paused": self.paused, "errors": self.errors[:20],
        }  # fmt: skip


class Outbox:
    """Drives outbox rows through their states (see the module docstring)."""

    def __init__(
        self,
        db: DigestStore,
        settings: DigestSettings,
        *,
        clock: Callable[[], datetime],
        owner: str | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.owner = owner or owner_token()

    def lease(self) -> timedelta:
        """How long a claim on another host is trusted before it counts as dead."""
        s = self.settings
        return timedelta(seconds=s.smtp_data_timeout + 6 * s.smtp_timeout + 60)

    def recover(self) -> int:
        """Settle rows left ``sending``/``committing`` by senders that died."""
        now = self.clock()
        count = 0
        for row in self.db.in_flight():
            if row.owner == self.owner:
                continue
            alive = owner_alive(row.owner)
            if alive is None:  # another host: trust the claim for one lease
                claimed = parse_ts(row.claimed_at)
                alive = claimed is not None and now - claimed < self.lease()
            if alive:
                continue
            if row.state == "sending":
                moved = self.db.transition(
                    row.id, from_states=("sending",), to="retry", owner=row.owner,
                    next_attempt_at=ts(now), last_error="sender died before the end of DATA",
                )  # fmt: skip
            else:
                moved = self.db.transition(
                    row.id, from_states=("committing",), to="unknown", owner=row.owner,
                    last_error="sender died after the end of DATA, before the reply",
                )  # fmt: skip
            if moved:
                count += 1
                logger.warning(
                    "outbox %s (%s, %s): sender %s died while %s; now %s",
                    row.id, row.recipient, row.period, row.owner, row.state,
                    "retry" if row.state == "sending" else "unknown",
                )  # fmt: skip
        return count

    def resend_unknown(self) -> int:
        """Queue every ``unknown`` row again (same bytes, same Message-ID)."""
        n = 0
        for row in self.db.outbox(states=("unknown",)):
            n += self.db.transition(
                row.id, from_states=("unknown",), to="retry", next_attempt_at=ts(self.clock())
            )
        return n

    def drain(
        self,
        transport: Transport,
        *,
        limiter: RateLimiter | None = None,
        limit: int | None = None,
        should_stop: Callable[[], bool] = lambda: False,
        subscription_id: int | None = None,
    ) -> DrainReport:
        """Send every due message (of one subscriber, if given) once; returns what happened."""
        report = DrainReport(recovered=self.recover())
        limiter = limiter or RateLimiter(self.settings.mail_rate_per_minute)
        sender = envelope_sender(self.settings)
        done = 0
        while not should_stop() and (limit is None or done < limit):
            row = self.db.claim(now=self.clock(), owner=self.owner, subscription_id=subscription_id)
            if row is None:
                break
            done += 1
            sub = self._still_wanted(row)
            if sub is None:
                self.db.transition(row.id, from_states=("sending",), to="cancelled",
                                   owner=self.owner)  # fmt: skip
                self.db.release_papers(row.id)
                report.cancelled += 1
                continue
            limiter.wait()
            try:
                result = transport.deliver(
                    sender, row.recipient, row.message or b"", before_end=self._committer(row)
                )
            except ConfigError:
                # Our setup is wrong, not the message: put it back untouched and stop.
                self.db.transition(row.id, from_states=("sending",), to="queued",
                                   owner=self.owner, attempts=row.attempts - 1)  # fmt: skip
                raise
            except LostClaim as exc:
                logger.warning("%s; leaving it to its new owner", exc)
                continue
            self._settle(row, result, report, bounces=sub.bounce_count)
        return report

    def _still_wanted(self, row: OutboxRow) -> Subscription | None:
        """The subscription, if this message should still go out."""
        sub = self.db.subscription(row.subscription_id)
        if sub is None or sub.email != row.recipient:
            return None
        if row.kind == "confirm":  # only the newest confirmation link is worth sending
            wanted = sub.confirm_nonce is not None and row.period == f"confirm:{sub.confirm_nonce}"
        else:
            wanted = sub.status == "active"
        return sub if wanted else None

    def _committer(self, row: OutboxRow) -> Callable[[], None]:
        def commit() -> None:
            if not self.db.transition(row.id, from_states=("sending",), to="committing",
                                      owner=self.owner):  # fmt: skip
                raise LostClaim(f"outbox {row.id} is no longer ours")

        return commit

    def _settle(self, row: OutboxRow, result: Result, report: DrainReport, *, bounces: int) -> None:
        now = self.clock()
        state_from = ("sending", "committing")
        log = logger.info
        if result.outcome is Outcome.SENT:
            self.db.transition(row.id, from_states=("committing",), to="sent", owner=self.owner,
                               sent_at=ts(now), last_code=result.code, last_error=None)  # fmt: skip
            if row.kind == "digest" and bounces:
                self.db.reset_bounces(row.subscription_id)
            report.sent += 1
        elif result.outcome is Outcome.AMBIGUOUS:
            self.db.transition(row.id, from_states=("committing",), to="unknown",
                               owner=self.owner, last_error=result.error)  # fmt: skip
            report.unknown += 1
            log = logger.warning
        elif result.outcome is Outcome.TEMPORARY and row.attempts < self.settings.mail_max_attempts:
            when = now + backoff(row.attempts, self.settings)
            self.db.transition(row.id, from_states=state_from, to="retry", owner=self.owner,
                               next_attempt_at=ts(when), last_code=result.code,
                               last_error=f"{result.stage}: {result.error}")  # fmt: skip
            report.retried += 1
            log = logger.warning
        else:
            self.db.transition(row.id, from_states=state_from, to="failed", owner=self.owner,
                               last_code=result.code,
                               last_error=f"{result.stage}: {result.error}")  # fmt: skip
            self.db.release_papers(row.id)
            report.failed += 1
            report.errors.append(f"{row.recipient}: {result.stage} {result.code} {result.error}")
            log = logger.warning
            if result.bounce and self.db.record_bounce(
                row.subscription_id, max_bounces=self.settings.mail_max_bounces, now=now
            ):
                self.db.cancel_pending(row.subscription_id)
                report.paused.append(row.recipient)
                logger.warning("paused %s after repeated bounces", row.recipient)
        log(
            "outbox %s %s to %s (%s, attempt %s): %s %s %s",
            row.id, row.kind, row.recipient, row.period, row.attempts,
            result.outcome.value, result.code or "", result.error,
        )  # fmt: skip


def queue_counts(db: DigestStore) -> dict[str, int]:
    counts = db.outbox_counts()
    return {state: counts.get(state, 0) for state in sorted(counts)}
