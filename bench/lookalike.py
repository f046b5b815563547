"""Lookalike precision on ../shared/data/lookalikes: 24 seed companies, 9,485 judged candidates.

    python -m bench.lookalike [--no-write] [--verbose] [--dense] [--scale 100000]

Seeds and candidates are imported into one SQLite corpus; each seed's lookalikes are asked of the API's
`GET /v1/companies/{domain}/similar` (100, in one page), in process through the ASGI app. A candidate
counts as relevant for a seed only when the judges said so for that seed. Beside it, in the same run: a
plain TF-IDF ranking (cosine of the seed's description with every company's text, no feedback, no
demotions), the reference point the issue names. `--dense` adds all-MiniLM-L6-v2 nearest neighbours
(the [semantic] extra) and their fusion with the default ranking, to decide whether dense embeddings
earn their place in the default install. Seeds alternate between a tuning and a held-out half.

`--scale N` then grows the same database to N companies with bench.scale's synthetic expansion of the YC
and FinanceDatabase records and times both instant endpoints there (each seed's similar, and a search for
each seed's core product), with the precision the seeds keep among the added distractors.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gzip
import json
import math
import platform
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import write_section
from firmscout.api.app import create_app
from firmscout.commands.api_server import freeze_heap
from firmscout.config import SemanticSettings, Settings
from firmscout.entities import CompanyProfile
from firmscout.geography import country_code, country_name
from firmscout.lookalike import scoring
from firmscout.storage.db import unit_of_work
from firmscout.storage.repositories.companies import upsert_companies
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime, open_runtime

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "lookalikes"
K = 100


@dataclass(frozen=True)
class Seed:
    slug: str
    profile: CompanyProfile
    relevant: frozenset[str]
    held_out: bool


def _country(raw: str) -> str | None:
    raw = raw.strip()
    code = country_code(raw.upper()) if len(raw) == 2 else country_code(raw)
    return country_name(code) if code else None


def load(data: Path = DATA) -> tuple[list[Seed], list[CompanyProfile]]:
    """The seeds (profile: description; products: anchor and capabilities) and every distinct candidate."""
    with gzip.open(data / "candidates.csv.gz", "rt", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    relevant: dict[str, set[str]] = defaultdict(set)
    companies: dict[str, CompanyProfile] = {}
    for row in rows:
        if row["relevant"] == "1":
            relevant[row["seed"]].add(row["domain"])
        if row["domain"] in companies:
            continue
        employees = int(row["employees"]) if row["employees"].isdigit() else None
        companies[row["domain"]] = CompanyProfile(
            domain=row["domain"], name=row["name"] or row["domain"], description=row["description"] or None,
            country=_country(row["country"]), employees=employees, origin="import:lookalikes",
            industries=tuple(i.strip() for i in row["industries"].split(";") if i.strip()),
        )
    seeds = []
    with open(data / "seeds.jsonl", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            s = json.loads(line)
            products = "; ".join([s["anchor"], *s["capabilities"]])
            profile = CompanyProfile(domain=s["seed_domain"], name=s["seed_name"], description=s["description"],
                                     products=products, origin="import:lookalikes")
            companies[profile.domain] = profile
            seeds.append(Seed(s["seed_slug"], profile, frozenset(relevant[s["seed_slug"]]), held_out=i % 2 == 1))
    return seeds, list(companies.values())


@dataclass(frozen=True)
class Score:
    p10: float
    p25: float
    p100: float
    ndcg: float


def score(ranked: Sequence[str], relevant: frozenset[str]) -> Score:
    hits = [d in relevant for d in ranked[:K]]
    dcg = sum(1 / math.log2(i + 2) for i, hit in enumerate(hits) if hit)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(K, len(relevant))))
    return Score(sum(hits[:10]) / 10, sum(hits[:25]) / 25, sum(hits) / K, dcg / ideal if ideal else 0.0)


def tfidf_baseline(companies: list[CompanyProfile]) -> Callable[[Seed], list[str]]:
    """Cosine of TF-IDF vectors (sublinear tf, corpus idf) over the whole corpus: no pool, no feedback."""
    docs = [Counter(scoring.terms(scoring.profile_text(c))) for c in companies]
    df: Counter[str] = Counter()
    for d in docs:
        df.update(d.keys())
    idf = {t: math.log((len(docs) + 1) / (f + 1)) + 1 for t, f in df.items()}

    def vec(counts: Counter[str]) -> dict[str, float]:
        v = {t: (1 + math.log(n)) * idf.get(t, 0.0) for t, n in counts.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {t: x / norm for t, x in v.items()}

    vectors = [vec(d) for d in docs]

    def rank(seed: Seed) -> list[str]:
        q = vec(Counter(scoring.terms(seed.profile.description or "")))
        sims = [sum(w * v.get(t, 0.0) for t, w in q.items()) for v in vectors]
        order = sorted(range(len(companies)), key=lambda i: -sims[i])
        return [companies[i].domain for i in order if companies[i].domain != seed.profile.domain][:K]

    return rank


async def _similar(client: httpx.AsyncClient, seed: Seed) -> tuple[list[str], float]:
    started = time.perf_counter()
    reply = await client.get(f"/v1/companies/{seed.profile.domain}/similar", params={"limit": K})
    elapsed = time.perf_counter() - started
    reply.raise_for_status()
    return [c["domain"] for c in reply.json()["results"]], elapsed


def _dense(companies: list[CompanyProfile]) -> Callable[[Seed], list[str]]:
    import numpy as np

    from bench.quality.vectors import CachedEncoder
    from firmscout.embeddings.encoder import get_encoder

    model = SemanticSettings().model
    encoder = CachedEncoder(get_encoder(model), model)
    texts = [scoring.profile_text(c)[:600] for c in companies]
    matrix = encoder.encode(texts)
    index = {c.domain: i for i, c in enumerate(companies)}

    def rank(seed: Seed) -> list[str]:
        sims = matrix @ matrix[index[seed.profile.domain]]
        order = np.argsort(-sims)
        return [companies[i].domain for i in order[: K + 1] if companies[i].domain != seed.profile.domain][:K]

    return rank


def _fused(a: list[str], b: list[str], k: int = 60) -> list[str]:
    score: dict[str, float] = defaultdict(float)
    for ranked in (a, b):
        for i, domain in enumerate(ranked):
            score[domain] += 1 / (k + i + 1)
    return sorted(score, key=lambda d: -score[d])[:K]


@dataclass(frozen=True)
class Scaled:
    companies: int
    similar: list[float]
    search: list[float]
    p100: float


async def _at_scale(runtime: Runtime, client: httpx.AsyncClient, seeds: list[Seed], size: int, have: int,
                    tmp: Path) -> Scaled:
    from bench.scale import COLUMNS, _seed_records, synthetic_csv
    from firmscout.catalog.service import import_file

    path = synthetic_csv(_seed_records(), size - have, tmp)
    await import_file(runtime.sessions, path, {c: [c] for c in COLUMNS}, batch_size=5000)
    freeze_heap()
    similar, search, precision = [], [], []
    for seed in seeds:
        ranked, elapsed = await _similar(client, seed)
        similar.append(elapsed)
        precision.append(score(ranked, seed.relevant).p100)
        started = time.perf_counter()
        anchor = (seed.profile.products or "").split(";")[0]
        reply = await client.get("/v1/companies/search", params={"q": anchor, "limit": K})
        search.append(time.perf_counter() - started)
        reply.raise_for_status()
    return Scaled(size, similar, search, statistics.mean(precision))


async def run(verbose: bool, dense: bool, scale: int | None
              ) -> tuple[dict[str, dict[str, Score]], list[float], int, Scaled | None]:
    seeds, companies = load()
    baseline = tfidf_baseline(companies)
    dense_rank = _dense(companies) if dense else None
    by_method: dict[str, dict[str, Score]] = defaultdict(dict)
    latencies: list[float] = []
    scaled = None
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/db.sqlite",
                            seed_builtin_companies=False, semantic=SemanticSettings(enabled="off"))
        async with open_runtime(settings) as runtime:
            async with unit_of_work(runtime.sessions) as session:
                await upsert_companies(session, companies)
            token = await _token(runtime)
            transport = httpx.ASGITransport(app=create_app(runtime))
            async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                         headers={"Authorization": f"Bearer {token}"}) as client:
                for _ in range(2):  # warm-up: first calls pay for imports and caches
                    await _similar(client, seeds[0])
                freeze_heap()  # as `firmscout serve` does once started
                for seed in seeds:
                    ranked, elapsed = await _similar(client, seed)
                    latencies.append(elapsed)
                    by_method["firmscout"][seed.slug] = score(ranked, seed.relevant)
                    by_method["tf-idf"][seed.slug] = score(baseline(seed), seed.relevant)
                    if dense_rank is not None:
                        near = dense_rank(seed)
                        by_method["dense"][seed.slug] = score(near, seed.relevant)
                        by_method["firmscout+dense"][seed.slug] = score(_fused(ranked, near), seed.relevant)
                    if verbose:
                        s, b = by_method["firmscout"][seed.slug], by_method["tf-idf"][seed.slug]
                        print(f"  {seed.slug:15} P@100 {s.p100:.2f} (tf-idf {b.p100:.2f})  |relevant| "
                              f"{len(seed.relevant)}  {elapsed * 1000:.0f} ms", flush=True)
                if scale is not None and scale > len(companies):
                    scaled = await _at_scale(runtime, client, seeds, scale, len(companies), Path(tmp))
    return by_method, latencies, len(companies), scaled


def _p95(seconds: list[float]) -> float:
    ms = sorted(x * 1000 for x in seconds)
    return ms[min(len(ms) - 1, math.ceil(0.95 * len(ms)) - 1)]


async def _token(runtime: Runtime) -> str:
    return await accounts.create_token(runtime.sessions, email="bench@example.com", org_name="Bench")


def report(by_method: dict[str, dict[str, Score]], seeds: list[Seed], latencies: list[float], n: int,
           scaled: Scaled | None) -> str:
    held = {s.slug for s in seeds if s.held_out}
    median = statistics.median(latencies) * 1000
    lines = [f"Python {platform.python_version()}, {len(seeds)} seeds, {n:,} companies in one SQLite corpus, "
             f"{K} lookalikes asked per seed; similar endpoint median {median:.0f} ms, p95 "
             f"{_p95(latencies):.0f} ms:", "",
             "| method | seeds | P@10 | P@25 | P@100 | nDCG@100 |", "|---|---|---:|---:|---:|---:|"]
    for method, scores in by_method.items():
        for half, chosen in (("tuning", lambda s: s not in held), ("held-out", lambda s: s in held),
                             ("all", lambda s: True)):
            rows = [v for slug, v in scores.items() if chosen(slug)]
            mean = {f: statistics.mean(getattr(r, f) for r in rows) for f in ("p10", "p25", "p100", "ndcg")}
            lines.append(f"| {method} | {half} ({len(rows)}) | {mean['p10']:.2f} | {mean['p25']:.2f} | "
                         f"{mean['p100']:.2f} | {mean['ndcg']:.2f} |")
    ours = by_method["firmscout"]
    worst = sorted(ours, key=lambda slug: ours[slug].p100)[:3]
    lines += ["", "Weakest P@100: " + ", ".join(f"{slug} {ours[slug].p100:.2f}" for slug in worst) + "."]
    if scaled is not None:
        lines += ["", f"At {scaled.companies:,} companies (synthetic distractors added), {len(seeds)} calls each:", "",
                  "| endpoint | median | p95 |", "|---|---:|---:|"]
        for name, seconds in (("similar (100)", scaled.similar), ("search (100)", scaled.search)):
            lines.append(f"| {name} | {statistics.median(seconds) * 1000:.0f} ms | {_p95(seconds):.0f} ms |")
        lines += ["", f"P@100 of the similar endpoint there: {scaled.p100:.2f}."]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--dense", action="store_true", help="Add MiniLM nearest neighbours (the [semantic] extra).")
    parser.add_argument("--scale", type=int, help="Then time both endpoints with the database grown to N companies.")
    args = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"{DATA} not found: the lookalike benchmark needs ../shared/data/lookalikes")
    by_method, latencies, n, scaled = await run(args.verbose, args.dense, args.scale)
    text = report(by_method, load()[0], latencies, n, scaled)
    print(text)
    if not args.no_write:
        write_section("lookalike", text)


if __name__ == "__main__":
    asyncio.run(main())
