"""``paperlens serve --get PATH``: one request through the whole stack, printed (like datasette)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner
from web_support import build_corpus

from paperlens.cli import app
from paperlens.config import Settings
from paperlens.services import Services


def test_serve_get(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    services = Services(Settings(db=db, embed=False))
    build_corpus(services)
    services.close()
    runner = CliRunner()
    ok = runner.invoke(app, ["serve", "--db", str(db), "--get", "/api/v1/papers/2504.00001"])
    assert ok.exit_code == 0, ok.output
    assert '"title":"Paper 1 on diffusion models"' in ok.stdout
    page = runner.invoke(app, ["serve", "--db", str(db), "--get", "/search?q=diffusion"])
    assert page.exit_code == 0 and "<mark>diffusion</mark>" in page.stdout
    missing = runner.invoke(app, ["serve", "--db", str(db), "--get", "/papers/0000.00000"])
    assert missing.exit_code == 1 and "404" in missing.output
    bad = runner.invoke(app, ["serve", "--db", str(db), "--get", "papers"])
    assert bad.exit_code == 2
    assert (db.with_name("p.db.d") / "secret_key").stat().st_mode & 0o777 == 0o600
