"""Fixtures for the live-source tests: the replay server and settings pointing at it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from replay import ReplayServer  # noqa: E402

from paperlens.services import Services  # noqa: E402
from paperlens.sync.pages import SyncContext  # noqa: E402
from paperlens.sync.settings import SyncSettings  # noqa: E402


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server


def settings_for(server: ReplayServer, **overrides: object) -> SyncSettings:
    """Live settings with only the base URLs (and test-sized waits) changed."""
    values: dict[str, object] = {
        "arxiv_api_url": f"{server.base}/api/query",
        "arxiv_oai_url": f"{server.base}/oai",
        "hf_api_url": f"{server.base}/api/daily_papers",
        "s2_api_url": f"{server.base}/graph/v1",
        "contact_email": "sync-tests@example.org",
        "arxiv_pacing_s": 0.0,
        "hf_pacing_s": 0.0,
        "s2_pacing_s": 0.0,
        "backoff_base_s": 0.02,
        "connect_timeout_s": 2.0,
        "read_timeout_s": 2.0,
    }
    values.update(overrides)
    return SyncSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def sync_settings(replay: ReplayServer) -> SyncSettings:
    return settings_for(replay)


@pytest.fixture
def ctx(services: Services, sync_settings: SyncSettings) -> Iterator[SyncContext]:
    with SyncContext(services, sync_settings) as context:
        yield context
