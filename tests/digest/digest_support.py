"""Digest test support: a real SMTP server on loopback, a small dated corpus, a settable clock."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from paperlens.digest.env import DigestEnv
from paperlens.digest.settings import DigestSettings
from paperlens.ingest import IngestReport, apply_batch
from paperlens.model import Observation, Record
from paperlens.services import Services

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, after the 07:00 send hour
TODAY = NOW.date()


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Behaviour:
    """What the server does next; each list is consumed one entry per message."""

    rcpt: list[str] = field(default_factory=list)  # e.g. "451 4.3.0 try later"
    data: list[str] = field(default_factory=list)  # reply to the end of DATA, nothing stored
    drop_mid_data: int = 0  # messages whose connection is closed after 354 ...
    drop_after_lines: int = 0  # ... and after reading this many lines of the message
    dropped: threading.Event = field(default_factory=threading.Event)  # set after each drop
    on_event: Callable[[str], None] | None = None  # called at "mail", "rcpt", "data", "data+"
    ehlo_delay: float = 0.0
    slow_reply_after_store: float = 0.0  # store the message, then wait before replying


class RecordingHandler:
    """Stores every accepted message; misbehaves on request."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.behaviour = Behaviour()
        self.lock = threading.Lock()
        self.connections = 0

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: Any
    ) -> Any:
        self.connections += 1
        if self.behaviour.ehlo_delay:
            await asyncio.sleep(self.behaviour.ehlo_delay)
        session.host_name = hostname
        return responses

    def _event(self, name: str) -> None:
        if self.behaviour.on_event is not None:
            self.behaviour.on_event(name)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        self._event("mail")
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        self._event("rcpt")
        if self.behaviour.rcpt:
            return self.behaviour.rcpt.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.behaviour.data:
            return self.behaviour.data.pop(0)
        with self.lock:
            self.messages.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(envelope.content))
            )
        self._event("data")  # stored, the reply not yet written
        if self.behaviour.on_event is not None:
            asyncio.get_running_loop().call_soon(self._event, "data+")  # after the reply
        if self.behaviour.slow_reply_after_store:
            await asyncio.sleep(self.behaviour.slow_reply_after_store)
        return "250 Message accepted for delivery"

    def by_message_id(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for m in self.messages:
            mid = str(m.message["Message-ID"])
            counts[mid] = counts.get(mid, 0) + 1
        return counts


class MisbehavingSMTP(SMTP):
    """aiosmtpd's server, able to drop the connection in the middle of DATA."""

    def __init__(self, handler: RecordingHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.recorder = handler

    async def smtp_DATA(self, arg: str) -> None:
        if self.recorder.behaviour.drop_mid_data > 0 and self.envelope and self.envelope.rcpt_tos:
            self.recorder.behaviour.drop_mid_data -= 1
            assert self.transport is not None
            sock = self.transport.get_extra_info("socket")
            if not self.recorder.behaviour.drop_after_lines:
                # The reply and the FIN back to back, with no loop turn between them.
                os.write(sock.fileno(), b"354 End data with <CR><LF>.<CR><LF>\r\n")
                sock.shutdown(socket.SHUT_RDWR)
                self.transport.abort()
                self.recorder.behaviour.dropped.set()
                return
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            for _ in range(self.recorder.behaviour.drop_after_lines):
                await self._reader.readuntil(b"\r\n")
            sock.shutdown(socket.SHUT_RDWR)
            self.transport.abort()
            self.recorder.behaviour.dropped.set()
            return
        await super().smtp_DATA(arg)


class AfterDrop:
    """A transport that, before the final dot, waits until the server has dropped us.

    Without it, which side of the race the client lands on depends on thread
    scheduling; with it, the test pins the case "dropped mid-DATA, noticed".
    """

    def __init__(self, inner: Any, dropped: threading.Event) -> None:
        self.inner = inner
        self.dropped = dropped

    def deliver(self, sender: str, recipient: str, message: bytes, *, before_end: Any) -> Any:
        def hook() -> None:
            before_end()
            assert self.dropped.wait(10), "the server never dropped the connection"

        return self.inner.deliver(sender, recipient, message, before_end=hook)


class SmtpController(Controller):
    def factory(self) -> SMTP:
        return MisbehavingSMTP(self.handler, **self.SMTP_kwargs)


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: RecordingHandler

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    @property
    def behaviour(self) -> Behaviour:
        return self.handler.behaviour

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} messages, got {len(self.messages)}")
            time.sleep(0.01)
        return self.messages


@contextlib.contextmanager
def running_smtp(**controller_options: Any) -> Iterator[SmtpServer]:
    """A real aiosmtpd server on 127.0.0.1 recording what it accepts, for the block's length.

    ``controller_options`` go to aiosmtpd's ``Controller`` (TLS contexts, ``require_starttls``).
    """
    handler = RecordingHandler()
    port = free_port()
    controller = SmtpController(handler, hostname="127.0.0.1", port=port, **controller_options)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, handler)
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def digest_settings(port: int, **overrides: Any) -> DigestSettings:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_tls": "none",
        "smtp_timeout": 5.0,
        "smtp_data_timeout": 5.0,
        "mail_from": "paperlens digest <digest@paperlens.test>",
        "base_url": "http://testserver",
        "mail_rate_per_minute": 0,
        "secret_key": "test-secret-key-not-for-production",
        "mail_retry_base_seconds": 60,
    }
    values.update(overrides)
    return DigestSettings(**values)


