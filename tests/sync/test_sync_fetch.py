"""The fetcher against a real loopback server: retries, Retry-After, pacing, body checks, cache."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from replay import ReplayServer, cut, drop, empty, html, short, slow, status

from paperlens.sources.fetch import (
    Fetcher,
    FetchError,
    FetchPolicy,
    body_problem,
    cache_files,
    read_cache,
)

UA = "paperlens/0.1.0 (+https://github.com/paperlens/paperlens; mailto:sync-tests@example.org)"


def _fetcher(server: ReplayServer, tmp_path: Path | None = None, **policy: object) -> Fetcher:
    values: dict[str, object] = {
        "user_agent": UA,
        "backoff_base": 0.02,
        "connect_timeout": 2.0,
        "read_timeout": 1.0,
        "cache_dir": tmp_path / "http-cache" if tmp_path else None,
    }
    values.update(policy)
    return Fetcher(FetchPolicy(**values))  # type: ignore[arg-type]


def _hf(server: ReplayServer) -> str:
    return f"{server.base}/api/daily_papers"


def test_user_agent_names_software_version_and_contact(replay: ReplayServer) -> None:
    with _fetcher(replay) as fetcher:
        fetcher.get(_hf(replay), params={"date": "2024-05-29"}, label="hf-daily", expect="json")
    assert replay.requests()[0].headers["user-agent"] == UA


def test_429_retry_after_seconds_is_honoured(replay: ReplayServer) -> None:
    replay.fail("/api/daily_papers", status(429, Retry_After="1"))
    with _fetcher(replay) as fetcher:
        got = fetcher.get(_hf(replay), params={"date": "2024-05-29"}, label="hf", expect="json")
        assert fetcher.stats.retries == 1 and fetcher.stats.requests == 2
    first, second = replay.requests()
    assert second.at - first.at >= 0.95
    assert got.status == 200 and got.content.startswith(b"[")


def test_503_with_retry_after_http_date(replay: ReplayServer) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    replay.fail("/api/daily_papers", status(503, Retry_After=when))
    with _fetcher(replay) as fetcher:
        fetcher.get(_hf(replay), params={"date": "2024-05-29"}, label="hf", expect="json")
    first, second = replay.requests()
    assert second.at - first.at >= 0.9  # an HTTP date has one-second resolution


@pytest.mark.parametrize(
    "faults",
    [
        [status(503), status(502), status(500)],
        [drop()],
        [short()],
        [slow(1.5)],
        [drop(), status(503), short()],
    ],
    ids=["5xx", "dropped", "short-body", "read-timeout", "mixed"],
)
def test_transient_failures_are_retried(replay: ReplayServer, faults: list) -> None:  # type: ignore[type-arg]
    replay.fail("/api/daily_papers", *faults)
    with _fetcher(replay) as fetcher:
        got = fetcher.get(_hf(replay), params={"date": "2024-05-29"}, label="hf", expect="json")
        assert fetcher.stats.retries == len(faults)
    assert len(got.content) == 40358  # the whole recorded body


def test_backoff_grows_exponentially(replay: ReplayServer) -> None:
    replay.fail("/api/daily_papers", status(503), status(503), status(503))
    with _fetcher(replay, backoff_base=0.2) as fetcher:
        fetcher.get(_hf(replay), params={"date": "2024-05-29"}, label="hf", expect="json")
    times = [r.at for r in replay.requests()]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # base * 2**n plus up to base of jitter: 0.2-0.4, 0.4-0.6, 0.8-1.0
    assert gaps[0] >= 0.19 and gaps[1] >= 0.39 and gaps[2] >= 0.79
    assert gaps[2] < 1.5


def test_gives_up_after_max_retries_with_url_and_reason(replay: ReplayServer) -> None:
    replay.fail("/api/daily_papers", *[status(503)] * 3)
    with _fetcher(replay, max_retries=2) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(_hf(replay), params={"date": "2024-05-29"}, label="hf", expect="json")
    assert "/api/daily_papers?date=2024-05-29" in str(info.value)
    assert "HTTP 503" in info.value.reason and "3 attempts" in info.value.reason
    assert len(replay.requests()) == 3


def test_retry_after_longer_than_allowed_fails_without_waiting(replay: ReplayServer) -> None:
    replay.fail("/api/daily_papers", status(429, Retry_After="3600"))
    started = time.monotonic()
    with _fetcher(replay, retry_after_max=60) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(_hf(replay), params={"date": "2024-05-29"}, label="hf", expect="json")
    assert time.monotonic() - started < 5
    assert "3600 s" in info.value.reason


def test_client_errors_are_not_retried(replay: ReplayServer) -> None:
    with _fetcher(replay) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(f"{replay.base}/nowhere", label="x", expect="json")
    assert info.value.status == 404
    assert len(replay.requests()) == 1


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (html, "an HTML page instead of JSON ('503 Service Temporarily Unavailable')"),
        (empty, "empty body"),
        (cut, "malformed or truncated JSON"),
    ],
)
def test_bad_200_bodies_are_refetched_then_reported(
    replay: ReplayServer, fault: object, reason: str
) -> None:
    replay.fail("/api/daily_papers", *[fault() for _ in range(3)])  # type: ignore[operator]
    with _fetcher(replay, bad_body_retries=2) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(_hf(replay), params={"date": "2024-05-29"}, label="hf", expect="json")
    assert reason in info.value.reason
    assert info.value.url.endswith("/api/daily_papers?date=2024-05-29")
    assert len(replay.requests()) == 3


def test_a_bad_body_then_a_good_one_succeeds(replay: ReplayServer) -> None:
    replay.fail("/api/query", html(), cut())
    with _fetcher(replay) as fetcher:
        got = fetcher.get(f"{replay.base}/api/query", params={"start": 0, "max_results": 3},
                          label="arxiv-atom", expect="xml")  # fmt: skip
    assert got.content.rstrip().endswith(b"</feed>")
    assert fetcher.stats.retries == 2


@pytest.mark.parametrize(
    ("content", "ctype", "expect", "problem"),
    [
        (b"<?xml version='1.0'?><feed></feed>", "application/atom+xml", "xml", None),
        (b"<?xml version='1.0'?><feed><entry>", "application/atom+xml", "xml", "truncated XML"),
        (b"<html><body>Oops</body></html>", "text/html", "xml", "HTML page"),
        (b"  \n", "text/xml", "xml", "empty body"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "text/xml", "xml", "refused XML"),
        (b'[{"paper": {"id": "1"}}', "application/json", "json", "truncated JSON"),
        (b"[]", "application/json", "json", None),
        (b"anything", "text/plain", "any", None),
    ],
)
def test_body_problem(content: bytes, ctype: str, expect: str, problem: str | None) -> None:
    found = body_problem(content, ctype, expect)  # type: ignore[arg-type]
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_requests_to_a_host_are_paced(replay: ReplayServer) -> None:
    host = f"127.0.0.1:{replay.port}"
    with _fetcher(replay, pacing={host: 0.3}) as fetcher:
        for day in ("2024-05-29", "2025-04-09", "2026-07-15", "2026-07-16"):
            fetcher.get(_hf(replay), params={"date": day}, label="hf", expect="json")
    times = [r.at for r in replay.requests()]
    # Arrival times are taken by the server thread, so each carries its own
    # scheduling delay (tens of ms on a loaded 2-core box): a gap can look
    # shorter than the client's by that much, but the span cannot shrink.
    assert all(b - a >= 0.3 - 0.06 for a, b in itertools.pairwise(times))
    assert times[-1] - times[0] >= 3 * 0.3 - 0.06


def test_pacing_applies_to_retries_too(replay: ReplayServer) -> None:
    host = f"127.0.0.1:{replay.port}"
    replay.fail("/api/daily_papers", status(503, Retry_After="0"))
    with _fetcher(replay, pacing={host: 0.4}) as fetcher:
        fetcher.get(_hf(replay), params={"date": "2024-05-29"}, label="hf", expect="json")
    first, second = replay.requests()
    assert second.at - first.at >= 0.39


def test_good_responses_are_cached_compressed_with_their_origin(
    replay: ReplayServer, tmp_path: Path
) -> None:
    replay.fail("/api/daily_papers", html())
    with _fetcher(replay, tmp_path) as fetcher:
        got = fetcher.get(_hf(replay), params={"date": "2024-05-29"}, label="hf-daily",
                          expect="json")  # fmt: skip
    files = cache_files(tmp_path / "http-cache")
    assert files == [got.cache_path]  # the HTML page was not kept
    cached = read_cache(files[0])
    assert cached.content == got.content and cached.url == got.url
    assert cached.label == "hf-daily" and cached.fetched_at == got.fetched_at
    assert files[0].stat().st_size < len(got.content) / 3
    assert not list((tmp_path / "http-cache").glob("*/*.tmp"))


def test_an_unreachable_host_fails_fast_for_the_rest_of_the_run() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/daily_papers"
    fetcher = Fetcher(FetchPolicy(user_agent=UA, backoff_base=0.01, max_retries=5))
    with fetcher, pytest.raises(FetchError) as info:
        fetcher.get(url, label="hf", expect="json")
    assert "cannot connect" in info.value.reason and "3 attempts" in info.value.reason
    with fetcher, pytest.raises(FetchError) as again:
        fetcher.get(url, params={"date": "2024-05-29"}, label="hf", expect="json")
    assert "not asked again in this run" in again.value.reason
    assert fetcher.stats.requests == 3
