from __future__ import annotations

import pytest

from paperlens.ids import find_arxiv_id, normalise_doi, paper_id_for, parse_arxiv_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2202.09844", ("2202.09844", None)),
        ("2202.09844v3", ("2202.09844", 3)),
        ("arXiv:2202.09844v2", ("2202.09844", 2)),
        ("1501.00001", ("1501.00001", None)),
        ("quant-ph/0201082", ("quant-ph/0201082", None)),
        ("quant-ph/0201082v1", ("quant-ph/0201082", 1)),
        ("math.GT/0309136", ("math.GT/0309136", None)),
        ("http://arxiv.org/abs/cond-mat/0603029v1", ("cond-mat/0603029", 1)),
        ("https://arxiv.org/pdf/2306.13394v4", ("2306.13394", 4)),
        ("10.48550/arXiv.2306.13394", ("2306.13394", None)),
        ("not an id", None),
        ("2202.0984", None),
        ("", None),
    ],
)
def test_parse_arxiv_id(text: str, expected: tuple[str, int | None] | None) -> None:
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("arXiv preprint arXiv:2306.13394", ("2306.13394", None)),
        ("see arXiv:hep-ex/0406020v1 for details", ("hep-ex/0406020", 1)),
        ("no identifier here", None),
    ],
)
def test_find_arxiv_id(text: str, expected: tuple[str, int | None] | None) -> None:
    assert find_arxiv_id(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.1103/PhysRevB.74.144423", "10.1103/physrevb.74.144423"),
        ("https://doi.org/10.1103/PhysRevB.74.144423", "10.1103/physrevb.74.144423"),
        ("doi:10.1000/xyz123.", "10.1000/xyz123"),
        ("nonsense", None),
        (None, None),
    ],
)
def test_normalise_doi(text: str | None, expected: str | None) -> None:
    assert normalise_doi(text) == expected


def test_paper_ids_are_stable_and_distinct() -> None:
    assert paper_id_for("arxiv:2202.09844") == paper_id_for("arxiv:2202.09844")
    assert paper_id_for("arxiv:2202.09844") != paper_id_for("arxiv:2202.09845")
    assert paper_id_for("x").startswith("pl_")
