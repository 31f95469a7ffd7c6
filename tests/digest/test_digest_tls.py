"""STARTTLS and implicit TLS against a real aiosmtpd with a throwaway certificate."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from digest_support import (
    SmtpServer,
    active_subscriber,
    digest_settings,
    running_smtp,
)

from paperlens.digest.env import DigestEnv
from paperlens.digest.run import run
from paperlens.errors import ConfigError
from paperlens.model import Record
from paperlens.services import Services

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    with running_smtp(tls_context=_server_context(certificate), require_starttls=True) as server:
        yield server


@pytest.fixture
def ssl_server(certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    with running_smtp(ssl_context=_server_context(certificate)) as server:
        yield server


def test_starttls_delivers_when_the_certificate_is_trusted(
    services: Services, papers: list[Record], starttls_server: SmtpServer,
    certificate: tuple[Path, Path],
) -> None:  # fmt: skip
    settings = digest_settings(starttls_server.port, smtp_tls="starttls",
                               smtp_ca_file=certificate[0])  # fmt: skip
    env = DigestEnv(services, settings)
    active_subscriber(env)
    report = run(env)
    assert report.delivery and report.delivery.sent == 1
    assert len(starttls_server.messages) == 1  # the server refuses MAIL before STARTTLS


def test_implicit_tls_delivers(
    services: Services, papers: list[Record], ssl_server: SmtpServer,
    certificate: tuple[Path, Path],
) -> None:  # fmt: skip
    env = DigestEnv(services, digest_settings(ssl_server.port, smtp_tls="ssl",
                                              smtp_ca_file=certificate[0]))  # fmt: skip
    active_subscriber(env)
    assert run(env).delivery.sent == 1  # type: ignore[union-attr]
    assert len(ssl_server.messages) == 1


def test_an_untrusted_certificate_stops_the_run_and_keeps_the_mail(
    services: Services, papers: list[Record], starttls_server: SmtpServer
) -> None:
    env = DigestEnv(services, digest_settings(starttls_server.port, smtp_tls="starttls"))
    active_subscriber(env)
    with pytest.raises(ConfigError, match="not trusted"):
        run(env)
    (row,) = env.db.outbox()
    assert (row.state, row.attempts) == ("queued", 0)
    assert starttls_server.messages == []
