"""Fixtures for the web tests (defined in ``web_support``)."""

from __future__ import annotations

from web_support import app, client, signed_in, site

__all__ = ["app", "client", "signed_in", "site"]
