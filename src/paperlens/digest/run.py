"""A digest run: compose what is due, queue it in the outbox, deliver the outbox.

Safe to run at any time, as often as you like, and after any crash: a
period that already has an outbox row is not composed again (the unique
``(subscription, period)`` key), and delivery follows the outbox protocol.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from paperlens.digest.compose import ComposeContext, Digest, compose, compose_many
from paperlens.digest.env import DigestEnv
from paperlens.digest.outbox import DrainReport, Transport
from paperlens.digest.period import current_period, due_period
from paperlens.digest.render import Rendered
from paperlens.digest.send import RateLimiter
from paperlens.store.digest import Subscription

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class RunReport:
    """What a run composed, queued and delivered."""

    dry_run: bool = False
    cadence: str | None = None
    subscribers: int = 0
    due: int = 0
    already: int = 0
    queued: int = 0
    empty: int = 0
    papers: int = 0
    compose_seconds: float = 0.0
    send_seconds: float = 0.0
    delivery: DrainReport | None = None
    digests: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run, "cadence": self.cadence, "subscribers": self.subscribers,
            "due": self.due, "already_queued": self.already, "queued": self.queued,
            "empty": self.empty, "papers": self.papers,
            "compose_seconds": round(self.compose_seconds, 3),
            "send_seconds": round(self.send_seconds, 3),
            "delivery": self.delivery.to_json() if self.delivery else None,
            "digests": self.digests,
        }  # fmt: skip


def queue_due(
    env: DigestEnv,
    *,
    cadence: str | None = None,
    dry_run: bool = False,
    report: RunReport | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> RunReport:
    """Compose and queue every due digest that has no outbox row yet (stoppable between two)."""
    report = report or RunReport(dry_run=dry_run, cadence=cadence)
    now = env.now()
    started = time.perf_counter()
    subs = env.db.subscriptions(status="active", cadence=cadence)
    report.subscribers = len(subs)
    periods: dict[int, str] = {}
    for sub in subs:
        period = due_period(sub, now)
        if period is not None:
            periods[sub.id] = period
    done = env.db.periods_done(list(periods), periods.values())
    todo = [s for s in subs if s.id in periods and (s.id, periods[s.id]) not in done]
    report.due = len(periods)
    report.already = len(periods) - len(todo)
    ctx = ComposeContext(env.services, now=now)
    for digest in compose_many(ctx, todo, period_of=lambda s: periods[s.id]):
        if should_stop():
            break
        report.papers += len(digest.items)
        if dry_run:
            report.empty += digest.empty
            report.queued += not digest.empty
            report.digests.append(digest.to_json())
            continue
        if queue_digest(env, digest) is None:
            report.already += 1
        elif digest.empty:
            report.empty += 1
        else:
            report.queued += 1
    report.compose_seconds += time.perf_counter() - started
    logger.info(
        "digests: %d subscribers, %d due, %d queued, %d empty, %d already queued%s",
        report.subscribers, report.due, report.queued, report.empty, report.already,
        " (dry run)" if dry_run else "",
    )  # fmt: skip
    return report


def queue_digest(env: DigestEnv, digest: Digest) -> int | None:
    """Write one composed digest to the outbox (``skipped`` when empty); None if it was there."""
    sub = digest.subscription
    now = env.now()
    if digest.empty:
        return env.db.enqueue(sub.id, kind="digest", period=digest.period, recipient=sub.email,
                              message_id=None, message=None, now=now, state="skipped")  # fmt: skip
    rendered = env.renderer.digest(digest, now=now)
    return env.db.enqueue(
        sub.id, kind="digest", period=digest.period, recipient=sub.email,
        message_id=rendered.message_id, message=rendered.as_bytes(),
        papers=[(i.key, i.reason) for i in digest.items], now=now,
    )  # fmt: skip


def deliver(
    env: DigestEnv,
    *,
    transport: Transport | None = None,
    limiter: RateLimiter | None = None,
    resend_unknown: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
    subscription_id: int | None = None,
) -> DrainReport:
    """Send everything due in the outbox (digests and confirmations), or one subscriber's."""
    outbox = env.outbox()
    if resend_unknown:
        n = outbox.resend_unknown()
        if n:
            logger.warning("resending %d messages whose delivery was unknown", n)
    if transport is not None:
        return outbox.drain(transport, limiter=limiter, should_stop=should_stop,
                            subscription_id=subscription_id)  # fmt: skip
    with env.transport() as smtp:
        return outbox.drain(smtp, limiter=limiter, should_stop=should_stop,
                            subscription_id=subscription_id)  # fmt: skip


def run(
    env: DigestEnv,
    *,
    cadence: str | None = None,
    dry_run: bool = False,
    resend_unknown: bool = False,
    transport: Transport | None = None,
    limiter: RateLimiter | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> RunReport:
    """Queue what is due, then deliver the outbox; recorded in ``digest_runs``."""
    report = RunReport(dry_run=dry_run, cadence=cadence)
    run_id = None if dry_run else env.db.start_run(cadence=cadence, dry_run=dry_run, now=env.now())
    queue_due(env, cadence=cadence, dry_run=dry_run, report=report, should_stop=should_stop)
    if not dry_run and not should_stop():
        started = time.perf_counter()
        report.delivery = deliver(
            env,
            transport=transport,
            limiter=limiter,
            resend_unknown=resend_unknown,
            should_stop=should_stop,
        )
        report.send_seconds = time.perf_counter() - started
    if run_id is not None:
        env.db.finish_run(run_id, report.to_json(), now=env.now())
    return report


def preview(env: DigestEnv, sub: Subscription) -> tuple[Digest, Rendered | None]:
    """The digest ``sub`` would get if it were composed now; writes nothing."""
    now = env.now()
    ctx = ComposeContext(env.services, now=now)
    (profile,) = ctx.profiles([sub])
    digest = compose(ctx, profile, period=current_period(sub, now)[0])
    return digest, None if digest.empty else env.renderer.digest(digest, now=now)
