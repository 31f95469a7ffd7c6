"""Trending papers for a day, an ISO week or a month, with the terms of each score.

A paper is *in* a window when its featured date (the day a curated list such
as Hugging Face Daily Papers showed it) falls inside, else its published date.
Its score is::

    points = w_upvotes  * upvotes              latest count per source, summed (+ our votes)
           + w_velocity * velocity             upvotes gained per day, last ``velocity_hours``
           + w_comments * comments             latest count per source, summed
           + w_stars    * log1p(github_stars)  largest latest count (log: stars grow huge)
           + w_demo     * demo_upvotes         source "demo", seeded by ``paperlens demo``
    score  = points * 0.5 ** (age_days / half_life_days)

where ``age_days`` counts from the paper's date to the window's last day (so
in a weekly or monthly window newer papers need fewer votes, and in a daily
window every paper has the same decay). Papers with no signals still appear,
after the voted ones, newest first: a day's list is all of that day's papers.

Why latest-per-source and a sum: each source reports a running total (HF
upvotes, our own votes), so the newest observation is the count and
different sources count different people. Velocity uses the same series:
the gain since the last observation at or before ``as_of - velocity_hours``;
when a series starts inside that span the gain is counted from its first
observation, so a paper ingested today with 35 old upvotes is not "rising"
(votes cast here, source "paperlens", count from zero: we saw every one).

Weights are a :class:`TrendingWeights`; :meth:`TrendingWeights.from_settings`
reads ``trending_*`` fields from ``Settings`` when they exist. The formula is
documented for users in docs/trending.md.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from paperlens.model import Paper
from paperlens.store.trending import SignalRow, TrendingQueries

if TYPE_CHECKING:
    from paperlens.services import Services

Window = Literal["daily", "weekly", "monthly"]
WINDOWS: tuple[str, ...] = ("daily", "weekly", "monthly")
DEMO_SOURCE = "demo"
"""Upvotes seeded by ``paperlens demo --demo-votes``; always shown as demo data."""
VOTE_SOURCE = "paperlens"
"""Upvotes cast on this site (``accounts/votes.py``)."""
_KINDS = ("upvotes", "comments", "github_stars")


@dataclass(frozen=True, slots=True)
class TrendingWeights:
    """The knobs of the trending formula (see the module docstring)."""

    upvotes: float = 1.0
    velocity: float = 2.0
    comments: float = 0.5
    stars: float = 1.0
    demo: float = 1.0
    half_life_days: float = 7.0
    velocity_hours: float = 24.0

    @classmethod
    def from_settings(cls, settings: Any) -> TrendingWeights:
        """Weights from ``settings.trending_<field>`` where present, defaults otherwise."""
        given = {}
        for f in fields(cls):
            value = getattr(settings, f"trending_{f.name}", None)
            if value is not None:
                given[f.name] = float(value)
        return cls(**given)


@dataclass(slots=True)
class TrendingItem:
    """A paper in a trending list, its score and the terms that make it up.

    ``breakdown`` holds each term's points before decay (``upvotes``,
    ``velocity``, ``comments``, ``stars``, ``demo_upvotes``) and the ``decay``
    multiplier; ``inputs`` the raw numbers behind them (counts, per-day gain,
    ``age_days``).
    """

    paper: Paper
    key: int
    score: float
    breakdown: dict[str, float]
    inputs: dict[str, float] = field(default_factory=dict)
    day: date | None = None
    """The date that put the paper in the window (featured, else published)."""

    @property
    def demo_upvotes(self) -> int:
        return int(self.inputs.get("demo_upvotes", 0))

    @property
    def upvotes(self) -> int:
        """Real upvotes: every source but the demo seed."""
        return int(self.inputs.get("upvotes", 0))

    def to_json(self) -> dict[str, Any]:
        data = self.paper.to_json()
        for name in ("claims", "signals", "extra"):
            data.pop(name, None)
        return {
            "paper": data,
            "score": round(self.score, 6),
            "breakdown": {k: round(v, 6) for k, v in self.breakdown.items()},
            "inputs": {k: round(v, 6) for k, v in self.inputs.items()},
            "day": self.day.isoformat() if self.day else None,
        }


def window_bounds(window: Window, day: date) -> tuple[date, date]:
    """First and last day of the window containing ``day`` (ISO weeks start on Monday)."""
    if window == "daily":
        return day, day
    if window == "weekly":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if window == "monthly":
        start = day.replace(day=1)
        nxt = (start + timedelta(days=32)).replace(day=1)
        return start, nxt - timedelta(days=1)
    raise ValueError(f"unknown window {window!r}; choose one of {', '.join(WINDOWS)}")


def trending(
    services: Services,
    *,
    window: Window,
    day: date,
    limit: int = 30,
    offset: int = 0,
    exclude_keys: Collection[int] = (),
    weights: TrendingWeights | None = None,
    as_of: datetime | None = None,
) -> list[TrendingItem]:
    """The trending papers of the window containing ``day``, best first."""
    scored = score_window(services, window=window, day=day, weights=weights, as_of=as_of)
    excluded = set(exclude_keys)
    if excluded:
        scored = [s for s in scored if s.key not in excluded]
    page = scored[offset : offset + limit]
    by_key = services.store.papers_by_key([s.key for s in page])
    items = []
    for s in page:
        paper = by_key.get(s.key)
        if paper is not None:
            items.append(
                TrendingItem(paper, s.key, s.score, s.breakdown, inputs=s.inputs, day=s.day)
            )
    return items


@dataclass(slots=True)
class ScoredKey:
    """A paper's score before its displayed fields are loaded."""

    key: int
    day: date
    score: float
    breakdown: dict[str, float]
    inputs: dict[str, float]


