"""Delivery over a real SMTP server: the message, failures, retries, bounces, rate limit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from digest_support import (
    AfterDrop,
    Clock,
    SmtpServer,
    active_subscriber,
    add_records,
    digest_settings,
    free_port,
    html_part,
    links_in,
    record,
    text_part,
)

from paperlens.digest import prefs
from paperlens.digest.env import DigestEnv
from paperlens.digest.outbox import backoff
from paperlens.digest.run import deliver, run
from paperlens.digest.send import RateLimiter, wire_data
from paperlens.model import Record


def _fresh_paper(env: DigestEnv, n: int) -> None:
    """A paper published today, so a daily digest has something new."""
    today = env.now().date()
    add_records(env.services, [record(100 + n, f"Fresh result number {n}", day=today, upvotes=5)])


def _states(env: DigestEnv) -> dict[str, int]:
    return {k: v for k, v in env.db.outbox_counts().items() if k != "skipped"}


def test_digest_arrives_as_multipart_with_one_click_unsubscribe(
    env: DigestEnv, papers: list[Record], smtp_server: SmtpServer
) -> None:
    sub = active_subscriber(env, trending_count=2)
    prefs.follow(env, sub, "author", "Jane Doe")
    report = run(env)
    assert report.queued == 1 and report.delivery and report.delivery.sent == 1
    (received,) = smtp_server.messages
    msg = received.message
    assert received.rcpt_tos == ["reader@example.org"]
    assert received.mail_from == "digest@paperlens.test"
    assert msg["To"] == "reader@example.org"
    assert msg["From"] == "paperlens digest <digest@paperlens.test>"
    assert msg["Subject"].startswith("paperlens: 3 new papers: Diffusion Distillation")
    assert re.fullmatch(r"<[\d.]+\.digest\.1\.2026-W48@paperlens\.test>", msg["Message-ID"])
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = msg["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://testserver/digest/unsubscribe?token=")
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    text, html = text_part(msg), html_part(msg)
    for body in (text, html):
        assert "Diffusion Distillation for Fast Image Synthesis" in body
        assert "trending this week: 120 upvotes" in body
        assert "you follow Jane Doe" in body
    assert "<script" not in html.lower()
    assert 'style="' in html and "<style" not in html.lower()
    links = set(links_in(text))
    assert unsubscribe.strip("<>") in links
    assert all(link.startswith("http://testserver/") for link in links | set(links_in(html)))
    row = env.db.outbox(states=("sent",))[0]
    assert row.message_id == msg["Message-ID"] and row.attempts == 1


def test_running_again_sends_nothing_new(
    env: DigestEnv, papers: list[Record], smtp_server: SmtpServer
) -> None:
    active_subscriber(env)
    run(env)
    run(env)
    again = run(env)
    assert again.already == 1 and again.queued == 0
    assert len(smtp_server.messages) == 1


def test_451_is_retried_with_backoff_then_delivered(
    env: DigestEnv, papers: list[Record], smtp_server: SmtpServer
) -> None:
    clock: Clock = env.services.clock  # type: ignore[assignment]
    active_subscriber(env)
    smtp_server.behaviour.rcpt = ["451 4.3.0 mailbox busy", "451 4.3.0 mailbox busy"]
    first = run(env)
    assert first.delivery and first.delivery.retried == 1
    (row,) = env.db.outbox(states=("retry",))
    assert row.last_code == 451 and row.attempts == 1
    assert row.next_attempt_at > clock.now.isoformat()
    assert deliver(env).sent == 0  # not due yet: nothing is attempted early
    clock.advance(seconds=60)
    assert deliver(env).retried == 1
    (row,) = env.db.outbox(states=("retry",))
    assert row.attempts == 2  # second delay is twice the first
    clock.advance(seconds=119)
    assert deliver(env).retried == 0
    clock.advance(seconds=1)
    assert deliver(env).sent == 1
    assert len(smtp_server.messages) == 1
    assert _states(env) == {"sent": 1}


def test_temporary_failures_give_up_after_max_attempts(
    services: object, papers: list[Record], smtp_server: SmtpServer
) -> None:
    env = DigestEnv(services, digest_settings(smtp_server.port, mail_max_attempts=2))  # type: ignore[arg-type]
    clock: Clock = env.services.clock  # type: ignore[assignment]
    active_subscriber(env)
    smtp_server.behaviour.data = ["451 later", "452 still later"]
    run(env)
    clock.advance(hours=1)
    assert deliver(env).failed == 1
    (row,) = env.db.outbox(states=("failed",))
    assert row.last_code == 452
    # the papers of a message that never arrived may go out in a later digest
    assert env.db.sent_papers_for([row.subscription_id]) == {}


def test_550_fails_and_repeated_bounces_pause_the_subscriber(
    env: DigestEnv, papers: list[Record], smtp_server: SmtpServer
) -> None:
    clock: Clock = env.services.clock  # type: ignore[assignment]
    sub = active_subscriber(env, cadence="daily")
    for day in range(3):
        _fresh_paper(env, day)
        smtp_server.behaviour.rcpt = ["550 5.1.1 no such user"]
        report = run(env)
        assert report.delivery and report.delivery.failed == 1, day
        clock.advance(days=1)
    _fresh_paper(env, 3)
    subscription = env.db.subscription(sub)
    assert subscription and subscription.status == "paused"
    assert report.delivery.paused == ["reader@example.org"]
    assert run(env).due == 0  # a paused subscriber gets nothing
    assert smtp_server.messages == []


def test_a_success_resets_the_bounce_count(
    env: DigestEnv, papers: list[Record], smtp_server: SmtpServer
) -> None:
    clock: Clock = env.services.clock  # type: ignore[assignment]
    sub = active_subscriber(env, cadence="daily")
    smtp_server.behaviour.data = ["554 5.7.1 rejected"]
    run(env)
    assert env.db.subscription(sub).bounce_count == 1  # type: ignore[union-attr]
    clock.advance(days=1)
    _fresh_paper(env, 1)
    run(env)
    assert env.db.subscription(sub).bounce_count == 0  # type: ignore[union-attr]
    assert len(smtp_server.messages) == 1


def test_connection_dropped_mid_data_is_retried(
    env: DigestEnv, papers: list[Record], smtp_server: SmtpServer
) -> None:
    clock: Clock = env.services.clock  # type: ignore[assignment]
    active_subscriber(env)
    smtp_server.behaviour.drop_mid_data = 1  # closes right after "354 End data with ..."
    with env.transport() as smtp:
        first = run(env, transport=AfterDrop(smtp, smtp_server.behaviour.dropped))
    assert first.delivery and first.delivery.retried == 1, env.db.outbox()
    (row,) = env.db.outbox(states=("retry",))
    assert row.last_code is None and "body" in (row.last_error or "")
    assert smtp_server.messages == []
    clock.advance(minutes=5)
    assert deliver(env).sent == 1
    assert len(smtp_server.messages) == 1


def test_connection_dropped_while_the_body_is_read_never_duplicates(
    env: DigestEnv, papers: list[Record], smtp_server: SmtpServer
) -> None:
    """A drop racing our last write is either seen (retry) or not (unknown): never a duplicate."""
    clock: Clock = env.services.clock  # type: ignore[assignment]
    active_subscriber(env)
    smtp_server.behaviour.drop_mid_data = 1
    smtp_server.behaviour.drop_after_lines = 3
    first = run(env)
    assert first.delivery and first.delivery.retried + first.delivery.unknown == 1
    assert smtp_server.messages == []
    clock.advance(minutes=5)
    later = deliver(env)
    assert len(smtp_server.messages) == later.sent <= 1
    assert sum(env.db.outbox_counts().values()) == 1


def test_slow_server_hits_the_timeout_and_is_retried(
    services: object, papers: list[Record], smtp_server: SmtpServer
) -> None:
    env = DigestEnv(services, digest_settings(smtp_server.port, smtp_timeout=0.3))  # type: ignore[arg-type]
    clock: Clock = env.services.clock  # type: ignore[assignment]
    active_subscriber(env)
    smtp_server.behaviour.ehlo_delay = 1.0
    first = run(env)
    assert first.delivery and first.delivery.retried == 1
    (row,) = env.db.outbox(states=("retry",))
    assert "timed out" in (row.last_error or "")
    smtp_server.behaviour.ehlo_delay = 0
    clock.advance(minutes=5)
    assert deliver(env).sent == 1
    assert len(smtp_server.messages) == 1


def test_no_reply_after_the_final_dot_is_unknown_and_not_resent(
    services: object, papers: list[Record], smtp_server: SmtpServer
) -> None:
    env = DigestEnv(services, digest_settings(smtp_server.port, smtp_data_timeout=0.3))  # type: ignore[arg-type]
    clock: Clock = env.services.clock  # type: ignore[assignment]
    active_subscriber(env)
    smtp_server.behaviour.slow_reply_after_store = 1.0
    first = run(env)
    assert first.delivery and first.delivery.unknown == 1
    smtp_server.behaviour.slow_reply_after_store = 0
    clock.advance(days=1)
    assert deliver(env).sent == 0
    assert len(smtp_server.messages) == 1  # the server had it: resending would duplicate
    # An operator who knows it was lost can resend it, with the same Message-ID.
    resent = deliver(env, resend_unknown=True)
    assert resent.sent == 1
    ids = smtp_server.handler.by_message_id()
    assert list(ids.values()) == [2] and len(ids) == 1


def test_refused_connection_is_temporary(
    services: object, papers: list[Record], smtp_server: SmtpServer
) -> None:
    env = DigestEnv(services, digest_settings(free_port()))  # type: ignore[arg-type]
    active_subscriber(env)
    report = run(env)
    assert report.delivery and report.delivery.retried == 1
    (row,) = env.db.outbox(states=("retry",))
    assert row.last_error and row.last_error.startswith("connect:")


def test_one_connection_carries_many_messages(
    env: DigestEnv, papers: list[Record], smtp_server: SmtpServer
) -> None:
    for i in range(5):
        active_subscriber(env, f"r{i}@example.org")
    report = run(env)
    assert report.delivery and report.delivery.sent == 5
    assert smtp_server.handler.connections == 1
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        f"r{i}@example.org" for i in range(5)
    ]


def test_rate_limit_spaces_messages() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(120, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.wait()
    assert slept == [0.5, 0.5, 0.5, 0.5]
    assert now[0] == pytest.approx(2.0)


def test_rate_limit_applies_to_delivery(
    env: DigestEnv, papers: list[Record], smtp_server: SmtpServer
) -> None:
    for i in range(3):
        active_subscriber(env, f"r{i}@example.org")
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    report = run(env, limiter=RateLimiter(30, clock=lambda: now[0], sleep=sleep))
    assert report.delivery and report.delivery.sent == 3
    assert slept == [2.0, 2.0]


def test_backoff_doubles_and_is_capped() -> None:
    s = digest_settings(25, mail_retry_base_seconds=10, mail_retry_max_seconds=50)
    assert [backoff(n, s) for n in (1, 2, 3, 4)] == [
        timedelta(seconds=10),
        timedelta(seconds=20),
        timedelta(seconds=40),
        timedelta(seconds=50),
    ]


@pytest.mark.parametrize(
    ("raw", "wire"),
    [
        (b"a\nb", b"a\r\nb\r\n"),
        (b"a\r\n.b\r\n", b"a\r\n..b\r\n"),
        (b".start", b"..start\r\n"),
        (b"a\r\n.\r\nb", b"a\r\n..\r\nb\r\n"),
        (b"a\rb\r\n", b"a\r\nb\r\n"),
    ],
)
def test_wire_data_dot_stuffs_and_normalises_line_ends(raw: bytes, wire: bytes) -> None:
    assert wire_data(raw) == wire
