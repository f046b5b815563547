"""The cost of the `[semantic]` extra: model memory, embedding throughput, query encoding and index search.

    python -m bench.semantic [--no-write] [--sizes 100000,1000000] [--texts 512]

1. RSS added by loading all-MiniLM-L6-v2 (torch + weights) and encoding once, from /proc/self/statm.
2. Embedding throughput (texts/s) on real company texts, built exactly as `companies embed` builds them
   (SemanticSettings().max_chars): the YC directory (short texts) and FinanceDatabase (long summaries, cut).
3. Query encoding latency (one short query, the per-task cost; median of 30).
4. Index search at 100k and 1M vectors (synthetic unit vectors, 384 dimensions): top-100, without and with
   a filter mask keeping 10 % of the rows (median of 20 queries). Exact search, no approximate index.
"""

from __future__ import annotations

import argparse
import statistics
import time
from itertools import islice
from pathlib import Path

import numpy as np

from bench.common import write_section
from bench.stats import current_rss_mib, host, machine_line
from firmscout.catalog.readers import read_records
from firmscout.config import SemanticSettings
from firmscout.embeddings.text import company_text

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = {
    "yc": ("yc_companies_2024-05-11.csv", {"name": ["company_name"], "description": ["short_description"],
                                           "full_description": ["long_description"], "tags": ["tags"],
                                           "website": ["website"]}),
    "fd": ("financedatabase_equities.csv.gz", {"name": ["name"], "website": ["website"], "description": ["summary"],
                                               "industry": ["industry", "industry_group", "sector"]}),
}


def _texts(corpus: str, n: int, max_chars: int) -> list[str]:
    name, mapping = FILES[corpus]
    records = (r for r, _ in read_records(SHARED / name, mapping) if r is not None)
    return [
        company_text(name=r.name, industries=r.industries, tags=r.tags, products=r.products,
                     description=r.description, full_description=r.full_description, max_chars=max_chars)
        for r in islice(records, n)
    ]


def _median_ms(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--texts", type=int, default=512)
    args = parser.parse_args()
    print(machine_line(), flush=True)
    settings = SemanticSettings()
    lines: list[str] = []

    before = current_rss_mib()
    started = time.perf_counter()
    from firmscout.embeddings.encoder import get_encoder
    from firmscout.embeddings.index import VectorIndex

    encoder = get_encoder(settings.model, settings.threads)
    encoder.encode(["warm-up"])
    load_s = time.perf_counter() - started
    added = current_rss_mib() - before
    lines.append(f"| model load (torch import + weights + first encode) | {load_s:.1f} s |")
    lines.append(f"| RSS added by the model | {added:.0f} MiB |")
    print(lines[-2], lines[-1], sep="\n", flush=True)

    for corpus in ("yc", "fd"):
        if not (SHARED / FILES[corpus][0]).exists():
            continue
        texts = _texts(corpus, args.texts, settings.max_chars)
        chars = statistics.mean(len(t) for t in texts)
        started = time.perf_counter()
        encoder.encode(texts, settings.batch_size)
        rate = len(texts) / (time.perf_counter() - started)
        lines.append(f"| embed throughput, {corpus} ({len(texts)} texts, mean {chars:.0f} chars) | "
                     f"{rate:.0f} texts/s |")
        print(lines[-1], flush=True)

    query_ms = _median_ms(lambda: encoder.encode(["fintech startups in Germany founded after 2015"]), 30)
    lines.append(f"| query encoding (one short query) | {query_ms:.1f} ms |")
    print(lines[-1], flush=True)

    rng = np.random.default_rng(0)
    for size in (int(s) for s in args.sizes.split(",") if s):
        vectors = rng.standard_normal((size, encoder.dim), dtype=np.float32)
        index = VectorIndex(np.arange(size), vectors)
        del vectors
        queries = rng.standard_normal((20, encoder.dim), dtype=np.float32)
        mask = rng.random(size) < 0.10
        it = iter(queries)
        plain = _median_ms(lambda it=it, index=index: index.search(next(it), 100), 20)
        it = iter(queries)
        masked = _median_ms(lambda it=it, index=index, mask=mask: index.search(next(it), 100, mask), 20)
        lines.append(f"| index top-100 at {size:,} vectors ({index.matrix.nbytes / 2**20:,.0f} MiB) | "
                     f"{plain:.1f} ms; with a 10 % filter mask {masked:.1f} ms |")
        print(lines[-1], flush=True)
        del index

    section = (
        f"Host: {host()}. Model `{settings.model}` on CPU "
        f"(torch threads: {'default' if not settings.threads else settings.threads}), batch {settings.batch_size}, "
        f"company text cut at {settings.max_chars} characters.\n\n"
        "| what | figure |\n|---|---:|\n" + "\n".join(lines)
    )
    print(section)
    if not args.no_write:
        write_section("semantic", section)


if __name__ == "__main__":
    main()
