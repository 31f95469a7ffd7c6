"""Trending: windows, the formula's terms, velocity from the series, exclusions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from paperlens.ingest import IngestReport, apply_batch
from paperlens.model import Observation, Record
from paperlens.rank.trending import TrendingWeights, trending, window_bounds
from paperlens.services import Services

NOW = datetime(2025, 4, 10, 12, tzinfo=UTC)


def _add(
    services: Services,
    n: int,
    *,
    featured: date | None = None,
    published: date | None = None,
    signals: list[Observation] = (),
) -> int:  # type: ignore[assignment]
    record = Record(
        source="test", source_key=f"k{n}", arxiv_id=f"2504.{n:05d}", title=f"Paper {n}",
        authors=["A. Author"], featured=featured, published=published, signals=list(signals),
        observed_at=NOW,
    )  # fmt: skip
    with services.store.transaction():
        apply_batch(services.store, [record], IngestReport())
    key = services.store.resolve(f"2504.{n:05d}")
    assert key is not None
    return key


def _up(value: float, hours_ago: float, source: str = "hf-daily") -> Observation:
    return Observation("upvotes", value, source, NOW - timedelta(hours=hours_ago))


@pytest.fixture
def clocked(settings):  # type: ignore[no-untyped-def]
    svc = Services(settings, clock=lambda: NOW)
    yield svc
    svc.close()


@pytest.mark.parametrize(
    ("window", "day", "start", "end"),
    [
        ("daily", date(2025, 4, 9), date(2025, 4, 9), date(2025, 4, 9)),
        ("weekly", date(2025, 4, 9), date(2025, 4, 7), date(2025, 4, 13)),
        ("weekly", date(2025, 4, 13), date(2025, 4, 7), date(2025, 4, 13)),
        ("monthly", date(2025, 2, 14), date(2025, 2, 1), date(2025, 2, 28)),
        ("monthly", date(2024, 12, 31), date(2024, 12, 1), date(2024, 12, 31)),
    ],
)
def test_window_bounds(window, day, start, end) -> None:  # type: ignore[no-untyped-def]
    assert window_bounds(window, day) == (start, end)


def test_daily_ranks_by_upvotes_and_includes_unvoted(clocked: Services) -> None:
    day = date(2025, 4, 9)
    a = _add(clocked, 1, featured=day, signals=[_up(10, 48)])
    b = _add(clocked, 2, featured=day, signals=[_up(30, 48)])
    c = _add(clocked, 3, featured=day)
    _add(clocked, 4, featured=day + timedelta(days=1), signals=[_up(99, 48)])
    # Published that day but featured another day: belongs to the featured day.
    _add(clocked, 5, published=day, featured=date(2025, 3, 1), signals=[_up(50, 48)])
    items = trending(clocked, window="daily", day=day)
    assert [i.key for i in items] == [b, a, c]
    assert items[0].breakdown["upvotes"] == 30
    assert items[0].inputs["upvotes"] == 30
    assert items[0].breakdown["decay"] == 1.0
    assert items[2].score == 0


def test_published_date_used_when_not_featured(clocked: Services) -> None:
    key = _add(clocked, 1, published=date(2025, 4, 9))
    assert [i.key for i in trending(clocked, window="daily", day=date(2025, 4, 9))] == [key]


def test_latest_per_source_summed_and_velocity(clocked: Services) -> None:
    day = date(2025, 4, 9)
    rising = _add(clocked, 1, featured=day,
                  signals=[_up(5, 30), _up(25, 1), _up(3, 2, "other")])  # fmt: skip
    flat = _add(clocked, 2, featured=day, signals=[_up(28, 30), _up(28, 1)])
    items = {i.key: i for i in trending(clocked, window="daily", day=day)}
    assert items[rising].inputs["upvotes"] == 25 + 3
    assert items[rising].inputs["velocity"] == 20  # 25 - 5 in the last 24 h; "other" started inside
    assert items[flat].inputs["velocity"] == 0
    assert items[rising].score > items[flat].score


def test_decay_orders_a_week_by_age(clocked: Services) -> None:
    old = _add(clocked, 1, featured=date(2025, 4, 7), signals=[_up(10, 48)])
    new = _add(clocked, 2, featured=date(2025, 4, 13), signals=[_up(10, 48)])
    items = trending(clocked, window="weekly", day=date(2025, 4, 9))
    assert [i.key for i in items] == [new, old]
    assert items[1].inputs["age_days"] == 6
    assert items[1].breakdown["decay"] == pytest.approx(0.5 ** (6 / 7))


def test_demo_votes_kept_apart_and_exclusions(clocked: Services) -> None:
    day = date(2025, 4, 9)
    demo = _add(clocked, 1, featured=day, signals=[_up(40, 48, "demo")])
    real = _add(clocked, 2, featured=day, signals=[_up(10, 48)])
    items = trending(clocked, window="daily", day=day)
    assert items[0].key == demo
    assert items[0].upvotes == 0 and items[0].demo_upvotes == 40
    assert [i.key for i in trending(clocked, window="daily", day=day, exclude_keys={demo})] == [
        real
    ]
    zero_demo = TrendingWeights(demo=0)
    assert trending(clocked, window="daily", day=day, weights=zero_demo)[0].key == real


def test_comments_stars_weights_and_paging(clocked: Services) -> None:
    day = date(2025, 4, 9)
    keys = [
        _add(clocked, n, featured=day, signals=[
            Observation("comments", n, "hf-daily", NOW - timedelta(hours=48)),
            Observation("github_stars", 10**n, "hf-daily", NOW - timedelta(hours=48)),
        ])
        for n in range(1, 5)
    ]  # fmt: skip
    items = trending(clocked, window="daily", day=day, limit=2, offset=1)
    assert [i.key for i in items] == [keys[2], keys[1]]
    assert items[0].breakdown["comments"] == pytest.approx(0.5 * 3)
    assert items[0].breakdown["stars"] == pytest.approx(1.0 * __import__("math").log1p(1000))


def test_weights_from_settings() -> None:
    class S:
        trending_upvotes = 3
        trending_half_life_days = 2.5

    w = TrendingWeights.from_settings(S())
    assert (w.upvotes, w.half_life_days, w.velocity) == (3.0, 2.5, 2.0)
