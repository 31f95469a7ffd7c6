"""Hugging Face Daily Papers parser, on the recorded 2024, 2025 and 2026 API responses."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperlens.errors import UnreadableInput
from paperlens.model import Observation, ParseError, Record
from paperlens.sources import get_source
from paperlens.sources.hf_daily import HfDaily

FIXTURES = Path(__file__).parent.parent / "fixtures"
HF = FIXTURES / "hf_daily_papers"
FILE_2024 = HF / "daily_papers_2024-05-29.json"
FILE_2025 = HF / "daily_papers_2025-04-09.json"
FILE_2026 = HF / "daily_papers_2026-07-15.json"
AT = datetime(2026, 7, 16, 8, 30, tzinfo=UTC)


def parse(data: bytes, origin: str = "daily.json") -> list[Record | ParseError]:
    return list(HfDaily(observed_at=AT).parse(io.BytesIO(data), origin))


def records(path: Path) -> list[Record]:
    out = parse(path.read_bytes(), str(path))
    assert all(isinstance(r, Record) for r in out), [r for r in out if isinstance(r, ParseError)]
    return [r for r in out if isinstance(r, Record)]


def signals(record: Record) -> dict[str, float]:
    return {s.kind: s.value for s in record.signals}


# --- the 2024 schema: paper {id, authors, publishedAt, title, summary, upvotes} only ----------


def test_2024_record_fields() -> None:
    recs = records(FILE_2024)
    assert [r.source_key for r in recs] == [
        "2405.18407",
        "2405.18047",
        "2405.18426",
        "2405.18386",
        "2405.17991",
        "2405.17976",
        "2405.18377",
        "2405.18424",
    ]
    pcm = recs[0]
    assert pcm.source == "hf-daily"
    assert pcm.location == "record 1"
    assert pcm.origin == str(FILE_2024)
    assert pcm.arxiv_id == "2405.18407"
    assert pcm.version is None
    assert pcm.title == "Phased Consistency Model"
    assert pcm.authors == [
        "Fu-Yun Wang",
        "Zhaoyang Huang",
        "Alexander William Bergman",
        "Dazhong Shen",
        "Peng Gao",
        "Michael Lingelbach",
        "Keqiang Sun",
        "Weikang Bian",
        "Guanglu Song",
        "Yu Liu",
        "Hongsheng Li",
        "Xiaogang Wang",
    ]
    assert pcm.published == date(2024, 5, 28)
    # No submittedOnDailyAt in 2024: the item's publishedAt (2024-05-29T02:42Z) is the day featured.
    assert pcm.featured == date(2024, 5, 29)
    assert pcm.links == ["https://g-u-n.github.io/projects/pcm/"]
    assert pcm.signals == [
        Observation("upvotes", 18.0, "hf-daily", AT),
        Observation("comments", 5.0, "hf-daily", AT),
    ]
    assert pcm.extra == {"hf_id": "2405.18407"}
    assert pcm.organisations == []
    assert pcm.observed_at == AT


def test_2024_hard_wrapped_title_and_abstract_are_cleaned() -> None:
    music = records(FILE_2024)[3]
    assert music.title == (
        "Instruct-MusicGen: Unlocking Text-to-Music Editing for Music Language Models via "
        "Instruction Tuning"
    )
    assert music.abstract is not None
    assert "\n" not in music.abstract
    assert music.abstract.startswith(
        "Recent advances in text-to-music editing, which employ text queries to modify mu"
    )
    assert music.authors[4] == "Marco A. Martínez-Ramírez"
    assert len(music.authors) == 10
    assert signals(music) == {"upvotes": 7.0, "comments": 2.0}


def test_2024_url_at_end_of_abstract_is_a_link() -> None:
    gflow = records(FILE_2024)[2]
    assert gflow.abstract is not None
    assert gflow.abstract.endswith(
        "Visit our project website at: https://littlepure2333.github.io/GFlow"
    )
    assert gflow.links == ["https://littlepure2333.github.io/GFlow"]


# --- the 2025 schema: submittedOnDailyAt, githubRepo, projectPage, ai_keywords ---------------


def test_2025_record_fields() -> None:
    recs = records(FILE_2025)
    assert len(recs) == 8
    omni = recs[0]
    assert omni.source_key == omni.arxiv_id == "2504.06263"
    assert omni.title == "OmniSVG: A Unified Scalable Vector Graphics Generation Model"
    assert omni.authors == [
        "Yiying Yang",
        "Wei Cheng",
        "Sijin Chen",
        "Xianfang Zeng",
        "Jiaxu Zhang",
        "Liao Wang",
        "Gang Yu",
        "Xingjun Ma",
        "Yu-Gang Jiang",
    ]
    assert omni.published == date(2025, 4, 8)
    assert omni.featured == date(2025, 4, 9)  # submittedOnDailyAt 2025-04-09T01:51:00.484Z
    assert omni.links == ["https://github.com/OmniSVG/OmniSVG", "https://omnisvg.github.io/"]
    assert signals(omni) == {"upvotes": 35.0, "comments": 1.0}
    assert omni.extra == {"hf_id": "2504.06263", "discussion_id": "67f5e3751b29460f6a087aa7"}


def test_2025_featured_is_submitted_on_daily_not_the_item_date() -> None:
    # 2504.02160 was published on arXiv on 2025-04-02 (item publishedAt 2025-04-02T18:20Z,
    # the arXiv time in US Eastern) and put on the daily list on 2025-04-09.
    uno = records(FILE_2025)[3]
    assert uno.source_key == "2504.02160"
    assert uno.published == date(2025, 4, 2)
    assert uno.featured == date(2025, 4, 9)
    assert uno.title == (
        "Less-to-More Generalization: Unlocking More Controllability by In-Context Generation"
    )
    assert uno.links == ["https://github.com/bytedance/UNO", "https://bytedance.github.io/UNO/"]
    assert uno.extra["ai_keywords"] == [
        "diffusion transformers",
        "in-context generation",
        "multi-subject paired data",
        "UNO",
        "progressive cross-modal alignment",
        "universal rotary position embedding",
        "multi-image conditioned",
        "subject-to-image model",
        "text-to-image model",
    ]
    assert uno.extra["discussion_id"] == "67efd1d140e0a904109cad62"


def test_2025_every_paper_is_featured_on_the_list_date() -> None:
    assert {r.featured for r in records(FILE_2025)} == {date(2025, 4, 9)}


# --- the 2026 schema: organization objects ----------------------------------------------------


def test_2026_record_fields() -> None:
    read_it_back, know_before_fix = records(FILE_2026)
    assert read_it_back.source_key == "2607.11886"
    assert read_it_back.title == (
        "Read It Back: Pretrained MLLMs Are Zero-Shot Reward Models for Text-to-Image Generation"
    )
    assert read_it_back.authors == [
        "Runhui Huang",
        "Qihui Zhang",
        "Zhe Liu",
        "Yu Gao",
        "Jie Wu",
        "Hengshuang Zhao",
    ]
    assert read_it_back.organisations == ["ByteDance Seed"]
    assert read_it_back.extra == {
        "hf_id": "2607.11886",
        "discussion_id": "6a56ef3ae548eb96f98cca6a",
        "hf_organizations": ["ByteDance-Seed"],
    }
    # Item publishedAt is 2026-07-12T20:00Z; the paper's own date is what is kept.
    assert read_it_back.published == date(2026, 7, 13)
    assert read_it_back.featured == date(2026, 7, 15)
    # The project page is also written at the end of the abstract: one link, not two.
    assert read_it_back.links == ["https://huangrh99.github.io/SpectraReward/"]
    assert signals(read_it_back) == {"upvotes": 24.0, "comments": 2.0}

    assert know_before_fix.source_key == "2607.11111"
    assert know_before_fix.organisations == ["Shanghai Jiao Tong University"]
    assert know_before_fix.extra["hf_organizations"] == ["SJTU"]
    assert len(know_before_fix.authors) == 11
    assert know_before_fix.links == []
    assert signals(know_before_fix) == {"upvotes": 3.0, "comments": 1.0}


def test_2026_ai_summary_and_github_stars_when_present() -> None:
    items = json.loads(FILE_2026.read_bytes())
    items[0]["paper"]["ai_summary"] = "A reward from prompt likelihood."
    items[0]["paper"]["githubStars"] = 120
    items[0]["paper"]["githubRepo"] = "https://github.com/huangrh99/SpectraReward"
    (rec, _) = parse(json.dumps(items).encode())
    assert isinstance(rec, Record)
    assert rec.extra["ai_summary"] == "A reward from prompt likelihood."
    assert signals(rec) == {"upvotes": 24.0, "comments": 2.0, "github_stars": 120.0}
    assert rec.links == [
        "https://github.com/huangrh99/SpectraReward",
        "https://huangrh99.github.io/SpectraReward/",
    ]


# --- single /api/papers/{id} objects and other shapes ------------------------------------------


def test_single_paper_object() -> None:
    paper = json.loads(FILE_2025.read_bytes())[0]["paper"]
    (rec,) = parse(json.dumps(paper, indent=2).encode(), "api_papers_2504.06263.json")
    assert isinstance(rec, Record)
    assert rec.source_key == "2504.06263"
    assert rec.location == "record 1"
    assert rec.title == "OmniSVG: A Unified Scalable Vector Graphics Generation Model"
    assert rec.featured == date(2025, 4, 9)
    assert signals(rec) == {"upvotes": 35.0}  # numComments lives on the daily item only


def test_hidden_authors_are_kept() -> None:
    items = json.loads(FILE_2024.read_bytes())
    items[1]["paper"]["authors"][1]["hidden"] = True
    rec = parse(json.dumps(items).encode())[1]
    assert isinstance(rec, Record)
    assert rec.authors == ["Christopher Rae", "Joseph K. L. Lee", "James Richings"]


def test_versioned_id() -> None:
    items = json.loads(FILE_2024.read_bytes())[:1]
    items[0]["paper"]["id"] = "2405.18407v2"
    (rec,) = parse(json.dumps(items).encode())
    assert isinstance(rec, Record)
    assert (rec.source_key, rec.arxiv_id, rec.version) == ("2405.18407v2", "2405.18407", 2)


def test_empty_list_gives_nothing() -> None:
    assert parse(b"[]\n") == []


def test_api_error_body_is_a_parse_error() -> None:
    (err,) = parse(b'{"error": "Paper not found"}')
    assert isinstance(err, ParseError)
    assert err.reason == "API error response: Paper not found"


def test_default_observed_at_is_parse_time() -> None:
    before = datetime.now(UTC)
    (rec, *_) = HfDaily().parse(io.BytesIO(FILE_2026.read_bytes()), "x")
    assert isinstance(rec, Record)
    assert rec.observed_at is not None
    assert before <= rec.observed_at <= datetime.now(UTC)
    assert {s.observed_at for s in rec.signals} == {rec.observed_at}


def test_content_hash_ignores_when_it_was_observed() -> None:
    a = records(FILE_2026)[0]
    (b, *_) = HfDaily(observed_at=datetime(2030, 1, 1, tzinfo=UTC)).parse(
        io.BytesIO(FILE_2026.read_bytes()), "renamed.json"
    )
    assert isinstance(b, Record)
    assert a.content_hash == b.content_hash


# --- broken input -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [FILE_2024, FILE_2025, FILE_2026], ids=lambda p: p.stem)
@pytest.mark.parametrize("fraction", [0.3, 0.55, 0.8, 0.999])
def test_truncated_file_keeps_complete_items_and_says_where_it_broke(
    path: Path, fraction: float
) -> None:
    data = path.read_bytes()
    cut = data[: int(len(data) * fraction)]
    out = parse(cut, "cut.json")
    *good, err = out
    assert isinstance(err, ParseError)
    assert all(isinstance(r, Record) for r in good)
    full = records(path)
    assert [r.source_key for r in good] == [r.source_key for r in full[: len(good)]]
    assert good == [
        r for r in parse(data, "cut.json")[: len(good)]
    ]  # the same records as from the whole file
    line = cut.count(b"\n") + 1
    assert err.location.startswith(f"line {line} column ")
    assert f"inside record {len(good) + 1}" in err.reason
    assert "truncated" in err.reason or "Unterminated" in err.reason or "Expecting" in err.reason


def test_truncated_exactly_after_an_item() -> None:
    data = FILE_2026.read_bytes()
    end_of_first = data.index(b'"isAuthorParticipating": false\n  }') + len(
        b'"isAuthorParticipating": false\n  }'
    )
    out = parse(data[:end_of_first], "cut.json")
    assert [type(x) for x in out] == [Record, ParseError]
    assert isinstance(out[1], ParseError)
    assert "not closed" in out[1].reason


def test_malformed_items_among_good_ones() -> None:
    items = json.loads(FILE_2024.read_bytes())
    items[1] = "not an item"
    items[3]["paper"]["id"] = 2405.18386  # a number loses trailing zeros: refused
    del items[5]["paper"]["id"]
    items[6]["paper"] = None
    out = parse(json.dumps(items, indent=4).encode(), "mixed.json")
    assert [type(x).__name__ for x in out] == [
        "Record",
        "ParseError",
        "Record",
        "ParseError",
        "Record",
        "ParseError",
        "ParseError",
        "Record",
    ]
    errors = [x for x in out if isinstance(x, ParseError)]
    assert [e.location for e in errors] == ["record 2", "record 4", "record 6", "record 7"]
    assert errors[0].reason == "expected a JSON object, found a string"
    assert errors[1].reason == "paper has no 'id' string"
    assert errors[3].reason == "'paper' is null, not an object"


def test_wrong_types_inside_a_paper_are_dropped_not_fatal() -> None:
    items = json.loads(FILE_2025.read_bytes())[:1]
    paper = items[0]["paper"]
    paper.update(title=["x"], authors="Yiying Yang", upvotes="35", githubRepo=7)
    paper["publishedAt"] = "yesterday"
    items[0]["numComments"] = float("inf")
    (rec,) = parse(json.dumps(items).encode())
    assert isinstance(rec, Record)
    assert rec.title == "OmniSVG: A Unified Scalable Vector Graphics Generation Model"  # item title
    assert rec.authors == []
    assert rec.published is None
    assert rec.signals == []
    assert rec.links == ["https://omnisvg.github.io/"]


def test_not_json_at_all() -> None:
    (err,) = parse(b"hello, this is not JSON\n")
    assert isinstance(err, ParseError)
    assert err.location == "line 1 column 1"


def test_garbage_between_items() -> None:
    items = json.loads(FILE_2026.read_bytes())
    text = json.dumps(items, indent=2).replace("\n  },\n  {", "\n  }\n  ;{", 1)
    out = parse(text.encode())
    assert [type(x) for x in out] == [Record, ParseError]
    assert isinstance(out[1], ParseError)
    assert "expected ',' or ']'" in out[1].reason


def test_invalid_utf8_past_the_head_costs_only_its_record() -> None:
    # The 64 KiB head is checked as a whole; a bad byte after it (here a Latin-1
    # "é" in the 4th item's title) refuses that record and no other.
    data = b"[" + b" " * 70_000 + FILE_2024.read_bytes().lstrip()[1:]
    data = data.replace(b"Instruct-MusicGen", b"Instruct-Music\xe9Gen", 1)
    out = parse(data)
    assert [type(x).__name__ for x in out] == ["Record"] * 3 + ["ParseError"] + ["Record"] * 4
    err = out[3]
    assert isinstance(err, ParseError)
    assert err.location == "record 4"
    assert err.reason.startswith("not UTF-8: invalid byte 0xe9 at line ")


def test_invalid_utf8_between_items_breaks_the_json() -> None:
    data = b"[" + b" " * 70_000 + FILE_2026.read_bytes().lstrip()[1:]
    data = data.replace(b"},\n  {", b"},\xff\n  {", 1)
    out = parse(data)
    assert [type(x) for x in out] == [Record, ParseError]
    assert isinstance(out[1], ParseError)
    assert "invalid byte 0xff, not UTF-8" in out[1].reason


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"  \n\t ", "empty file"),
        (b'[{"paper": \x00\x01}]', "binary file"),
        (b'[{"paper": {"id": "2405.18407", "title": "caf\xe9"}}]', "not UTF-8"),
    ],
)
def test_unreadable_inputs_raise_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableInput, match=rf"^broken\.json: {message}"):
        parse(data, "broken.json")


# --- detection --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(HF.glob("*.json")), ids=lambda p: p.stem)
def test_sniff_accepts_daily_lists(path: Path) -> None:
    assert HfDaily().sniff(path.read_bytes()[:65536], path.name)


def test_sniff_accepts_a_single_paper_object() -> None:
    paper = json.loads(FILE_2025.read_bytes())[1]["paper"]
    assert HfDaily().sniff(json.dumps(paper).encode(), "paper.json")


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in sorted(FIXTURES.rglob("*"))
        if p.is_file() and p.suffix != ".md" and p.parent.name != "hf_daily_papers"
    ],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_sniff_rejects_other_formats(path: Path) -> None:
    assert not HfDaily().sniff(path.read_bytes()[:65536], path.name)


def test_registered_under_its_format_name() -> None:
    assert isinstance(get_source("hf-daily"), HfDaily)
    assert HfDaily.name == "hf-daily"


# --- properties -------------------------------------------------------------------------------

BLOBS = [p.read_bytes() for p in (FILE_2024, FILE_2025, FILE_2026)]
JSON_BYTES = [*b'{}[]",:\\ 0123456789.-eEtrufalsn', 0xC3, 0xFF, 0x00, 0x0A]


def _unreadable(data: bytes) -> bool:
    if not data.strip() or b"\x00" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def check(data: bytes) -> list[Record | ParseError]:
    """Parse, and check that only well-formed records and parse errors come out."""
    try:
        out = parse(data, "fuzz.json")
    except UnreadableInput:
        assert _unreadable(data)
        return []
    for item in out:
        assert isinstance(item, Record | ParseError)
        if isinstance(item, Record):
            assert item.source == "hf-daily"
            assert item.source_key
            assert len(item.content_hash) == 64  # encodable: no lone surrogates, no NaN
            json.dumps(item.to_json(), allow_nan=False)
        else:
            assert item.origin == "fuzz.json" and item.location and item.reason
    return out


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(BLOBS)))
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["delete", "insert", "replace", "truncate", "splice"]))
        if op == "delete":
            del data[pos : pos + draw(st.integers(1, 40))]
        elif op == "insert":
            data[pos:pos] = bytes(
                draw(st.lists(st.sampled_from(JSON_BYTES), min_size=1, max_size=8))
            )
        elif op == "replace" and pos < len(data):
            data[pos] = draw(st.sampled_from(JSON_BYTES))
        elif op == "truncate":
            del data[pos:]
        elif op == "splice":
            other = draw(st.sampled_from(BLOBS))
            start = draw(st.integers(0, len(other)))
            data[pos:pos] = other[start : start + draw(st.integers(1, 400))]
    return bytes(data)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_PAPER_KEYS = st.sampled_from(
    ["id", "title", "summary", "authors", "publishedAt", "submittedOnDailyAt", "upvotes",
     "githubRepo", "projectPage", "githubStars", "ai_keywords", "ai_summary", "organization",
     "discussionId"]
)  # fmt: skip
_papers = st.dictionaries(_PAPER_KEYS, _JSON, max_size=10)
_items = st.fixed_dictionaries(
    {"paper": _papers},
    optional={"numComments": _JSON, "publishedAt": _JSON, "organization": _JSON, "title": _JSON},
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_property_mutated_real_files(data: bytes) -> None:
    check(data)


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=300))
def test_property_arbitrary_text(text: str) -> None:
    check(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=400, deadline=None)
@given(st.lists(_items | _papers | _JSON, max_size=5), st.booleans())
def test_property_arbitrary_json_items(items: list[object], pretty: bool) -> None:
    out = check(json.dumps(items, indent=2 if pretty else None).encode("utf-8", "surrogatepass"))
    if not _unreadable(json.dumps(items).encode("utf-8", "surrogatepass")):
        assert len(out) == len(items)  # exactly one record or error per item
