"""Mail and digest settings, read from ``PAPERLENS_*`` like every other option.

Kept apart from ``config.Settings`` while the digest feature settles; the
fields are meant to be folded into it later (same names, same prefix).
"""

from __future__ import annotations

import os
import secrets
from email.utils import parseaddr
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from paperlens.errors import ConfigError


class DigestSettings(BaseSettings):
    """SMTP, links and sending limits for digests and confirmation mail."""

    model_config = SettingsConfigDict(env_prefix="PAPERLENS_", extra="ignore")

    smtp_host: str = Field(default="127.0.0.1", description="SMTP server host.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP server port.")
    smtp_tls: Literal["starttls", "ssl", "none"] = Field(
        default="none", description="starttls (port 587), ssl (implicit TLS, port 465) or none."
    )
    smtp_ca_file: Path | None = Field(
        default=None,
        description="PEM file of CA certificates to trust for SMTP TLS (a private CA); "
        "the system's store otherwise.",
    )
    smtp_user: str | None = Field(default=None, description="SMTP login, if the server wants one.")
    smtp_password: str | None = Field(default=None, description="SMTP password.")
    smtp_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds to wait for the server at every step before the data.",
    )
    smtp_data_timeout: float = Field(
        default=600.0,
        gt=0,
        description="Seconds to wait for the reply to the end of a message (RFC 5321 4.5.3.2.6).",
    )
    mail_from: str = Field(
        default="paperlens <digest@localhost>", description="From: address of every message."
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public address of the site, used in every link.",
    )
    mail_rate_per_minute: float = Field(
        default=60.0, ge=0, description="Most messages sent per minute (0 = no limit)."
    )
    mail_retry_base_seconds: float = Field(
        default=60.0, gt=0, description="First retry delay; doubles with every temporary failure."
    )
    mail_retry_max_seconds: float = Field(
        default=6 * 3600.0, gt=0, description="Longest retry delay."
    )
    mail_max_attempts: int = Field(
        default=8,
        ge=1,
        description="Attempts before a temporarily failing message is marked failed.",
    )
    mail_max_bounces: int = Field(
        default=3, ge=1, description="Consecutive permanent failures before a subscriber is paused."
    )
    confirm_ttl_hours: float = Field(
        default=48.0, gt=0, description="How long a confirmation link stays valid."
    )
    confirm_cooldown_minutes: float = Field(
        default=15.0,
        ge=0,
        description="No second confirmation mail to one address within this time.",
    )
    confirm_max_per_day: int = Field(
        default=3, ge=1, description="Most confirmation mails to one address per UTC day."
    )
    secret_key: str | None = Field(
        default=None,
        description="Key signing confirmation and unsubscribe links; "
        "generated into the data dir on first use when unset.",
    )

    @field_validator("mail_from", "smtp_host", "smtp_user", "base_url")
    @classmethod
    def _no_line_breaks(cls, value: str | None) -> str | None:
        if value is not None and any(c in value for c in "\r\n\x00"):
            raise ValueError("must not contain line breaks")
        return value

    @field_validator("mail_from")
    @classmethod
    def _address(cls, value: str) -> str:
        if "@" not in parseaddr(value)[1]:
            raise ValueError(f"{value!r} is not a mail address (e.g. 'paperlens <me@example.org>')")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} must start with http:// or https://")
        return value.rstrip("/")

    def signing_key(self, data_dir: Path) -> str:
        """The secret for signed links: the setting, else ``<data dir>/secret_key``.

        Generated on first use (never a built-in default) and written with mode
        0600, so links stay valid across restarts without anyone configuring it.
        """
        if self.secret_key:
            return self.secret_key
        path = data_dir / "secret_key"
        try:
            return path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the secret key ({exc})") from None
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        tmp = path.with_name(f".secret_key.{secrets.token_hex(8)}")
        tmp.write_text(key, encoding="ascii")
        tmp.chmod(0o600)
        try:
            # link() fails if another process won the race; then use theirs.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        return path.read_text(encoding="ascii").strip()
