"""Tests for the saved-listing-page parser on the five real seed pages.

The seed pages are the ground truth: together they hold exactly 269 distinct
papers, seven of which appear in two files. The per-file counts below come
from the pages' own structural markers (counted here with plain regexes, not
with the parser), so a parser that drops, splits or invents entries fails.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperlens import text
from paperlens.errors import UnreadableInput
from paperlens.model import ParseError, Record
from paperlens.sources import listing
from paperlens.sources.listing import CHROME, Listing, find_links, split_title_authors

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEEDS = FIXTURES / "seeds"
ORG, HF_SEARCH, ARXIV, HF_AUTHORS, HF_DENSE = (
    "000_1f8cb36ee7960766.txt",
    "001_4682943d94a063a5.txt",
    "002_b71440666dad1b22.txt",
    "003_303675aa198dfc79.txt",
    "004_b6e1b23f0907348b.txt",
)
SEED_FILES = (ORG, HF_SEARCH, ARXIV, HF_AUTHORS, HF_DENSE)
_MON = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"


def _lines(name: str) -> list[str]:
    return (SEEDS / name).read_text(encoding="utf-8").split("\n")


@cache
def _parsed(name: str) -> tuple[Record | ParseError, ...]:
    with (SEEDS / name).open("rb") as fh:
        return tuple(Listing().parse(fh, name))


def _records(name: str) -> list[Record]:
    return [r for r in _parsed(name) if isinstance(r, Record)]


def _by_title(name: str, prefix: str) -> Record:
    (found,) = [r for r in _records(name) if r.title and r.title.startswith(prefix)]
    return found


def _parse_text(content: str, origin: str = "test.txt") -> list[Record | ParseError]:
    return list(Listing().parse(io.BytesIO(content.encode("utf-8")), origin))


# --------------------------------------------------------------------------- counts


def _count_org(lines: list[str]) -> int:
    """Header lines: a site category glued to a date, "CVApr 25, 2023Code"."""
    return sum(bool(re.match(rf"^[A-Z]{{2}}{_MON} \d", ln)) for ln in lines)


def _count_after_page_date(lines: list[str]) -> int:
    """HF search page with blank lines: title/abstract pairs after the "Mar 12" page date."""
    start = next(i for i, ln in enumerate(lines) if re.fullmatch(rf"{_MON} \d+", ln))
    return sum(1 for ln in lines[start + 1 :] if ln.strip()) // 2


def _count_arxiv(lines: list[str]) -> int:
    return sum(ln.startswith("arXiv:") for ln in lines)


def _count_author_blocks(lines: list[str]) -> int:
    return sum(bool(re.fullmatch(r"\s*• \d+ authors?", ln)) for ln in lines)


def _count_dense(lines: list[str]) -> int:
    """HF page without blank lines: two chrome lines, then title/abstract pairs."""
    assert lines[0].startswith("Get trending papers") and lines[1].startswith("Get trending")
    return sum(1 for ln in lines[2:] if ln.strip()) // 2


@pytest.mark.parametrize(
    ("name", "count_markers", "expected"),
    [
        (ORG, _count_org, 50),
        (HF_SEARCH, _count_after_page_date, 70),
        (ARXIV, _count_arxiv, 10),
        (HF_AUTHORS, _count_author_blocks, 55),
        (HF_DENSE, _count_dense, 91),
    ],
)
def test_one_record_per_real_entry(name: str, count_markers, expected: int) -> None:
    assert count_markers(_lines(name)) == expected
    errors = [e for e in _parsed(name) if isinstance(e, ParseError)]
    assert errors == []
    assert len(_records(name)) == expected


def test_seeds_hold_269_papers_seven_of_them_in_two_files() -> None:
    """Union-find over the keys merge uses: arXiv id, title key, abstract key."""
    records = [(name, r) for name in SEED_FILES for r in _records(name)]
    parent = list(range(len(records)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with_key: dict[str, int] = {}
    for i, (_, rec) in enumerate(records):
        keys = []
        if rec.arxiv_id:
            keys.append("arxiv:" + rec.arxiv_id)
        if rec.title:
            keys.append("title:" + text.title_key(rec.title))
        if rec.abstract:
            keys.append("abstract:" + text.abstract_key(rec.abstract))
        for key in keys:
            if key in first_with_key:
                parent[find(i)] = find(first_with_key[key])
            else:
                first_with_key[key] = i

    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(records)):
        groups[find(i)].append(i)
    assert len(groups) == 269
    shared = [g for g in groups.values() if len({records[i][0] for i in g}) > 1]
    assert len(shared) == 7
    assert all(len(g) == 2 for g in shared)
    assert {records[g[0]][1].title for g in shared} == {
        "GIFD: A Generative Gradient Inversion Method with Feature Domain Optimization",
        "NitroFusion: High-Fidelity Single-Step Diffusion through Dynamic Adversarial Training",
        "On the Generalization Mystery in Deep Learning",
        "Do Input Gradients Highlight Discriminative Features?",
        "Sequential Gradient Coding For Straggler Mitigation",
        "Unlearning Concepts in Diffusion Model via Concept Domain Correction and Concept "
        "Preserving Gradient",
        "All but One: Surgical Concept Erasing with Model Preservation in Text-to-Image "
        "Diffusion Models",
    }


@pytest.mark.parametrize("name", SEED_FILES)
def test_records_are_well_formed(name: str) -> None:
    keys = set()
    for rec in _records(name):
        assert rec.source == "listing"
        assert rec.origin == name
        assert re.fullmatch(r"line \d+", rec.location)
        assert rec.abstract and rec.abstract == text.clean_whitespace(rec.abstract)
        assert rec.categories == []  # site categories are not arXiv categories
        keys.add(rec.source_key)
        if rec.arxiv_id:
            assert rec.source_key == rec.arxiv_id
        elif rec.title:
            assert rec.source_key == "title:" + text.title_key(rec.title)
        assert rec.to_json()["source"] == "listing"
    assert len(keys) == len(_records(name))


# --------------------------------------------------------------------------- chrome


@pytest.mark.parametrize("name", [HF_SEARCH, HF_AUTHORS, HF_DENSE])
def test_page_chrome_never_becomes_a_paper(name: str) -> None:
    for rec in _records(name):
        assert rec.title not in CHROME
        assert not rec.title.startswith(("Subscribe", "Get trending", "byAK"))
        assert not re.fullmatch(rf"{_MON} \d+(, \d{{4}})?", rec.title)
        # The location points at the title line.
        assert _lines(name)[int(rec.location.split()[1]) - 1].strip().endswith(rec.title)


@pytest.mark.parametrize(
    ("name", "first_title", "location", "page_date"),
    [
        (
            HF_SEARCH,
            "GIFD: A Generative Gradient Inversion Method with Feature Domain Optimization",
            "line 11",
            "Mar 12",
        ),
        (
            HF_AUTHORS,
            "EMR-MSF: Self-Supervised Recurrent Monocular Scene Flow Exploiting "
            "Ego-Motion Rigidity",
            "line 13",
            "Oct 17",
        ),
        (HF_DENSE, "Deep Human Parsing with Active Template Regression", "line 3", None),
    ],
)
def test_first_paper_follows_the_chrome(
    name: str, first_title: str, location: str, page_date: str | None
) -> None:
    first = _records(name)[0]
    assert (first.title, first.location) == (first_title, location)
    assert first.extra.get("listing_page_date") == page_date
    assert first.featured is None  # the page date is when it was saved, not a featured date


def test_hf_pages_invent_no_authors() -> None:
    for name in (HF_SEARCH, HF_AUTHORS, HF_DENSE):
        for rec in _records(name):
            assert rec.authors == [] and rec.authors_complete is False
    counts = [r.author_count for r in _records(HF_AUTHORS)]
    expected = [int(m) for m in re.findall(r"• (\d+) authors?", "\n".join(_lines(HF_AUTHORS)))]
    assert counts == expected
    assert all(r.author_count is None for r in _records(HF_DENSE))


# --------------------------------------------------------------------------- org layout


def test_every_org_title_line_splits_without_losing_text() -> None:
    lines = _lines(ORG)
    name_re = re.compile(r"[A-Z][\w.'-]*(?: [A-Z][\w.'-]*){1,3}")
    for rec in _records(ORG):
        raw = lines[int(rec.location.split()[1])].strip()  # the line after the header
        rebuilt = rec.title + ", ".join(rec.authors)
        rebuilt += "" if rec.authors_complete else " et al."
        rebuilt += f" · {', '.join(rec.organisations)}" if rec.organisations else ""
        assert rebuilt == raw
        assert len(rec.authors) == 3 and not rec.authors_complete
        assert rec.author_count is None  # "et al." hides how many there are
        assert all(name_re.fullmatch(a) for a in rec.authors), rec.authors
        assert rec.extra["listing_category"] in {"CV", "LG", "RO", "CR", "IV", "AI", "AR"}


@pytest.mark.parametrize(
    ("title", "authors", "orgs"),
    [
        (
            "Patch Diffusion: Faster and More Data-Efficient Training of Diffusion Models",
            ["Zhendong Wang", "Yifan Jiang", "Huangjie Zheng"],
            ["apple-ml", "microsoft-research"],
        ),
        (
            "Versatile Diffusion: Text, Images and Variations All in One Diffusion Model",
            ["Xingqian Xu", "Zhangyang Wang", "Eric Zhang"],
            ["gatech"],
        ),
        (
            "M$^3$ViT: Mixture-of-Experts Vision Transformer for Efficient Multi-task Learning "
            "with Model-Accelerator Co-design",
            ["Hanxue Liang", "Zhiwen Fan", "Rishov Sarkar"],
            [],
        ),
        (
            "Zero-Shot Neural Architecture Search: Challenges, Solutions, and Opportunities",
            ["Guihong Li", "Duc Hoang", "Kartikeya Bhardwaj"],
            [],
        ),
        (
            "Can pruning improve certified robustness of neural networks?",
            ["Zhangheng Li", "Tianlong Chen", "Linyi Li"],
            [],
        ),
        (
            "Symbolic Distillation for Learned TCP Congestion Control",
            ["S P Sharan", "Wenqing Zheng", "Kuo-Feng Hsu"],
            [],
        ),
        (
            "On The Planning Abilities of OpenAI's o1 Models: Feasibility, Optimality, and "
            "Generalizability",
            ["Kevin Wang", "Junbo Li", "Neel P. Bhatt"],
            [],
        ),
        (
            "Learning to Grow Pretrained Models for Efficient Transformer Training",
            ["Peihao Wang", "Rameswar Panda", "Lucas Torroba Hennigen"],
            ["mit"],
        ),
        (
            "Peeling the Onion: Hierarchical Reduction of Data Redundancy for Efficient Vision "
            "Transformer Training",
            ["Zhenglun Kong", "Haoyu Ma", "Geng Yuan"],
            ["harvard", "meta-ai"],
        ),
        (
            "Enhancing NeRF akin to Enhancing LLMs: Generalizable NeRF Transformer with "
            "Mixture-of-View-Experts",
            ["Wenyan Cong", "Hanxue Liang", "Peihao Wang"],
            [],
        ),
    ],
)
def test_org_title_author_split_spot_checks(
    title: str, authors: list[str], orgs: list[str]
) -> None:
    rec = _by_title(ORG, title)
    assert (rec.title, rec.authors, rec.organisations) == (title, authors, orgs)
    assert rec.authors_complete is False


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Deep ThingsJohn McDonald", ("Deep Things", ["John McDonald"], True, [])),
        (
            "A Study of NeRFDejia Xu, Ann Lee",
            ("A Study of NeRF", ["Dejia Xu", "Ann Lee"], True, []),
        ),
        ("GPT-4 AgentsDirk Wübben et al. · tu", ("GPT-4 Agents", ["Dirk Wübben"], False, ["tu"])),
        (
            "Foo: Bar, Baz QuxJohn Smith, Jane Doe",
            ("Foo: Bar, Baz Qux", ["John Smith", "Jane Doe"], True, []),
        ),
        ("A title with no authors at all", None),
    ],
)
def test_split_title_authors(line: str, expected: object) -> None:
    assert split_title_authors(line) == expected


def test_org_header_fields() -> None:
    rec = _by_title(ORG, "Patch Diffusion")
    assert rec.published == date(2023, 4, 25) and not rec.date_inferred
    assert rec.extra == {
        "listing_layout": "org",
        "listing_date": "Apr 25, 2023",
        "listing_category": "CV",
        "has_code": True,
    }
    assert "has_code" not in _by_title(ORG, "Learning to Grow Pretrained").extra


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("name", "title", "published", "inferred"),
    [
        (ORG, "LAD-VF: LLM-Automatic Differentiation", date(2025, 5, 25), True),
        (ORG, "LLM-PBE: Assessing Data Privacy", date(2024, 8, 23), False),
        (HF_AUTHORS, "NoProp: Training Neural Networks", date(2025, 3, 31), True),
        (HF_AUTHORS, "Grokking at the Edge of Numerical Stability", date(2025, 1, 8), True),
        (HF_AUTHORS, "Elucidating the Design Space of FP4 training", date(2025, 9, 22), True),
        (HF_AUTHORS, "EMR-MSF", date(2023, 9, 3), False),
        (HF_AUTHORS, "A Boundary Tilting Persepective", date(2016, 8, 27), False),
    ],
)
def test_listing_dates(name: str, title: str, published: date, inferred: bool) -> None:
    rec = _by_title(name, title)
    assert (rec.published, rec.date_inferred) == (published, inferred)
    assert rec.featured is None


@pytest.mark.parametrize(("name", "inferred"), [(ORG, 1), (HF_AUTHORS, 8), (HF_SEARCH, 0)])
def test_inferred_dates_are_flagged(name: str, inferred: int) -> None:
    flagged = [r for r in _records(name) if r.date_inferred]
    assert len(flagged) == inferred
    assert all(r.published and "," not in r.extra["listing_date"] for r in flagged)


def test_yearless_date_after_the_page_date_is_last_year() -> None:
    page = "Oct 17\n\nOld Paper\n\n" + "x " * 200 + "\n\n• 2 authors\n·\nJan 1, 2020\n\n"
    page += "Late Paper\n\n" + "y " * 200 + "\n\n• 3 authors\n·\nNov 2\n"
    old, late = _parse_text(page)
    assert isinstance(old, Record) and isinstance(late, Record)
    assert (late.published, late.date_inferred) == (date(2020, 11, 2), True)


def test_upvotes_kept_after_the_date() -> None:
    rec = _by_title(HF_AUTHORS, "Small-scale proxies for large-scale Transformer")
    assert (rec.published, rec.extra["upvotes"], rec.author_count) == (date(2023, 9, 25), 2, 16)


# --------------------------------------------------------------------------- arXiv layout


@pytest.mark.parametrize(
    ("location", "arxiv_id", "doi", "published", "updated", "comment"),
    [
        ("line 1", "2202.09844", None, date(2022, 2, 20), date(2022, 2, 22), None),
        ("line 6", "2202.04736", None, date(2022, 2, 9), None, None),
        (
            "line 11",
            "2202.02643",
            None,
            date(2022, 2, 5),
            None,
            "Published as a conference paper at ICLR 2022. Code is available at "
            "https://github.com/VITA-Group/Random_Pruning",
        ),
        ("line 23", "2201.01702", "10.1145/3488560.3498416", date(2022, 1, 4), None, "WSDM 2022"),
        ("line 52", "2110.04482", None, date(2021, 10, 9), None, "Submitted to ICASSP 2022"),
    ],
)
def test_arxiv_listing_entries(
    location: str,
    arxiv_id: str,
    doi: str | None,
    published: date,
    updated: date | None,
    comment: str | None,
) -> None:
    (rec,) = [r for r in _records(ARXIV) if r.location == location]
    assert (rec.arxiv_id, rec.source_key, rec.doi) == (arxiv_id, arxiv_id, doi)
    assert (rec.published, rec.updated, rec.comment) == (published, updated, comment)
    assert rec.title is None and rec.abstract and rec.version is None


# --------------------------------------------------------------------------- links


@pytest.mark.parametrize(
    ("name", "title_or_location", "links"),
    [
        (ORG, "Forget-Me-Not", ["https://github.com/SHI-Labs/Forget-Me-Not"]),  # \href{..}{..}
        (ORG, "LLM-PBE", ["https://llm-pbe.github.io/"]),  # trailing comma
        (ORG, "VideoINR", ["http://zeyuan-chen.com/VideoINR/"]),
        (ORG, "Unified Visual Transformer", ["https://github.com/VITA-Group/UVC"]),  # \url{..}.
        (HF_SEARCH, "Dark Side Augmentation", ["https://github.com/mohwald/gandtr"]),  # " ."
        (HF_SEARCH, "Gradient Boosting Reinforcement", ["https://github.com/NVlabs/gbrl"]),  # ")."
        (HF_SEARCH, "GarVerseLOD", ["https://garverselod.github.io/"]),
        (
            HF_DENSE,
            "Diversity-Driven Synthesis",
            ["https://github.com/AngusDujw/Diversity-Driven-Synthesis"],
        ),
        (HF_DENSE, "Scattering Vision Transformer", ["https://badripatro.github.io/svt/"]),
        (HF_DENSE, "Tree-Ring Watermarks", ["https://github.com/YuxinWenRick/tree-ring-watermark"]),
        (HF_DENSE, "Bagging Provides", []),
        (ARXIV, "line 11", ["https://github.com/VITA-Group/Random_Pruning"]),  # abstract + comment
    ],
)
def test_links_from_abstracts(name: str, title_or_location: str, links: list[str]) -> None:
    if title_or_location.startswith("line "):
        (rec,) = [r for r in _records(name) if r.location == title_or_location]
    else:
        rec = _by_title(name, title_or_location)
    assert rec.links == links


def test_every_link_is_clean() -> None:
    links = [url for name in SEED_FILES for r in _records(name) for url in r.links]
    assert len(links) > 100
    for url in links:
        assert re.match(r"https?://[\w-]+\.", url)
        assert not url.endswith((".", ",", ")", "}", ";"))
        assert "{" not in url and "}" not in url and url.count("://") == 1


def test_find_links_handles_parentheses() -> None:
    prose = "see https://en.wikipedia.org/wiki/Foo_(bar). and (https://x.org/a)."
    assert find_links(prose) == ["https://en.wikipedia.org/wiki/Foo_(bar)", "https://x.org/a"]


# --------------------------------------------------------------------------- malformed


LONG = "We study a problem in depth. " * 15


@pytest.mark.parametrize(
    ("content", "records", "errors"),
    [
        # An arXiv: line without a valid id costs that entry only.
        (f"{LONG}\n\narXiv:99\nCreated: 2022-02-20\n\n{LONG}x\n\narXiv:2202.09844\n", 1, 1),
        # Created: with no arXiv: line above it.
        ("Created: 2022-02-20\n\nsome words here\n\narXiv:2202.09844\nCreated: 2022-02-20\n", 1, 1),
        # Trailing text with no arXiv: line: a truncated entry.
        (f"{LONG}\n\narXiv:2202.09844\n\n{LONG}y\n", 1, 1),
        # HF: a title with no abstract, then a normal entry.
        (f"Subscribe\n\nLonely Title\n\nReal Title\n\n{LONG}\n", 1, 1),
        # HF: meta lines before any paper.
        (f"Subscribe\n• 3 authors\n·\nSep 3, 2023\nA Title\n{LONG}\n", 1, 2),
        # Org: a header whose next line has no author list.
        (
            f"CVApr 25, 2023Code\nno authors here\n{LONG}\nLGMay 2, 2023\nA TitleAnn Lee et al.\n"
            f"{LONG}\n",
            1,
            1,
        ),
        # Org: a header and title with no abstract.
        ("CVApr 25, 2023\nA TitleAnn Lee et al.\nLGMay 2, 2023\nB TitleBo Li et al.\nabc\n", 1, 1),
    ],
)
def test_malformed_entries_yield_parse_errors(content: str, records: int, errors: int) -> None:
    out = _parse_text(content)
    assert sum(isinstance(r, Record) for r in out) == records
    found = [e for e in out if isinstance(e, ParseError)]
    assert len(found) == errors
    assert all(e.origin == "test.txt" and e.location.startswith("line ") for e in found)


def test_hf_meta_lines_belong_to_the_entry_above() -> None:
    (rec,) = _parse_text(f"Oct 17\nA Title\n{LONG}\n  • 3 authors\n·\nSep 3, 2023 7\n")
    assert isinstance(rec, Record)
    assert (rec.author_count, rec.published, rec.extra["upvotes"]) == (3, date(2023, 9, 3), 7)


@pytest.mark.parametrize(
    ("content", "kinds"),
    [
        # A short abstract after a title is still its abstract...
        (f"Title A\nShort abstract, no full stop\nTitle B\n{LONG}\n", ["Record", "Record"]),
        # ...but a title followed by a title and then an abstract had no abstract.
        (f"Title A\nTitle B\n{LONG}\n", ["ParseError", "Record"]),
        (f"Title A\n\nTitle B\n\n{LONG}\n\nTitle C\n", ["ParseError", "Record", "ParseError"]),
    ],
)
def test_hf_title_abstract_pairing(content: str, kinds: list[str]) -> None:
    assert [type(r).__name__ for r in _parse_text(content)] == kinds


def test_abstract_without_title_is_keyed_by_abstract() -> None:
    (rec,) = _parse_text(f"Subscribe\n\n{LONG}\n")
    assert isinstance(rec, Record) and rec.title is None
    assert rec.source_key.startswith("abstract:") and len(rec.source_key) == len("abstract:") + 64


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"  \n\n ", "empty"),
        (b"Title\x00\x00", "binary"),
        (b"Caf\xe9 title line\n" + b"abstract words " * 10, "not UTF-8"),
    ],
)
def test_unreadable_inputs_raise(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableInput, match=message) as info:
        list(Listing().parse(io.BytesIO(data), "bad.txt"))
    assert "bad.txt" in str(info.value)


def test_oversized_input_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "MAX_BYTES", 1000)
    with pytest.raises(UnreadableInput, match=r"big\.txt: larger than"):
        list(Listing().parse(io.BytesIO(b"x" * 1001), "big.txt"))


def test_crlf_and_bom_are_accepted() -> None:
    raw = (SEEDS / HF_DENSE).read_bytes()
    data = b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n")
    out = list(Listing().parse(io.BytesIO(data), HF_DENSE))
    assert [r.title for r in out] == [r.title for r in _records(HF_DENSE)]


# --------------------------------------------------------------------------- sniff


@pytest.mark.parametrize("name", SEED_FILES)
def test_sniff_accepts_the_seed_pages(name: str) -> None:
    assert Listing().sniff((SEEDS / name).read_bytes()[:65536], name)


@pytest.mark.parametrize(
    "path",
    sorted(
        str(p.relative_to(FIXTURES))
        for p in FIXTURES.rglob("*")
        if p.suffix in {".json", ".jsonl", ".xml", ".bib"}
    ),
)
def test_sniff_rejects_structured_formats(path: str) -> None:
    assert not Listing().sniff((FIXTURES / path).read_bytes()[:65536], path)


@pytest.mark.parametrize(
    "head",
    [
        b'{"id": "2202.09844"}\n{"id": "2202.04736"}\n',
        b"\xef\xbb\xbf  [1, 2, 3]",
        b"<?xml version='1.0'?><feed/>",
        b"<!DOCTYPE html><html><body>Papers of the day, a long list of them</body></html>",
        b"% comment\n@article{key,\n  title = {A title with many words in it here}\n}\n",
        b"",
        b"\x00\x01\x02 binary blob with enough words to look like prose here",
    ],
)
def test_sniff_rejects(head: bytes) -> None:
    assert not Listing().sniff(head, "x")


def test_name_is_the_format_value() -> None:
    assert Listing.name == "listing"


# --------------------------------------------------------------------------- properties


SEED_TEXTS = [(SEEDS / n).read_text(encoding="utf-8").split("\n") for n in SEED_FILES]
MARKER_LINES = [
    "CVApr 25, 2023Code",
    "ROMay 25",
    "arXiv:2202.09844",
    "arXiv:",
    "arXiv:2201.01702 - doi: 10.1145/3488560.3498416",
    "Created: 2022-02-20 Updated: 2022-02-22",
    "Created: 2022-02-31",
    "  • 2 authors",
    "·",
    "Sep 12, 2019 1",
    "Feb 30",
    "Mar 12",
    *CHROME,
    "SubscribeDeep Human Parsing",
    "A TitleAnn Lee, Bo Li et al. · org",
    " et al. · ",
    "",
]


@st.composite
def mutated_seed(draw: st.DrawFn) -> str:
    """A window of a real seed page with lines dropped, truncated and byte noise added."""
    lines = draw(st.sampled_from(SEED_TEXTS))
    start = draw(st.integers(0, len(lines) - 1))
    window = lines[start : start + draw(st.integers(1, 80))]
    dropped = draw(st.sets(st.integers(0, len(window) - 1), max_size=len(window) // 2 + 1))
    window = [ln for i, ln in enumerate(window) if i not in dropped]
    blob = bytearray("\n".join(window).encode("utf-8"))
    if blob and draw(st.booleans()):
        del blob[draw(st.integers(0, len(blob))) :]
    for pos, byte in draw(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)))):
        if blob:
            blob[pos % len(blob)] = byte
    return bytes(blob).decode("utf-8", errors="replace")


structured_noise = st.lists(
    st.one_of(st.sampled_from(MARKER_LINES), st.text(max_size=120), st.just(LONG)), max_size=40
).map("\n".join)


def _check_parse(content: str) -> None:
    data = content.encode("utf-8")
    try:
        out = list(Listing().parse(io.BytesIO(data), "fuzz.txt"))
    except UnreadableInput:
        assert not data.strip() or b"\x00" in data[:8192]
        return
    for item in out:
        assert isinstance(item, Record | ParseError)
        assert re.fullmatch(r"line \d+", item.location)
        if isinstance(item, Record):
            assert item.source == "listing" and item.source_key
            assert item.title or item.abstract or item.arxiv_id
            item.to_json()
    assert isinstance(Listing().sniff(data[:65536], "fuzz.txt"), bool)


_FUZZ = settings(
    max_examples=3000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_FUZZ
@given(mutated_seed())
def test_mutated_seed_pages_never_crash(content: str) -> None:
    _check_parse(content)


@settings(_FUZZ, max_examples=2000)
@given(st.one_of(st.text(max_size=2000), structured_noise))
def test_arbitrary_text_never_crashes(content: str) -> None:
    _check_parse(content)


@settings(max_examples=500, deadline=None, database=None)
@given(st.binary(max_size=4000))
def test_sniff_never_raises(head: bytes) -> None:
    assert isinstance(Listing().sniff(head, "x.bin"), bool)
