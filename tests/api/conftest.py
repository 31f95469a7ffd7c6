"""The API tests use the web tests' app and corpus (``tests/web/web_support.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from web_support import app, client, site

__all__ = ["app", "client", "site"]
