"""docs/sync.md covers every sync setting and command."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperlens.sync.settings import SyncSettings

DOC = (Path(__file__).parents[2] / "docs" / "sync.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(SyncSettings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    assert f"`PAPERLENS_{name.upper()}`" in DOC


@pytest.mark.parametrize(
    "command",
    ["sync arxiv", "sync arxiv-oai", "sync hf", "sync status", "enrich", "add", "reparse"],
)
def test_every_command_is_documented(command: str) -> None:
    assert f"**`{command}" in DOC
