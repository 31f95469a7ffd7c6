"""SMTP delivery of one stored message, with the end of DATA split out.

``smtplib`` does the conversation; the one thing it cannot do is stop
between the message body and the final ``<CRLF>.<CRLF>``, which is the
moment a server takes responsibility for a message (RFC 5321 §4.1.1.4,
§6.1). ``deliver`` sends the body, calls ``before_end`` (the outbox records
"committing" there), then sends the terminator and reads the reply. So:

* a failure before the terminator (refused connection, 4xx, timeout, a
  dropped connection mid-DATA) certainly did not deliver: ``TEMPORARY``
  (a server that closed or spoke while we wrote the body is noticed by a
  non-blocking peek just before the terminator is written);
* a 2xx reply to the terminator delivered: ``SENT``; a 4xx/5xx reply did not;
* no reply at all (timeout, connection lost) after the terminator is the one
  case nobody can decide: ``AMBIGUOUS`` (the RFC 1047 duplicate problem).

The wait for that last reply is ``smtp_data_timeout`` (RFC 5321 §4.5.3.2.6
asks for 10 minutes) so a slow server is not mistaken for a lost one.
"""

from __future__ import annotations

import enum
import logging
import re
import select
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr

from paperlens.digest.settings import DigestSettings
from paperlens.errors import ConfigError

logger = logging.getLogger(__name__)

_EOL_RE = re.compile(rb"\r\n|\n|\r")
_DOT_RE = re.compile(rb"(?m)^\.")


class Outcome(enum.Enum):
    SENT = "sent"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"
    AMBIGUOUS = "ambiguous"


@dataclass(slots=True)
class Result:
    """What happened to one message, and at which step."""

    outcome: Outcome
    stage: str = ""
    """connect, mail, rcpt, data, body or end."""
    code: int | None = None
    error: str = ""

    @property
    def bounce(self) -> bool:
        """A permanent refusal of this recipient or this message (not of our setup)."""
        return self.outcome is Outcome.PERMANENT and self.stage in ("rcpt", "data", "end")


def wire_data(message: bytes) -> bytes:
    """CRLF line ends and dot-stuffing (RFC 5321 §4.5.2), ending with CRLF, no terminator."""
    data = _DOT_RE.sub(b"..", _EOL_RE.sub(b"\r\n", message))
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def envelope_sender(settings: DigestSettings) -> str:
    return parseaddr(settings.mail_from)[1]


