from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperlens.errors import InvalidQuery
from paperlens.index.keyword import parse_query


@pytest.mark.parametrize(
    ("query", "field", "expected"),
    [
        ("diffusion models", "words", ["diffusion", "models"]),
        ('"video generation" fast', "phrases", ["video generation"]),
        ('"video generation" fast', "words", ["fast"]),
        ("-audio pruning", "excluded", ["audio"]),
        ('-"speech synthesis" x', "excluded", ["speech synthesis"]),
        ("+sparse x", "required", ["sparse"]),
        ('author:"Zhendong Wang"', "authors", ["Zhendong Wang"]),
        ("author:Wang", "authors", ["Wang"]),
        ("title:pruning", "titles", ["pruning"]),
        ("cat:cs.LG", "categories", ["cs.LG"]),
        ('org:"Example Lab" x', "organisations", ["Example Lab"]),
        ("foo:bar", "words", ["foo bar"]),
        ('"unbalanced quote', "words", ['"unbalanced', "quote"]),
        ("a OR b NEAR(c)", "words", ["a", "OR", "b", "NEAR(c)"]),
    ],
)
def test_parse_parts(query: str, field: str, expected: list[str]) -> None:
    assert getattr(parse_query(query), field) == expected


@pytest.mark.parametrize(
    ("query", "years"),
    [
        ("year:2023", (2023, 2023)),
        ("year:2021..2023", (2021, 2023)),
        ("year:2021..", (2021, None)),
        ("year:..2020", (None, 2020)),
    ],
)
def test_years(query: str, years: tuple[int | None, int | None]) -> None:
    parsed = parse_query(query)
    assert (parsed.year_from, parsed.year_to) == years


@pytest.mark.parametrize("query", ["year:20x", "year:..", "year:2023..2021", "x" * 1001])
def test_invalid_queries_raise_one_clear_error(query: str) -> None:
    with pytest.raises(InvalidQuery):
        parse_query(query)


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=200))
def test_any_text_parses_or_raises_invalid_query(text: str) -> None:
    with contextlib.suppress(InvalidQuery):
        parse_query(text)
