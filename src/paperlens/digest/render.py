"""Digests and confirmations as mail: templates → multipart text + HTML ``EmailMessage``.

Every header is built by ``email.message.EmailMessage`` under the SMTP
policy, which refuses CR/LF inside a header value. On top of that, text that
comes from outside (paper titles in the subject, display names) is
*neutralised* here: control characters and line breaks become spaces, and it
is cut to a sane length. Addresses are *rejected* (``HeaderInjection``) if they
carry a line break; they were validated when subscribing, so that only
happens if the database was written behind our back.

Links always start at ``base_url``. The HTML uses inline styles and no
scripts, tables for layout, so it renders in the common mail clients.
"""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from paperlens.digest.compose import Digest
from paperlens.digest.settings import DigestSettings
from paperlens.digest.tokens import Tokens
from paperlens.errors import PaperlensError
from paperlens.model import Paper
from paperlens.store.digest import Subscription

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
SUBJECT_MAX = 140
MAIL_POLICY = email.policy.SMTP.clone(max_line_length=998, cte_type="7bit")
"""CRLF line ends; headers folded only past RFC 5322's hard limit (Python's folder
moves a whole unstructured value, a subject, to a continuation line when it is
over 78 characters, which readers then show with a leading space); 7-bit bodies
(quoted-printable where needed), so no server has to offer 8BITMIME."""
SITE_NAME = "paperlens"


class HeaderInjection(PaperlensError):
    """A mail address or header value carries a line break or control character."""


