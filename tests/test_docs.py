"""Docs that cannot drift: the CLI reference and every setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from paperlens.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_cli_docs.py"), "--check"], check=False
    )
    assert result.returncode == 0, "docs/cli.md is stale: run scripts/gen_cli_docs.py"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert f"PAPERLENS_{name.upper()}" in doc


def test_readme_quick_start_is_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line.strip()]
    assert [c.split()[0] for c in commands] == ["scripts/run", "scripts/test"]
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
