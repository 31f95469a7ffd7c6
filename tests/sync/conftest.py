"""Fixtures for the live-source tests: the replay server and settings pointing at it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from replay import ReplayServer, settings_for

from paperlens.services import Services
from paperlens.sync.pages import SyncContext
from paperlens.sync.settings import SyncSettings


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server


@pytest.fixture
def sync_settings(replay: ReplayServer) -> SyncSettings:
    return settings_for(replay)


@pytest.fixture
def ctx(services: Services, sync_settings: SyncSettings) -> Iterator[SyncContext]:
    with SyncContext(services, sync_settings) as context:
        yield context
