"""The digest feature's wiring for one running paperlens: settings, tables, tokens, templates.

Built once by each entry point (a CLI command, the worker, the web app's
router) from ``Services``; nothing here is global. The secret for signed
links comes from ``PAPERLENS_SECRET_KEY`` or is generated into the data dir.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from paperlens.digest.outbox import Outbox
from paperlens.digest.render import Renderer
from paperlens.digest.send import SmtpTransport
from paperlens.digest.settings import DigestSettings
from paperlens.digest.tokens import Tokens
from paperlens.store.digest import DigestStore

if TYPE_CHECKING:
    from paperlens.services import Services


class DigestEnv:
    """Everything the digest modules need, opened from ``Services``."""

    def __init__(self, services: Services, settings: DigestSettings | None = None) -> None:
        self.services = services
        self.settings = settings or DigestSettings()
        self.db = DigestStore(services.store)
        self.tokens = Tokens(self.settings.signing_key(services.settings.data_dir))
        self.renderer = Renderer(self.settings, self.tokens)

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.services.clock

    def now(self) -> datetime:
        return self.services.clock()

    def outbox(self) -> Outbox:
        return Outbox(self.db, self.settings, clock=self.services.clock)

    def transport(self) -> SmtpTransport:
        return SmtpTransport(self.settings)