class SmtpTransport:
    """One SMTP connection, opened on first use and reused across messages."""

    def __init__(self, settings: DigestSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._clean = False

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context(cafile=s.smtp_ca_file)
        smtp: smtplib.SMTP
        try:
            if s.smtp_tls == "ssl":
                smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout,
                                        context=context)  # fmt: skip
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        except ssl.SSLCertVerificationError as exc:
            raise _untrusted(s, exc) from None
        if smtp.sock is not None:
            # The final dot is a small write after the body: with Nagle's algorithm
            # it waits for the server's delayed ACK (~40 ms a message on Linux).
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            smtp.ehlo()
            if s.smtp_tls == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
        except smtplib.SMTPAuthenticationError as exc:
            smtp.close()
            raise ConfigError(
                f"{s.smtp_host}:{s.smtp_port}: the SMTP server refused the login "
                f"({exc.smtp_code} {_text(exc.smtp_error)}); check PAPERLENS_SMTP_USER/PASSWORD"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            smtp.close()
            raise ConfigError(f"{s.smtp_host}:{s.smtp_port}: {exc}") from None
        except ssl.SSLCertVerificationError as exc:
            smtp.close()
            raise _untrusted(s, exc) from None
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _ready(self) -> tuple[smtplib.SMTP, bool]:
        """A connection at the start of a mail transaction, and whether it was reused.

        After a transaction that ended with a reply to the final dot the server
        is ready for the next MAIL (RFC 5321 §4.1.1.4), so RSET is sent only
        after one that stopped half-way.
        """
        if self._smtp is not None:
            if self._clean:
                return self._smtp, True
            try:
                code, _ = self._smtp.rset()
                if code == 250:
                    self._clean = True
                    return self._smtp, True
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()
        self._smtp = self._connect()
        self._clean = True
        return self._smtp, False

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def deliver(
        self,
        sender: str,
        recipient: str,
        message: bytes,
        *,
        before_end: Callable[[], None] = lambda: None,
    ) -> Result:
        """Send one message; see the module docstring for what each outcome proves."""
        for attempt in (1, 2):
            try:
                smtp, reused = self._ready()
            except ConfigError:
                raise
            except smtplib.SMTPResponseException as exc:
                self._drop()
                return self._fail("connect", exc.smtp_code, exc.smtp_error, permanent_ok=False)
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                return Result(Outcome.TEMPORARY, "connect", None, _describe(exc))
            self._clean = False
            try:
                code, reply = smtp.mail(sender)
                break
            except (smtplib.SMTPException, OSError) as exc:
                # A reused connection the server closed while idle: open a new one.
                self._drop()
                if not reused or attempt == 2:
                    return Result(Outcome.TEMPORARY, "mail", None, _describe(exc))
        try:
            if code != 250:
                return self._fail("mail", code, reply)
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                return self._fail("rcpt", code, reply)
            smtp.putcmd("data")
            code, reply = smtp.getreply()
            if code != 354:
                return self._fail("data", code, reply)
            smtp.send(wire_data(message))
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            return Result(Outcome.TEMPORARY, "body", None, _describe(exc))
        try:
            before_end()
        except BaseException:
            self._drop()  # closing without the terminator aborts the transaction
            raise
        if _peer_spoke(smtp):
            # Checked as late as possible, right before the terminator: the server
            # wrote or closed mid-DATA, so it is gone or refusing, and it cannot
            # have accepted a message whose end it never saw.
            self._drop()
            return Result(Outcome.TEMPORARY, "body", None, "server closed the connection mid-DATA")
        try:
            smtp.send(b".\r\n")
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            return Result(Outcome.TEMPORARY, "end", None, _describe(exc))
        try:
            if smtp.sock is not None:
                smtp.sock.settimeout(self.settings.smtp_data_timeout)
            code, reply = smtp.getreply()
            if smtp.sock is not None:
                smtp.sock.settimeout(self.settings.smtp_timeout)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            return Result(Outcome.AMBIGUOUS, "end", None, _describe(exc))
        self._clean = True  # the server answered the dot: the transaction is over
        if 200 <= code < 300:
            return Result(Outcome.SENT, "end", code, _text(reply))
        return self._fail("end", code, reply)

    def _fail(
        self, stage: str, code: int, reply: bytes | str, *, permanent_ok: bool = True
    ) -> Result:
        text = _text(reply)
        if code == 421 or code < 0:  # the server is closing the channel
            self._drop()
        permanent = permanent_ok and 500 <= code < 600
        return Result(Outcome.PERMANENT if permanent else Outcome.TEMPORARY, stage, code, text)


def _untrusted(s: DigestSettings, exc: ssl.SSLCertVerificationError) -> ConfigError:
    """A certificate we cannot verify is a setup problem, not a reason to retry."""
    return ConfigError(
        f"{s.smtp_host}:{s.smtp_port}: the SMTP server's certificate is not trusted "
        f"({exc.verify_message}); set PAPERLENS_SMTP_CA_FILE to its CA, or fix the server"
    )


def _peer_spoke(smtp: smtplib.SMTP) -> bool:
    sock = smtp.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(reply.split())[:500]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"timed out ({exc})" if str(exc) else "timed out"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class RateLimiter:
    """At most ``per_minute`` messages a minute, spaced evenly (0 = no limit).

    Spacing, not bursts: a provider's per-minute limit is usually enforced
    over sliding windows, and even spacing never trips one.
    """

    def __init__(
        self,
        per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self.clock = clock
        self.sleep = sleep
        self._next = 0.0

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if now < self._next:
            self.sleep(self._next - now)
            now = self._next
        self._next = now + self.interval
