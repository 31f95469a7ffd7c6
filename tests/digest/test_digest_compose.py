"""Composition: what a subscriber gets, why, and what is never repeated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from digest_support import NOW, Clock, active_subscriber, add_records, record

from paperlens.digest import prefs
from paperlens.digest.compose import ComposeContext, compose, person_key
from paperlens.digest.env import DigestEnv
from paperlens.digest.period import current_period, due_period, since_for
from paperlens.digest.run import preview, queue_due
from paperlens.model import Record
from paperlens.store.digest import Subscription


def _digest(env: DigestEnv, sub_id: int):  # type: ignore[no-untyped-def]
    sub = env.db.subscription(sub_id)
    assert sub is not None
    digest, _ = preview(env, sub)
    return digest


def _titles(items) -> list[str]:  # type: ignore[no-untyped-def]
    return [i.paper.title for i in items]


def test_trending_section_ranks_by_score_and_says_why(env: DigestEnv, papers: list[Record]) -> None:
    sub = active_subscriber(env, trending_count=3, include_follows=False)
    digest = _digest(env, sub)
    assert _titles(digest.trending) == [
        "Diffusion Distillation for Fast Image Synthesis",  # 120 upvotes
        "Sparse Attention Kernels for Long Context Transformers",  # 80
        "Reinforcement Learning from Human Feedback Revisited",  # 60
    ]
    assert digest.trending[0].reasons == ["trending this week: 120 upvotes"]
    assert not digest.personal


def test_trending_leaves_out_old_and_unvoted_papers(env: DigestEnv, papers: list[Record]) -> None:
    sub = active_subscriber(env, trending_count=50)
    titles = _titles(_digest(env, sub).trending)
    assert "Old Paper on Diffusion Distillation Outside the Window" not in titles  # 40 days old
    assert "Consistency Models and Diffusion Distillation Theory" not in titles  # no signal


@pytest.mark.parametrize(
    ("kind", "value", "expected", "reason"),
    [
        ("author", "Jane Doe", {1, 4}, "you follow Jane Doe"),
        ("author", "Doe, Jane", {1, 4}, "you follow Doe, Jane"),
        ("author", "JANE DOE", {1, 4}, "you follow JANE DOE"),
        ("org", "DeepMind", {3, 9}, "you follow DeepMind"),
        ("category", "quant-ph", {8}, "you follow quant-ph"),
        ("category", "cs.cv", {1, 2, 9, 12}, "you follow cs.cv"),
    ],
)
def test_follows_pick_new_papers_with_their_reason(
    env: DigestEnv, papers: list[Record], kind: str, value: str, expected: set[int], reason: str
) -> None:
    sub = active_subscriber(env, include_trending=False)
    prefs.follow(env, sub, kind, value)
    digest = _digest(env, sub)
    got = {int(i.paper.arxiv_id.split(".")[1]) for i in digest.personal}  # type: ignore[union-attr]
    assert got == expected  # paper 10 (Jane Doe, 40 days old) is not new
    assert all(reason in i.reasons for i in digest.personal)


def test_saved_search_requires_every_word(env: DigestEnv, papers: list[Record]) -> None:
    sub = active_subscriber(env, include_trending=False)
    prefs.save_search(env, sub, "diffusion distillation")
    digest = _digest(env, sub)
    assert set(_titles(digest.personal)) == {
        "Diffusion Distillation for Fast Image Synthesis",
        "Progressive Diffusion Distillation at Scale",
        "Consistency Models and Diffusion Distillation Theory",
    }
    assert all(
        i.reasons == ["matches your saved search 'diffusion distillation'"] for i in digest.personal
    )


def test_a_paper_matching_twice_keeps_both_reasons_and_ranks_first(
    env: DigestEnv, papers: list[Record]
) -> None:
    sub = active_subscriber(env, include_trending=False)
    prefs.follow(env, sub, "author", "Jane Doe")
    prefs.save_search(env, sub, "diffusion distillation")
    digest = _digest(env, sub)
    first = digest.personal[0]
    assert first.paper.title == "Diffusion Distillation for Fast Image Synthesis"
    assert first.reasons == [
        "you follow Jane Doe",
        "matches your saved search 'diffusion distillation'",
    ]


def test_trending_paper_that_is_also_followed_appears_once(
    env: DigestEnv, papers: list[Record]
) -> None:
    sub = active_subscriber(env, trending_count=1)
    prefs.follow(env, sub, "author", "Jane Doe")
    digest = _digest(env, sub)
    assert _titles(digest.trending) == ["Diffusion Distillation for Fast Image Synthesis"]
    assert digest.trending[0].reasons == ["trending this week: 120 upvotes", "you follow Jane Doe"]
    assert _titles(digest.personal) == ["A Survey of Retrieval Augmented Generation"]


def test_papers_already_sent_are_never_sent_again(env: DigestEnv, papers: list[Record]) -> None:
    clock: Clock = env.services.clock  # type: ignore[assignment]
    sub = active_subscriber(env, trending_count=2)
    prefs.follow(env, sub, "author", "Jane Doe")
    first = queue_due(env)
    assert first.queued == 1
    sent = {r[0] for r in env.db.conn.execute("SELECT paper FROM digest_sent_papers")}
    assert len(sent) == 3  # two trending + paper 4 by Jane Doe
    # A week later, one new paper by Jane Doe and a new trending one.
    clock.advance(days=7)
    today = clock.now.date()
    add_records(
        env.services,
        [
            record(20, "Jane Doe Returns", day=today, authors=["Jane Doe"], upvotes=1),
            record(21, "A Very Popular Paper", day=today, upvotes=900),
        ],
    )
    second = _digest(env, sub)
    keys = {i.key for i in second.items}
    assert not keys & sent
    assert set(_titles(second.items)) == {"Jane Doe Returns", "A Very Popular Paper"}


def reader_with_list(env: DigestEnv, user_id: int, name: str, paper: int | None) -> None:
    """A user ``name`` whose one reading list holds ``paper``."""
    now = NOW.isoformat()
    conn = env.db.conn
    conn.execute("INSERT INTO users (id, username, username_key, password_hash, created_at)"
                 " VALUES (?, ?, ?, 'x', ?)", (user_id, name, name, now))  # fmt: skip
    conn.execute("INSERT INTO lists (id, slug, user_id, name, created_at, updated_at)"
                 " VALUES (?, ?, ?, 'reading', ?, ?)",
                 (user_id, f"list-{user_id}", user_id, now, now))  # fmt: skip
    conn.execute("INSERT INTO list_items (list_id, paper, added_at) VALUES (?, ?, ?)",
                 (user_id, paper, now))  # fmt: skip


def test_list_papers_and_not_interested_are_excluded(env: DigestEnv, papers: list[Record]) -> None:
    reader_with_list(env, 7, "ann", env.services.store.resolve("2611.00001"))
    key3 = env.services.store.resolve("2611.00003")
    env.db.conn.execute("INSERT INTO not_interested VALUES (7, ?, ?)", (key3, NOW.isoformat()))
    sub = active_subscriber(env, user_id=7, trending_count=3, include_similar=False)
    titles = _titles(_digest(env, sub).items)
    assert "Diffusion Distillation for Fast Image Synthesis" not in titles  # in a list
    assert "Sparse Attention Kernels for Long Context Transformers" not in titles  # not interested
    assert titles[:1] == ["Reinforcement Learning from Human Feedback Revisited"]


def test_similar_to_a_list_paper(env: DigestEnv, papers: list[Record]) -> None:
    seed = env.services.store.resolve("2611.00010")  # the old diffusion distillation paper
    reader_with_list(env, 8, "bo", seed)
    sub = active_subscriber(env, user_id=8, include_trending=False)
    digest = _digest(env, sub)
    assert digest.personal, "expected papers similar to the list paper"
    reason = "similar to 'Old Paper on Diffusion Distillation Outside the Window' in your list"
    assert all(reason in i.reasons for i in digest.personal)
    assert "Progressive Diffusion Distillation at Scale" in _titles(digest.personal)


def test_nothing_new_gives_an_empty_digest_that_is_not_queued(env: DigestEnv) -> None:
    sub = active_subscriber(env)
    assert _digest(env, sub).empty
    report = queue_due(env)
    assert report.empty == 1 and report.queued == 0
    assert env.db.outbox_counts() == {"skipped": 1}


def test_context_is_shared_between_subscribers(env: DigestEnv, papers: list[Record]) -> None:
    ids = [active_subscriber(env, f"r{i}@example.org") for i in range(5)]
    for sub in ids:
        prefs.save_search(env, sub, "diffusion distillation")
    subs = [env.db.subscription(i) for i in ids]
    ctx = ComposeContext(env.services, now=NOW)
    digests = [compose(ctx, p) for p in ctx.profiles(subs)]  # type: ignore[arg-type]
    assert len({tuple(_titles(d.items)) for d in digests}) == 1
    assert len(ctx._search_cache) == 1


@pytest.mark.parametrize(
    ("cadence", "tz", "hour", "now", "period", "due"),
    [
        ("daily", "UTC", 7, "2026-11-23T06:59:00+00:00", "2026-11-23", False),
        ("daily", "UTC", 7, "2026-11-23T07:00:00+00:00", "2026-11-23", True),
        ("daily", "Asia/Tokyo", 7, "2026-11-23T00:00:00+00:00", "2026-11-23", True),  # 09:00 JST
        ("daily", "America/New_York", 7, "2026-11-23T03:00:00+00:00", "2026-11-22", True),
        ("daily", "America/New_York", 7, "2026-11-23T11:00:00+00:00", "2026-11-23", False),
        ("weekly", "UTC", 7, "2026-11-23T08:00:00+00:00", "2026-W48", True),
        ("weekly", "UTC", 7, "2026-11-29T23:00:00+00:00", "2026-W48", True),
        ("weekly", "Europe/Berlin", 7, "2026-11-23T05:00:00+00:00", "2026-W48", False),
        ("weekly", "Nowhere/Atlantis", 7, "2026-11-23T08:00:00+00:00", "2026-W48", True),
    ],
)
def test_periods_and_due_times(
    cadence: str, tz: str, hour: int, now: str, period: str, due: bool
) -> None:
    sub = Subscription(id=1, email="a@b.c", cadence=cadence, timezone=tz, send_hour=hour)
    when = datetime.fromisoformat(now)
    assert current_period(sub, when)[0] == period
    assert (due_period(sub, when) == period) is due


def test_since_is_the_last_digest_capped_by_the_lookback() -> None:
    sub = Subscription(id=1, email="a@b.c", cadence="weekly")
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert since_for(sub, None, now) == now - timedelta(days=7)
    assert since_for(sub, now - timedelta(days=3), now) == now - timedelta(days=3)
    assert since_for(sub, now - timedelta(days=90), now) == now - timedelta(days=14)


@pytest.mark.parametrize(
    ("name", "key"),
    [("Jane Doe", "jane doe"), ("Doe, Jane", "jane doe"), ("Jané  Döe", "jane doe")],
)
def test_person_key(name: str, key: str) -> None:
    assert person_key(name) == key


def test_similar_uses_stored_vectors_when_papers_have_them(
    env: DigestEnv, papers: list[Record]
) -> None:
    """Meaning, not words: the list paper's nearest vector wins although no title word is shared."""
    import numpy as np

    store = env.services.store
    model = env.services.model_name
    keys = {n: store.resolve(f"2611.{n:05d}") for n in (1, 5, 8, 10, 11)}
    rng = np.random.default_rng(0)
    base = rng.normal(size=384).astype("<f4")
    rows = []
    for n, key in keys.items():
        vector = rng.normal(size=384).astype("<f4")  # unrelated to everything else
        if n in (10, 5):  # the list paper, and "Graph Neural Networks for Molecules"
            vector = base + 0.05 * rng.normal(size=384).astype("<f4")
        rows.append((key, f"hash{n}", vector.astype("<f4").tobytes()))
    with store.transaction():
        store.save_embeddings(model, rows)  # type: ignore[attr-defined]
    reader_with_list(env, 9, "cy", keys[10])
    sub = active_subscriber(env, user_id=9, include_trending=False)
    digest = _digest(env, sub)
    assert _titles(digest.personal) == ["Graph Neural Networks for Molecules"]
    reason = "similar to 'Old Paper on Diffusion Distillation Outside the Window' in your list"
    assert digest.personal[0].reasons == [reason]