def header_text(value: str, *, limit: int = SUBJECT_MAX) -> str:
    """Neutralise text for a header: line breaks and controls become single spaces."""
    text = " ".join(_CONTROL_RE.sub(" ", value).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def checked_address(value: str) -> str:
    """An address fit for To:/From:, or ``HeaderInjection``."""
    if _CONTROL_RE.search(value):
        raise HeaderInjection(f"{value!r}: line breaks are not allowed in a mail address")
    return value


def mail_from(settings: DigestSettings) -> Address:
    """The configured From: as an ``Address`` (display name neutralised)."""
    name, addr = parseaddr(checked_address(settings.mail_from))
    username, _, domain = addr.rpartition("@")
    return Address(display_name=header_text(name, limit=80), username=username, domain=domain)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message ready for the outbox."""

    message: EmailMessage
    message_id: str

    def as_bytes(self) -> bytes:
        return self.message.as_bytes(policy=MAIL_POLICY)


class Links:
    """Every URL a message carries, all under ``base_url``."""

    def __init__(self, base_url: str, tokens: Tokens) -> None:
        self.base = base_url.rstrip("/")
        self.tokens = tokens

    def paper(self, paper: Paper) -> str:
        return f"{self.base}/papers/{quote(paper.id, safe='')}"

    def home(self) -> str:
        return f"{self.base}/"

    def confirm(self, email: str, nonce: str) -> str:
        return (
            f"{self.base}/digest/confirm?{urlencode({'token': self.tokens.confirm(email, nonce)})}"
        )

    def unsubscribe(self, sub: Subscription) -> str:
        token = self.tokens.unsubscribe(sub.id, sub.email)
        return f"{self.base}/digest/unsubscribe?{urlencode({'token': token})}"

    def manage(self, sub: Subscription) -> str:
        token = self.tokens.manage(sub.id, sub.email)
        return f"{self.base}/digest/manage?{urlencode({'token': token})}"


class Renderer:
    """Renders digests and confirmations with the package's templates."""

    def __init__(self, settings: DigestSettings, tokens: Tokens) -> None:
        self.settings = settings
        self.links = Links(settings.base_url, tokens)
        self.sender = mail_from(settings)
        self._headers: dict[tuple[str, str], object] = {}
        self._html = Environment(
            loader=PackageLoader("paperlens.digest", "templates"),
            autoescape=select_autoescape(["html"], default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._text = Environment(
            loader=PackageLoader("paperlens.digest", "templates"),
            autoescape=False,  # plain-text parts: nothing here is ever parsed as markup
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def digest(self, digest: Digest, *, now: datetime) -> Rendered:
        sub = digest.subscription
        count = len(digest.items)
        first = digest.items[0].paper.title if digest.items else None
        subject = f"{SITE_NAME}: {count} new paper{'s' if count != 1 else ''}"
        if first:
            subject += f": {first}"
        unsubscribe = self.links.unsubscribe(sub)  # signed once, used three times
        context = {
            "digest": digest,
            "sub": sub,
            "links": self.links,
            "unsubscribe_url": unsubscribe,
            "manage_url": self.links.manage(sub),
            "site": SITE_NAME,
            "count": count,
            "cadence": "daily" if sub.cadence == "daily" else "weekly",
            "authors": _authors,
            "summary": _summary,
        }
        return self._message(
            to=sub.email,
            subject=subject,
            text=self._text.get_template("digest.txt").render(context),
            html=self._html.get_template("digest.html").render(context),
            idstring=f"digest.{sub.id}.{digest.period}",
            unsubscribe=unsubscribe,
            now=now,
        )

    def confirmation(self, sub: Subscription, nonce: str, *, now: datetime) -> Rendered:
        hours = self.settings.confirm_ttl_hours
        context = {
            "sub": sub,
            "confirm_url": self.links.confirm(sub.email, nonce),
            "site": SITE_NAME,
            "home": self.links.home(),
            "valid_for": f"{hours:g} hours" if hours != 1 else "1 hour",
        }
        return self._message(
            to=sub.email,
            subject=f"Confirm your {SITE_NAME} digest subscription",
            text=self._text.get_template("confirm.txt").render(context),
            html=self._html.get_template("confirm.html").render(context),
            idstring=f"confirm.{sub.id}",
            unsubscribe=None,
            now=now,
        )

    def _fixed(self, name: str, value: object) -> object:
        """A parsed header object, made once per (name, value) and reused."""
        key = (name, str(value))
        header = self._headers.get(key)
        if header is None:
            if len(self._headers) > 64:
                self._headers.clear()
            header = MAIL_POLICY.header_factory(name, value)
            self._headers[key] = header
        return header

    def _message(
        self,
        *,
        to: str,
        subject: str,
        text: str,
        html: str,
        idstring: str,
        unsubscribe: str | None,
        now: datetime,
    ) -> Rendered:
        msg = EmailMessage(policy=MAIL_POLICY)
        # Headers that are the same in every message are parsed once (the header
        # registry's parsing is most of the cost of building a message).
        msg["From"] = self._fixed("From", self.sender)
        msg["To"] = checked_address(to)
        msg["Subject"] = header_text(subject)
        msg["Date"] = self._fixed("Date", format_datetime(now))
        message_id = make_msgid(idstring=header_text(idstring, limit=60).replace(" ", "_"),
                                domain=self.sender.domain or "localhost")  # fmt: skip
        msg["Message-ID"] = message_id
        msg["Auto-Submitted"] = self._fixed("Auto-Submitted", "auto-generated")
        if unsubscribe:
            list_id = f"{SITE_NAME} digest <digest.{self.sender.domain or 'localhost'}>"
            msg["List-Id"] = self._fixed("List-Id", list_id)
            msg["List-Unsubscribe"] = f"<{unsubscribe}>"
            msg["List-Unsubscribe-Post"] = self._fixed(
                "List-Unsubscribe-Post", "List-Unsubscribe=One-Click"
            )
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        return Rendered(msg, message_id)


def _authors(paper: Paper, limit: int = 4) -> str:
    names = paper.authors[:limit]
    text = ", ".join(names)
    if len(paper.authors) > limit or (names and not paper.authors_complete):
        text += " et al."
    if not names and paper.author_count:
        text = f"{paper.author_count} authors"
    return text


def _summary(paper: Paper, limit: int = 280) -> str:
    text = " ".join((paper.abstract or "").split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"
