"""``reparse``: the raw-response cache rebuilds the same store without a single request."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path

from replay import ReplayServer, settings_for

from paperlens.config import Settings
from paperlens.services import Services
from paperlens.sources.fetch import cache_files
from paperlens.sync.add import add_papers
from paperlens.sync.hf import sync_hf
from paperlens.sync.oai import sync_oai
from paperlens.sync.pages import SyncContext
from paperlens.sync.reparse import reparse

Dump = Callable[[Path], list[tuple[object, ...]]]


def _signals(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT p.arxiv_id, s.kind, s.source, s.observed_at, s.value FROM signals s "
            "JOIN papers p ON p.key = s.paper ORDER BY 1, 2, 3, 4"
        ).fetchall()


def _papers(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT id, arxiv_id, title, abstract, authors, categories, published, featured "
            "FROM papers ORDER BY id"
        ).fetchall()


def test_reparse_rebuilds_the_store_from_the_cache_alone(
    tmp_path: Path, replay: ReplayServer
) -> None:
    original = Services(Settings(db=tmp_path / "a" / "paperlens.db", embed=False))
    with SyncContext(original, settings_for(replay)) as ctx:
        sync_hf(ctx, [date(2024, 5, 29), date(2025, 4, 9)])
        sync_hf(ctx, [date(2024, 5, 29)])  # a re-poll: a second observation
        add_papers(ctx, ["1605.08386", "2504.06263"])
        sync_oai(ctx, set_spec="physics:hep-ex", from_=date(2017, 12, 14))
    original.close()
    cache = original.settings.data_dir / "http-cache"
    assert len(cache_files(cache)) == 3 + 1 + 5

    rebuilt = Services(Settings(db=tmp_path / "b" / "paperlens.db", embed=False))
    shutil.copytree(cache, rebuilt.settings.data_dir / "http-cache")
    asked = len(replay.requests())
    with SyncContext(rebuilt, settings_for(replay)) as ctx:
        report = reparse(ctx)
        assert report.ok, report.to_json()
        assert report.details["responses"] == 9 and report.fetch["requests"] == 0
        assert len(replay.requests()) == asked
        assert _papers(rebuilt.settings.db) == _papers(original.settings.db)
        assert _signals(rebuilt.settings.db) == _signals(original.settings.db)

        again = reparse(ctx)  # unchanged parsers: nothing new, no duplicate observations
        assert again.ingest.new == 0 and again.ingest.merged == 0 and again.signals == 0
        assert _signals(rebuilt.settings.db) == _signals(original.settings.db)
    rebuilt.close()


def test_a_damaged_cache_file_is_reported_and_the_rest_reparsed(
    services: Services, replay: ReplayServer
) -> None:
    with SyncContext(services, settings_for(replay)) as ctx:
        sync_hf(ctx, [date(2024, 5, 29), date(2025, 4, 9)])
        first, _second = cache_files(services.settings.data_dir / "http-cache")
        first.write_bytes(b"not gzip")
        report = reparse(ctx)
    assert len(report.errors) == 1 and "unreadable cache file" in report.errors[0].reason
    assert report.ingest.unchanged == 8


def test_an_interrupted_reparse_resumes_after_the_last_file(
    services: Services, replay: ReplayServer
) -> None:
    with SyncContext(services, settings_for(replay)) as ctx:
        sync_hf(ctx, [date(2024, 5, 29), date(2025, 4, 9)])
        cache = services.settings.data_dir / "http-cache"
        first = cache_files(cache)[0].relative_to(cache).as_posix()
        with services.store.transaction():
            ctx.tables.save_state("reparse", {"last": first}, new_run=True)
        report = reparse(ctx)
        assert report.resumed == f"after {first}" and report.details["responses"] == 1
        assert reparse(ctx, restart=False).details["responses"] == 2  # finished: starts over
