"""Double opt-in, signed links, and what cannot be smuggled into a header."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from digest_support import (
    Clock,
    SmtpServer,
    active_subscriber,
    digest_settings,
    html_part,
    links_in,
    text_part,
)
from pydantic import ValidationError

from paperlens.digest import optin, prefs
from paperlens.digest.env import DigestEnv
from paperlens.digest.optin import InvalidAddress
from paperlens.digest.render import HeaderInjection, checked_address, header_text
from paperlens.digest.run import deliver, run
from paperlens.digest.tokens import InvalidToken, Tokens
from paperlens.model import Record


def _confirm_link(smtp_server: SmtpServer, index: int = -1) -> str:
    msg = smtp_server.messages[index].message
    (link,) = [u for u in links_in(text_part(msg)) if "/digest/confirm" in u]
    return link


def _token(url: str) -> str:
    return parse_qs(urlparse(url).query)["token"][0]


def test_subscribe_sends_one_confirmation_and_nothing_else(
    env: DigestEnv, papers: list[Record], smtp_server: SmtpServer
) -> None:
    outcome = optin.subscribe(env, "New.Reader@Example.org")
    assert outcome.confirmation_queued
    report = run(env)
    assert report.due == 0  # not confirmed: no digest
    assert report.delivery and report.delivery.sent == 1
    (received,) = smtp_server.messages
    msg = received.message
    assert received.rcpt_tos == ["new.reader@example.org"]
    assert msg["Subject"] == "Confirm your paperlens digest subscription"
    assert "List-Unsubscribe" not in msg
    link = _confirm_link(smtp_server)
    assert link.startswith("http://testserver/digest/confirm?token=")
    assert link in html_part(msg).replace("&amp;", "&")
    sub = optin.confirm(env, _token(link))
    assert sub.status == "active" and sub.email == "new.reader@example.org"
    assert optin.confirm(env, _token(link)).status == "active"  # opening it twice is fine
    assert run(env).queued == 1  # now the digest goes out
    assert len(smtp_server.messages) == 2


def test_subscribing_twice_sends_one_confirmation_and_answers_the_same(
    env: DigestEnv, smtp_server: SmtpServer
) -> None:
    first = optin.subscribe(env, "twice@example.org")
    second = optin.subscribe(env, "Twice@Example.ORG")
    active_subscriber(env, "known@example.org")
    third = optin.subscribe(env, "known@example.org")
    assert first.answer == second.answer == third.answer
    assert (first.confirmation_queued, second.confirmation_queued) == (True, False)
    assert not third.confirmation_queued  # already active: nothing to confirm, nothing said
    deliver(env)
    assert [m.rcpt_tos for m in smtp_server.messages] == [["twice@example.org"]]


def test_after_the_cooldown_a_new_link_replaces_the_old(
    env: DigestEnv, smtp_server: SmtpServer
) -> None:
    clock: Clock = env.services.clock  # type: ignore[assignment]
    optin.subscribe(env, "later@example.org")
    deliver(env)
    old = _confirm_link(smtp_server)
    clock.advance(minutes=16)
    assert optin.subscribe(env, "later@example.org").confirmation_queued
    deliver(env)
    new = _confirm_link(smtp_server)
    assert old != new
    with pytest.raises(InvalidToken, match="replaced by a newer one"):
        optin.confirm(env, _token(old))
    assert optin.confirm(env, _token(new)).status == "active"


def test_confirmations_per_day_are_capped(env: DigestEnv, smtp_server: SmtpServer) -> None:
    clock: Clock = env.services.clock  # type: ignore[assignment]
    sent = []
    for _ in range(6):
        sent.append(optin.subscribe(env, "flood@example.org").confirmation_queued)
        clock.advance(minutes=20)
    assert sent == [True, True, True, False, False, False]


def test_only_the_newest_queued_confirmation_is_sent(
    env: DigestEnv, smtp_server: SmtpServer
) -> None:
    clock: Clock = env.services.clock  # type: ignore[assignment]
    optin.subscribe(env, "queued@example.org")
    clock.advance(minutes=20)
    optin.subscribe(env, "queued@example.org")
    report = deliver(env)
    assert (report.sent, report.cancelled) == (1, 1)


def test_expired_confirmation_link(env: DigestEnv, smtp_server: SmtpServer) -> None:
    optin.subscribe(env, "slow@example.org")
    sub = env.db.subscription_by_email("slow@example.org")
    assert sub and sub.confirm_nonce
    token = env.tokens.confirm(sub.email, sub.confirm_nonce)
    # itsdangerous reads real time; check the expiry with a negative allowance
    with pytest.raises(InvalidToken, match="expired"):
        env.tokens.read_confirm(token, max_age_s=-1)


def test_tokens_cannot_be_forged_or_moved_to_another_address(
    env: DigestEnv, smtp_server: SmtpServer
) -> None:
    alice = active_subscriber(env, "alice@example.org")
    bob = active_subscriber(env, "bob@example.org")
    good = env.tokens.unsubscribe(alice, "alice@example.org")
    # a token made with another key
    forged = Tokens("attacker-key").unsubscribe(bob, "bob@example.org")
    # alice's token with its payload edited to name bob
    _payload, _, signature = good.partition(".")
    edited = Tokens("x")._unsubscribe.dump_payload({"s": bob, "e": "bob@example.org"})
    tampered = edited.decode() + "." + signature
    # a validly signed token for bob's id but alice's address
    mismatched = env.tokens.unsubscribe(bob, "alice@example.org")
    # a confirmation token used as an unsubscribe token
    confirm = env.tokens.confirm("bob@example.org", "nonce")
    for token in (forged, tampered, mismatched, confirm, "", "garbage"):
        with pytest.raises(InvalidToken):
            optin.unsubscribe_token(env, token)
    assert env.db.subscription(bob).status == "active"  # type: ignore[union-attr]
    assert optin.unsubscribe_token(env, good).status == "unsubscribed"
    assert env.db.subscription(bob).status == "active"  # type: ignore[union-attr]


def test_confirm_token_is_bound_to_its_address(env: DigestEnv, smtp_server: SmtpServer) -> None:
    optin.subscribe(env, "carol@example.org")
    optin.subscribe(env, "dave@example.org")
    carol = env.db.subscription_by_email("carol@example.org")
    assert carol and carol.confirm_nonce
    # carol's nonce presented for dave's address
    with pytest.raises(InvalidToken):
        optin.confirm(env, env.tokens.confirm("dave@example.org", carol.confirm_nonce))
    assert env.db.subscription_by_email("dave@example.org").status == "pending"  # type: ignore[union-attr]


def test_unsubscribe_cancels_queued_mail_and_old_confirm_links_stay_dead(
    env: DigestEnv, papers: list[Record], smtp_server: SmtpServer
) -> None:
    optin.subscribe(env, "eve@example.org")
    deliver(env)
    link = _confirm_link(smtp_server)
    optin.confirm(env, _token(link))
    sub = env.db.subscription_by_email("eve@example.org")
    assert sub is not None
    from paperlens.digest.run import queue_due

    queue_due(env)
    assert env.db.outbox_counts().get("queued") == 1
    optin.unsubscribe(env, sub)
    assert env.db.outbox_counts().get("cancelled") == 1
    assert deliver(env).sent == 0
    with pytest.raises(InvalidToken):
        optin.confirm(env, _token(link))  # a used link does not resubscribe


def test_signed_in_user_is_attached_only_by_the_address_owner(
    env: DigestEnv, smtp_server: SmtpServer
) -> None:
    active_subscriber(env, "frank@example.org")
    outcome = optin.subscribe(env, "frank@example.org", user_id=42)
    assert outcome.confirmation_queued  # linking an account needs the owner's click
    sub = env.db.subscription_by_email("frank@example.org")
    assert sub and sub.user_id is None
    deliver(env)
    optin.confirm(env, _token(_confirm_link(smtp_server)))
    assert env.db.subscription_by_email("frank@example.org").user_id == 42  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "address",
    [
        "victim@example.org\r\nBcc: everyone@example.org",
        "victim@example.org\nBcc: x@y.z",
        "victim@example.org\r",
        "a\x00b@example.org",
        "not an address",
        "@example.org",
        "a@",
        "",
    ],
)
def test_bad_addresses_are_rejected(env: DigestEnv, address: str) -> None:
    with pytest.raises(InvalidAddress):
        optin.subscribe(env, address)
    assert env.db.subscriptions() == []


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Diffusion\r\nBcc: all@example.org", "Diffusion Bcc: all@example.org"),
        ("Tab\there", "Tab here"),
        ("Line\u2028sep", "Line sep"),
        ("x" * 300, "x" * 139 + "…"),
    ],
)
def test_header_text_is_neutralised(raw: str, clean: str) -> None:
    assert header_text(raw) == clean


def test_a_title_with_a_line_break_cannot_add_headers(
    env: DigestEnv, smtp_server: SmtpServer
) -> None:
    from digest_support import TODAY, add_records, record

    evil = "Great paper\r\nBcc: everyone@example.org\r\nX-Evil: 1"
    add_records(env.services, [record(77, evil, day=TODAY, upvotes=999)])
    active_subscriber(env)
    run(env)
    (received,) = smtp_server.messages
    msg = received.message
    assert received.rcpt_tos == ["reader@example.org"]
    assert "Bcc" not in msg and "X-Evil" not in msg
    assert (
        msg["Subject"] == "paperlens: 1 new paper: Great paper Bcc: everyone@example.org X-Evil: 1"
    )


def test_an_address_with_a_line_break_in_the_database_is_refused(
    env: DigestEnv, papers: list[Record], smtp_server: SmtpServer
) -> None:
    sub_id = active_subscriber(env, "ok@example.org")
    env.db.conn.execute(
        "UPDATE digest_subscriptions SET email=? WHERE id=?",
        ("ok@example.org\r\nBcc: all@example.org", sub_id),
    )
    from paperlens.digest.run import preview

    sub = env.db.subscription(sub_id)
    assert sub is not None
    with pytest.raises(HeaderInjection):
        preview(env, sub)
    with pytest.raises(HeaderInjection):
        checked_address("a@b.c\nBcc: d@e.f")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mail_from", "paperlens <digest@example.org>\r\nBcc: all@example.org"),
        ("mail_from", "no address here"),
        ("base_url", "http://example.org\r\nX: y"),
        ("base_url", "javascript:alert(1)"),
        ("smtp_host", "mail.example.org\nX"),
    ],
)
def test_settings_refuse_line_breaks_and_bad_values(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        digest_settings(25, **{field: value})


@pytest.mark.parametrize(
    ("kind", "value", "error"),
    [
        ("author", "", "empty"),
        ("author", "   ", "empty"),
        ("category", "cs.LG; DROP TABLE", "not an arXiv category"),
        ("venue", "NeurIPS", "choose one of"),
        ("author", "x" * 201, "longer than"),
        ("org", "!!!", "no letters"),
    ],
)
def test_bad_follows_are_refused(env: DigestEnv, kind: str, value: str, error: str) -> None:
    sub = active_subscriber(env)
    with pytest.raises(prefs.InvalidSetting, match=error):
        prefs.follow(env, sub, kind, value)


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"cadence": "hourly"}, "cadence"),
        ({"send_hour": 24}, "send_hour"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"trending_count": -1}, "trending_count"),
        ({"trending_window": "yearly"}, "trending_window"),
        ({"status": "active"}, "not a digest setting"),
        ({"include_trending": "maybe"}, "include_trending"),
    ],
)
def test_bad_settings_are_refused(env: DigestEnv, values: dict[str, object], error: str) -> None:
    sub = active_subscriber(env)
    with pytest.raises(prefs.InvalidSetting, match=error):
        prefs.update_settings(env, sub, **values)


def test_hostile_titles_and_names_are_escaped_in_the_html_part(
    env: DigestEnv, smtp_server: SmtpServer
) -> None:
    from digest_support import TODAY, add_records, record

    hostile = '<script>alert("t")</script><img src=x onerror=alert(1)>'
    add_records(
        env.services,
        [record(78, hostile, day=TODAY, upvotes=50, authors=["<b>Mallory</b>"],
                abstract="An <iframe src=//evil> abstract")],
    )  # fmt: skip
    active_subscriber(env)
    run(env)
    html = html_part(smtp_server.messages[0].message)
    assert "<script" not in html and "<img" not in html and "<iframe" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;Mallory&lt;/b&gt;" in html
