"""Accounts on a real SQLite file: sign-up/in, sessions, throttling, votes, lists, submissions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from paperlens.accounts import AccountError, Conflict, InvalidCredentials, RateLimited
from paperlens.accounts import lists as L
from paperlens.accounts import submissions as S
from paperlens.accounts import users as U
from paperlens.accounts import votes as V
from paperlens.errors import NotFound
from paperlens.ingest import IngestReport, apply_batch
from paperlens.model import Observation, Record
from paperlens.rank.trending import trending
from paperlens.services import Services
from paperlens.store.accounts import AccountStore


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 4, 10, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def svc(settings, clock):  # type: ignore[no-untyped-def]
    s = Services(settings, clock=clock)
    yield s
    s.close()


def _paper(svc: Services, n: int, signals: list[Observation] | None = None) -> int:
    rec = Record(source="test", source_key=f"k{n}", arxiv_id=f"2504.{n:05d}", title=f"Paper {n}",
                 featured=date(2025, 4, 9), signals=signals or [])  # fmt: skip
    with svc.store.transaction():
        apply_batch(svc.store, [rec], IngestReport())
    key = svc.store.resolve(f"2504.{n:05d}")
    assert key is not None
    return key


def test_sign_up_and_in(svc: Services) -> None:
    user = U.sign_up(svc, "Ada_L", "correct horse")
    assert U.authenticate(svc, "ada_l", "correct horse", address="1.2.3.4") == user
    with pytest.raises(Conflict):
        U.sign_up(svc, "ADA_L", "another password")
    row = AccountStore(svc.store).user(user.id)
    assert row is not None and row.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("username", "password"),
    [("a", "longenough"), ("has space", "longenough"), ("<script>", "longenough"),
     ("okname", "short"), ("okname", "x" * 600)],
)  # fmt: skip
def test_sign_up_refuses_bad_input(svc: Services, username: str, password: str) -> None:
    with pytest.raises(AccountError):
        U.sign_up(svc, username, password)


def test_same_error_for_unknown_user_and_wrong_password(svc: Services) -> None:
    U.sign_up(svc, "grace", "correct horse")
    with pytest.raises(InvalidCredentials) as wrong:
        U.authenticate(svc, "grace", "wrong horse", address="a")
    with pytest.raises(InvalidCredentials) as unknown:
        U.authenticate(svc, "nobody", "wrong horse", address="a")
    assert str(wrong.value) == str(unknown.value)


def test_rate_limit_per_user_then_window_passes(svc: Services, clock: Clock) -> None:
    U.sign_up(svc, "grace", "correct horse")
    for _ in range(U.MAX_FAILURES_PER_USER):
        with pytest.raises(InvalidCredentials):
            U.authenticate(svc, "grace", "nope nope", address="a")
    with pytest.raises(RateLimited):
        U.authenticate(svc, "grace", "correct horse", address="b")
    # An unknown name is throttled the same way (no enumeration by throttling).
    for _ in range(U.MAX_FAILURES_PER_USER):
        with pytest.raises(InvalidCredentials):
            U.authenticate(svc, "ghost", "nope nope", address="c")
    with pytest.raises(RateLimited):
        U.authenticate(svc, "ghost", "nope nope", address="c")
    clock.now += U.FAILURE_WINDOW + timedelta(seconds=1)
    assert U.authenticate(svc, "grace", "correct horse", address="b").username == "grace"


def test_sessions(svc: Services, clock: Clock) -> None:
    user = U.sign_up(svc, "grace", "correct horse")
    token = U.start_session(svc, user)
    assert U.session_user(svc, token) == user
    assert U.session_user(svc, token + "x") is None
    assert U.session_user(svc, None) is None
    U.end_session(svc, token)
    assert U.session_user(svc, token) is None
    token = U.start_session(svc, user)
    clock.now += timedelta(days=U.SESSION_DAYS + 1)
    assert U.session_user(svc, token) is None


def test_votes_once_per_user_withdrawable_and_in_trending(svc: Services, clock: Clock) -> None:
    key = _paper(svc, 1, [Observation("upvotes", 10, "hf-daily", clock.now - timedelta(days=2))])
    a = U.sign_up(svc, "alice", "password1")
    b = U.sign_up(svc, "bob42", "password1")
    assert V.set_vote(svc, a.id, key, on=True) == V.Upvotes(11, 0, True)
    clock.now += timedelta(seconds=1)
    assert V.set_vote(svc, a.id, key, on=True).real == 11
    clock.now += timedelta(seconds=1)
    assert V.set_vote(svc, b.id, key, on=True).real == 12
    item = trending(svc, window="daily", day=date(2025, 4, 9))[0]
    assert item.inputs["paperlens_votes"] == 2 and item.inputs["upvotes"] == 12
    assert item.inputs["velocity"] == 2
    clock.now += timedelta(seconds=1)
    assert V.set_vote(svc, a.id, key, on=False) == V.Upvotes(11, 0, False)
    assert V.upvotes(svc, [key], user_id=b.id)[key].voted


def test_demo_votes_are_separate(svc: Services, clock: Clock) -> None:
    keys = [_paper(svc, n) for n in range(1, 30)]
    real = _paper(svc, 99, [Observation("upvotes", 5, "hf-daily", clock.now)])
    assert not V.has_demo_votes(svc)
    seeded = V.seed_demo_votes(svc)
    assert 0 < seeded <= len(keys)
    assert V.has_demo_votes(svc)
    assert V.seed_demo_votes(svc) == 0
    counts = V.upvotes(svc, [*keys, real])
    assert counts[real] == V.Upvotes(5, 0, False)
    assert all(c.real == 0 for k, c in counts.items() if k != real)
    assert sum(c.demo for c in counts.values()) > 0


def test_lists(svc: Services) -> None:
    key = _paper(svc, 1)
    alice = U.sign_up(svc, "alice", "password1")
    bob = U.sign_up(svc, "bob42", "password1")
    row = L.create_list(svc, alice.id, "  To   read <b>now</b> ")
    assert row.name == "To read <b>now</b>" and not row.public
    assert L.add_paper(svc, alice.id, row.slug, key)
    assert not L.add_paper(svc, alice.id, row.slug, key)
    L.update_entry(svc, alice.id, row.slug, key, note="see §3", read=True)
    (entry,) = L.entries(svc, L.get_list(svc, row.slug, viewer=alice.id))
    assert (entry.note, entry.read, entry.paper.title) == ("see §3", True, "Paper 1")
    with pytest.raises(NotFound):
        L.get_list(svc, row.slug, viewer=bob.id)
    with pytest.raises(NotFound):
        L.add_paper(svc, bob.id, row.slug, key)
    L.update_list(svc, alice.id, row.slug, name="Public", public=True)
    assert L.get_list(svc, row.slug, viewer=None).name == "Public"
    assert L.lists_containing(svc, alice.id, key) == {row.id}
    assert L.remove_paper(svc, alice.id, row.slug, key)
    L.delete_list(svc, alice.id, row.slug)
    with pytest.raises(NotFound):
        L.get_list(svc, row.slug, viewer=alice.id)
    with pytest.raises(AccountError):
        L.create_list(svc, alice.id, "   ")
    L.set_not_interested(svc, alice.id, key, on=True)
    assert L.not_interested(svc, alice.id) == {key}
    L.set_not_interested(svc, alice.id, key, on=False)
    assert L.not_interested(svc, alice.id) == set()


def test_submissions(svc: Services) -> None:
    _paper(svc, 7)
    user = U.sign_up(svc, "alice", "password1")
    known = S.submit(svc, user.id, "https://arxiv.org/abs/2504.00007v2")
    assert known.submission.status == "fetched" and known.paper_id
    queued = S.submit(svc, user.id, "arXiv:2401.01234")
    assert queued.submission.status == "queued" and queued.submission.arxiv_id == "2401.01234"
    assert S.submit(svc, user.id, "2401.01234").submission.id == queued.submission.id
    with pytest.raises(AccountError):
        S.submit(svc, user.id, "not a paper")
    assert [s.arxiv_id for s in AccountStore(svc.store).queued_submissions()] == ["2401.01234"]