def score_window(
    services: Services,
    *,
    window: Window,
    day: date,
    weights: TrendingWeights | None = None,
    as_of: datetime | None = None,
) -> list[ScoredKey]:
    """Every paper of the window, scored and sorted; no paper rows are loaded.

    Callers that page through the same window many times (the web app) cache
    this list; :func:`trending` is this plus the page slice and paper rows.
    """
    if weights is None:
        weights = TrendingWeights.from_settings(services.settings)
    if as_of is None:
        as_of = services.clock()
    start, end = window_bounds(window, day)
    queries = TrendingQueries(services.store)
    shown = dict(queries.window_papers(start, end))
    series = _series(queries.signals_in_window(start, end, _KINDS))
    cutoff = as_of - timedelta(hours=weights.velocity_hours)
    out = []
    for key, when in shown.items():
        inputs = _inputs(
            series.get(key, {}), cutoff=cutoff, as_of=as_of, hours=weights.velocity_hours
        )
        inputs["age_days"] = float(max((end - when).days, 0))
        breakdown = {
            "upvotes": weights.upvotes * inputs["upvotes"],
            "velocity": weights.velocity * inputs["velocity"],
            "comments": weights.comments * inputs["comments"],
            "stars": weights.stars * math.log1p(inputs["github_stars"]),
            "demo_upvotes": weights.demo * inputs["demo_upvotes"],
        }
        decay = 1.0
        if weights.half_life_days > 0:
            decay = 0.5 ** (inputs["age_days"] / weights.half_life_days)
        breakdown["decay"] = decay
        points = sum(v for k, v in breakdown.items() if k != "decay")
        out.append(ScoredKey(key, when, points * decay, breakdown, inputs))
    out.sort(key=lambda s: (-s.score, -s.day.toordinal(), s.key))
    return out


def _series(
    rows: list[SignalRow],
) -> dict[int, dict[tuple[str, str], list[tuple[datetime, float]]]]:
    """Rows grouped as ``{paper: {(kind, source): [(when, value), ...]}}``, oldest first."""
    out: dict[int, dict[tuple[str, str], list[tuple[datetime, float]]]] = {}
    for row in rows:
        when = datetime.fromisoformat(row.observed_at)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        out.setdefault(row.paper, {}).setdefault((row.kind, row.source), []).append(
            (when, row.value)
        )
    return out


def _inputs(
    series: dict[tuple[str, str], list[tuple[datetime, float]]],
    *,
    cutoff: datetime,
    as_of: datetime,
    hours: float,
) -> dict[str, float]:
    """Raw inputs for one paper: latest counts, per-day gain, demo counts kept apart."""
    upvotes = comments = stars = gain = demo = votes = 0.0
    for (kind, source), points in series.items():
        seen = [(t, v) for t, v in points if t <= as_of]
        if not seen:
            continue
        latest = seen[-1][1]
        if kind == "upvotes":
            if source == DEMO_SOURCE:
                demo += latest
                continue
            upvotes += latest
            before = [v for t, v in seen if t <= cutoff]
            if source == VOTE_SOURCE:
                votes = latest
                # Our own votes start from zero, so a first vote is a gain of one.
                baseline = before[-1] if before else 0.0
            else:
                baseline = before[-1] if before else seen[0][1]
            gain += max(latest - baseline, 0.0)
        elif kind == "comments":
            comments += latest
        elif kind == "github_stars":
            stars = max(stars, latest)
    per_day = gain * 24.0 / hours if hours > 0 else 0.0
    return {
        "upvotes": upvotes,
        "velocity": per_day,
        "comments": comments,
        "github_stars": stars,
        "demo_upvotes": demo,
        "paperlens_votes": votes,
    }
