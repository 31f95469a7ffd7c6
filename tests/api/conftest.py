"""The API tests use the web tests' app and corpus (loaded by path: tests/ is not a package)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "paperlens_web_conftest", Path(__file__).parents[1] / "web" / "conftest.py"
)
assert _spec and _spec.loader
_web = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_web)

site = _web.site
app = _web.app
client = _web.client
csrf_of = _web.csrf_of
sign_up = _web.sign_up
XSS_TITLE = _web.XSS_TITLE