def record(
    n: int,
    title: str,
    *,
    day: date,
    authors: list[str] | None = None,
    orgs: list[str] | None = None,
    cats: list[str] | None = None,
    upvotes: int | None = None,
    abstract: str | None = None,
) -> Record:
    signals = []
    if upvotes is not None:
        signals.append(Observation("upvotes", float(upvotes), "hf-daily", NOW - timedelta(hours=2)))
    return Record(
        source="test",
        source_key=f"test-{n}",
        origin="tests/digest",
        arxiv_id=f"2611.{n:05d}",
        title=title,
        abstract=abstract or f"We study {title.lower()} with careful experiments.",
        authors=authors or ["Ann Example"],
        organisations=orgs or [],
        categories=cats or ["cs.LG"],
        published=day,
        featured=day,
        signals=signals,
        observed_at=NOW - timedelta(days=1),
    )


def add_records(services: Services, records: list[Record]) -> None:
    with services.store.transaction():
        apply_batch(services.store, records, IngestReport())
    services.sync_keyword()


def corpus() -> list[Record]:
    """Twelve papers of the last week, with authors, orgs, categories and upvotes."""
    d = lambda days: TODAY - timedelta(days=days)  # noqa: E731
    return [
        record(1, "Diffusion Distillation for Fast Image Synthesis", day=d(1),
               authors=["Jane Doe", "Wei Wang"], cats=["cs.CV"], upvotes=120),
        record(2, "Progressive Diffusion Distillation at Scale", day=d(2),
               authors=["Omar Haddad"], cats=["cs.CV", "cs.LG"], upvotes=40),
        record(3, "Sparse Attention Kernels for Long Context Transformers", day=d(1),
               authors=["Li Zhang"], orgs=["DeepMind"], cats=["cs.CL"], upvotes=80),
        record(4, "A Survey of Retrieval Augmented Generation", day=d(3),
               authors=["Maria Garcia", "Jane Doe"], cats=["cs.CL"], upvotes=15),
        record(5, "Graph Neural Networks for Molecules", day=d(2),
               authors=["Pablo Silva"], cats=["q-bio.BM"], upvotes=3),
        record(6, "Reinforcement Learning from Human Feedback Revisited", day=d(4),
               authors=["Sara Cohen"], orgs=["OpenAI"], cats=["cs.LG"], upvotes=60),
        record(7, "Consistency Models and Diffusion Distillation Theory", day=d(1),
               authors=["Tom Brown"], cats=["stat.ML"]),
        record(8, "Quantum Error Correction with Surface Codes", day=d(5),
               authors=["Yuki Tanaka"], cats=["quant-ph"], upvotes=25),
        record(9, "Efficient Vision Transformers on Edge Devices", day=d(2),
               authors=["Nora Ali"], orgs=["DeepMind"], cats=["cs.CV"]),
        record(10, "Old Paper on Diffusion Distillation Outside the Window", day=d(40),
               authors=["Jane Doe"], cats=["cs.CV"], upvotes=500),
        record(11, "Speculative Decoding for Large Language Models", day=d(1),
               authors=["Ivan Petrov"], cats=["cs.CL"], upvotes=9),
        record(12, "Image Synthesis with Fast Diffusion Samplers", day=d(2),
               authors=["Chen Liu"], cats=["cs.CV"]),
    ]  # fmt: skip


def active_subscriber(env: DigestEnv, email_addr: str = "reader@example.org", **values: Any) -> int:
    values.setdefault("status", "active")
    values.setdefault("cadence", "weekly")
    sub = env.db.insert_subscription(email_addr, now=env.now() - timedelta(days=30), **values)
    return sub.id


def links_in(text: str) -> list[str]:
    import re

    return re.findall(r"https?://[^\s\"<>]+", text)


def text_part(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_part(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


WaitFn = Callable[[int], list[Received]]
TESTS_DIR = Path(__file__).parent
