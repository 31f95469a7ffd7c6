"""Shared fixtures: real SQLite files under tmp_path, real recorded inputs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperlens.config import Settings
from paperlens.services import Services

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = FIXTURES / "seeds"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at a fresh database file in the test's own directory."""
    return Settings(db=tmp_path / "paperlens.db", embed=False)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    svc = Services(settings)
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES
