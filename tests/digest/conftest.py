"""Digest fixtures: a real SMTP server on loopback, a small dated corpus, a settable clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from digest_support import (
    Clock,
    SmtpServer,
    add_records,
    corpus,
    digest_settings,
    running_smtp,
)

from paperlens.config import Settings
from paperlens.digest.env import DigestEnv
from paperlens.model import Record
from paperlens.services import Services


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real aiosmtpd server on 127.0.0.1 storing what it accepts."""
    with running_smtp() as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(settings: Settings, clock: Clock) -> Iterator[Services]:
    svc = Services(settings, clock=clock)
    yield svc
    svc.close()


@pytest.fixture
def env(services: Services, smtp_server: SmtpServer) -> DigestEnv:
    return DigestEnv(services, digest_settings(smtp_server.port))


@pytest.fixture
def papers(services: Services) -> list[Record]:
    records = corpus()
    add_records(services, records)
    return records
