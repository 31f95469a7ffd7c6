"""Keyword search through the same entry point the CLI and web use."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperlens.errors import InvalidQuery
from paperlens.ingest import ingest
from paperlens.rank.search import search
from paperlens.services import Services

SEEDS = Path(__file__).parents[1] / "fixtures" / "seeds"


@pytest.fixture
def seeded(services: Services) -> Services:
    ingest(services.store, [SEEDS], fmt="listing")
    services.sync_keyword()
    return services


def titles(services: Services, query: str, **kw: object) -> list[str]:
    page = search(services, query, limit=kw.pop("limit", 10), **kw)  # type: ignore[arg-type]
    return [r.paper.title or "" for r in page.results]


def test_ranked_by_bm25_with_title_matches_first(seeded: Services) -> None:
    found = titles(seeded, "patch diffusion")
    assert found[0].startswith("Patch Diffusion")


def test_phrase_requires_adjacent_words(seeded: Services) -> None:
    page = search(seeded, '"lottery ticket"', limit=50)
    assert page.total > 0
    for result in page.results:
        text = f"{result.paper.title} {result.paper.abstract}".lower()
        assert "lottery ticket" in text


def test_excluded_words_are_absent(seeded: Services) -> None:
    with_word = search(seeded, "pruning", limit=200)
    without = search(seeded, "pruning -lottery", limit=200)
    assert 0 < without.total < with_word.total
    for result in without.results:
        assert "lottery" not in f"{result.paper.title} {result.paper.abstract}".lower()


def test_author_filter(seeded: Services) -> None:
    page = search(seeded, 'diffusion author:"Zhendong Wang"', limit=20)
    assert page.results
    assert all("Zhendong Wang" in r.paper.authors for r in page.results)


def test_year_filter(seeded: Services) -> None:
    page = search(seeded, "learning year:2022", limit=100)
    assert page.results
    for r in page.results:
        when = r.paper.published or r.paper.featured
        assert when is not None and when.year == 2022


def test_match_all_is_stricter(seeded: Services) -> None:
    any_terms = search(seeded, "federated medical", limit=5)
    all_terms = search(seeded, "federated medical", limit=5, match_all=True)
    assert all_terms.total < any_terms.total


def test_snippet_marks_matched_words(seeded: Services) -> None:
    result = search(seeded, "gradient inversion", limit=1).results[0]
    marked = [text.lower() for text, hit in result.snippet if hit]
    assert marked and all(w.startswith(("gradient", "invers")) for w in marked)
    assert set(result.explain["matched_terms"]) & {"gradient", "inversion"}
    assert result.explain["keyword"]["rank"] == 1


def test_offset_pages_through_results(seeded: Services) -> None:
    first = titles(seeded, "diffusion", limit=5)
    second = titles(seeded, "diffusion", limit=5, offset=5)
    assert len(first) == len(second) == 5 and not set(first) & set(second)


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced quote',
        "(((",
        "NEAR(a b)",
        "a OR b AND NOT c",
        "*",
        "'; DROP TABLE papers; --",
        "title:",
        "author:",
        "cat:cs.LG",
        'org:"; DROP TABLE papers; --',
        "réseaux de neurones 深度学习",
        "\x00\x1f",
        "-",
        '""',
    ],
)
def test_hostile_queries_are_just_words(seeded: Services, query: str) -> None:
    search(seeded, query)  # no exception of any kind
    assert seeded.store.count() == 269


def test_bad_filter_is_one_clear_error(seeded: Services) -> None:
    with pytest.raises(InvalidQuery, match="year:abc"):
        search(seeded, "year:abc")


def test_running_services_see_papers_ingested_elsewhere(services: Services) -> None:
    """A server's keyword index follows ingests made by another process."""
    from paperlens.config import Settings

    ingest(services.store, [SEEDS / "002_b71440666dad1b22.txt"])
    assert search(services, "lottery", mode="keyword").total > 0
    assert search(services, "human parsing", mode="keyword", match_all=True).total == 0
    other = Services(Settings(db=services.settings.db))
    try:
        ingest(other.store, [SEEDS / "004_b6e1b23f0907348b.txt"])
        other.sync_keyword()
    finally:
        other.close()
    assert search(services, "human parsing", mode="keyword", match_all=True).total > 0


def test_index_holds_each_paper_once_after_merges_and_updates(services: Services) -> None:
    """Fed per batch (as the CLI does), merged and updated papers are replaced, not added."""
    ingest(services.store, [SEEDS], fmt="listing", batch_size=7, on_batch=services.feed_keyword)
    services.sync_keyword()
    assert services.fulltext.num_docs() == services.store.count() == 269
    ingest(services.store, [SEEDS / "001_4682943d94a063a5.txt"], fmt="listing")  # unchanged
    other = SEEDS.parent / "hf_daily_papers" / "daily_papers_2024-05-29.json"
    ingest(services.store, [other])
    services.sync_keyword()
    assert services.fulltext.num_docs() == services.store.count()


def test_org_filter_applies_to_every_match_not_the_best_few(seeded: Services) -> None:
    """``org:`` is an index term: the total counts every match, and only that organisation."""
    everyone = search(seeded, "model", limit=1000)
    orgs = {o for r in everyone.results for o in r.paper.organisations}
    assert orgs, "the seed corpus names organisations"
    org = sorted(orgs)[0]
    expected = {r.paper.id for r in everyone.results if org in r.paper.organisations}
    page = search(seeded, f'model org:"{org.upper()}"', limit=1000)
    assert {r.paper.id for r in page.results} == expected
    assert page.total == len(expected)
