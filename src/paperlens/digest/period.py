"""When a subscriber's next digest is due, and the key of the period it covers.

A period key names one digest per subscriber: ``2026-11-23`` for a daily
digest (the subscriber's local date), ``2026-W48`` for a weekly one (ISO
week). The outbox is unique on ``(subscription, period)``, so whoever
composes a period first wins and every later attempt is a no-op.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from paperlens.store.digest import Subscription

CADENCES: tuple[str, ...] = ("daily", "weekly")
CADENCE_LENGTH = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
MAX_LOOKBACK = {"daily": timedelta(days=3), "weekly": timedelta(days=14)}
"""A digest never reaches further back than this, even after a long pause."""


def zone(name: str) -> ZoneInfo:
    """The subscriber's time zone; an unknown name falls back to UTC."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def current_period(sub: Subscription, now: datetime) -> tuple[str, datetime]:
    """``(period key, scheduled send time)`` of the period containing ``now``.

    The scheduled time is ``send_hour`` in the subscriber's zone on the day
    (daily) or on ``weekday`` of the ISO week (weekly). Across a DST gap the
    wall time is resolved by ``zoneinfo`` (fold=0), so it still exists once.
    """
    tz = zone(sub.timezone)
    local = now.astimezone(tz)
    if sub.cadence == "daily":
        day = local.date()
        key = day.isoformat()
    else:
        monday = local.date() - timedelta(days=local.date().weekday())
        day = monday + timedelta(days=sub.weekday)
        year, week, _ = monday.isocalendar()
        key = f"{year}-W{week:02d}"
    scheduled = datetime.combine(day, time(hour=sub.send_hour), tzinfo=tz)
    return key, scheduled


def due_period(sub: Subscription, now: datetime) -> str | None:
    """The period whose digest should go out now, or None before its scheduled time."""
    key, scheduled = current_period(sub, now)
    return key if now >= scheduled else None


def since_for(sub: Subscription, last_digest_at: datetime | None, now: datetime) -> datetime:
    """Where this digest's papers start: the last digest, else one cadence ago (capped)."""
    floor = now - MAX_LOOKBACK[sub.cadence]
    if last_digest_at is None:
        return max(now - CADENCE_LENGTH[sub.cadence], floor)
    return max(last_digest_at, floor)
