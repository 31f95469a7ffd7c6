"""Generate a deterministic arXiv bulk-metadata JSONL corpus (Kaggle snapshot format).

Words are drawn from the vocabulary of the real sample abstracts with their
real frequencies (Zipf-like), so BM25 sees realistic term statistics and
queries of common words are as hard as on real data.

    python bench/gen_corpus.py --n 100000 --out bench/data/arxiv-100k.jsonl
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import random
import re
from pathlib import Path

from common import corpus_path

ROOT = Path(__file__).resolve().parents[1]
_WORD = re.compile(r"[A-Za-z][A-Za-z\-]{1,}")
FIRST = ["Wei", "Anna", "Jun", "Maria", "David", "Li", "Sara", "Ahmed", "Yuki", "Pablo", "Olga",
         "Chen", "Priya", "Lukas", "Fatima", "John", "Mei", "Ivan", "Nora", "Tom"]  # fmt: skip
LAST = ["Wang", "Smith", "Zhang", "Garcia", "Kim", "Müller", "Rossi", "Singh", "Tanaka",
        "Nguyen", "Ivanova", "Cohen", "Silva", "Dubois", "Ali", "Brown", "Liu", "Kowalski",
        "Haddad", "Ng"]  # fmt: skip
CATS = ["cs.LG", "cs.CV", "cs.CL", "cs.AI", "stat.ML", "cs.RO", "cs.IR", "math.OC", "eess.IV",
        "quant-ph", "cond-mat.str-el", "hep-th", "astro-ph.GA", "q-bio.NC", "cs.CR"]  # fmt: skip


def vocabulary() -> tuple[list[str], list[int]]:
    """Words and counts from every real abstract shipped with the repository."""
    counts: collections.Counter[str] = collections.Counter()
    for path in [*ROOT.glob("samples/*.txt"), *ROOT.glob("tests/fixtures/kaggle_snapshot/*")]:
        counts.update(w.lower() for w in _WORD.findall(path.read_text(errors="replace")))
    words = [w for w, _ in counts.most_common()]
    return words, [counts[w] for w in words]


def generate(n: int, out: Path, seed: int = 42) -> None:
    rng = random.Random(seed)
    words, weights = vocabulary()
    cum = list(itertools.accumulate(weights))
    title_cum = cum[:4000]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for i in range(n):
            month = 1 + (i // 25_000) % 12
            year = 15 + (i // 300_000)
            ident = f"{year:02d}{month:02d}.{i % 100_000:05d}"
            title_words = rng.choices(words[:4000], cum_weights=title_cum, k=rng.randint(6, 12))
            abstract = " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(120, 220)))
            names = [(rng.choice(LAST), rng.choice(FIRST)) for _ in range(rng.randint(1, 8))]
            cats = rng.sample(CATS, rng.randint(1, 3))
            created = f"Mon, {1 + i % 28} {['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][month - 1]} 20{year:02d} 10:00:00 GMT"  # noqa: E501
            record = {
                "id": ident,
                "submitter": f"{names[0][1]} {names[0][0]}",
                "authors": ", ".join(f"{first} {last}" for last, first in names),
                "title": " ".join(title_words).capitalize(),
                "comments": f"{rng.randint(5, 40)} pages",
                "journal-ref": None,
                "doi": None,
                "report-no": None,
                "categories": " ".join(cats),
                "license": None,
                "abstract": "  " + abstract.capitalize() + ".\n",
                "versions": [{"version": "v1", "created": created}],
                "update_date": f"20{year:02d}-{month:02d}-{1 + i % 28:02d}",
                "authors_parsed": [[last, first, ""] for last, first in names],
            }
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="records (10000, 100000, 1000000)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    out = args.out or corpus_path(args.n)
    generate(args.n, out, args.seed)
    print(f"wrote {args.n:,} records to {out} ({out.stat().st_size / 1e6:,.0f} MB)")


if __name__ == "__main__":
    main()
