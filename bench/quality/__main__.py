"""Discovery quality on three corpora, every method on the same labelled queries in one run.

    python -m bench.quality [--corpus builtin,yc,fd] [--no-write] [--verbose] [--llm] [--no-semantic]

Corpora: the built-in database (listed companies from pytickersymbols), the Y Combinator directory and
FinanceDatabase from ../shared/data (each imported through `firmscout companies import`'s code into its
own temporary SQLite database). Ground truth: `labels.py` rules over the imported records. Each task asks
for 100 results; recall is measured against min(|truth|, 100).

With the `[semantic]` extra installed, `local+emb` is the local method with hybrid retrieval (full-text
fused with the nearest companies by MiniLM embedding, see sources/local_db.py). Company vectors are cached
in ~/.cache/firmscout-bench (FIRMSCOUT_BENCH_CACHE), so only the first run pays for embedding a corpus.

`--llm` adds the `llm` method: a Firmscout task planned and graded by the model that FIRMSCOUT_LLM__BASE_URL,
__MODEL (and __API_KEY, __TEMPERATURE, ...) configure, e.g. Ollama's http://127.0.0.1:11434/v1. Replies are
cached in each corpus's temporary data dir only, so every run asks the model afresh.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.common import write_section
from bench.quality.metrics import Scores, macro, score
from bench.quality.queries import QUERIES
from firmscout.catalog.builtin import load_builtin
from firmscout.catalog.readers import read_records
from firmscout.catalog.service import import_file
from firmscout.config import LLMSettings, SemanticSettings, Settings
from firmscout.embeddings.availability import semantic_installed
from firmscout.entities import CompanyProfile, TokenUsage
from firmscout.pipeline.runner import PipelineDeps, run_task
from firmscout.pipeline.stages.evaluate import HybridGrader, LocalGrader
from firmscout.sources.local_db import LocalDatabaseSource
from firmscout.storage.repositories.companies import search_companies
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime, open_runtime
from firmscout.tasks.service import NewTask
from firmscout.worker import pipeline_deps

K = 100
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
CORPORA: dict[str, tuple[str, dict[str, list[str]]]] = {
    "yc": ("yc_companies_2024-05-11.csv", {
        "name": ["company_name"], "website": ["website"], "description": ["short_description"],
        "full_description": ["long_description"], "tags": ["tags"], "country": ["country"],
        "location": ["location"], "founded_year": ["year_founded"], "employees": ["team_size"],
        "status": ["status"]}),
    "fd": ("financedatabase_equities.csv.gz", {
        "name": ["name"], "website": ["website"], "description": ["summary"],
        "industry": ["industry", "industry_group", "sector"], "country": ["country"], "state": ["state"],
        "city": ["city"]}),
}
STOPWORDS = {"in", "the", "of", "and", "with", "for", "a", "an", "companies", "company", "since", "before",
             "after", "founded", "than", "more", "over", "fewer", "people", "employees", "startups"}
METHODS = ("bm25", "local", "local+emb")  # "local+emb" needs the semantic extra; "llm" is added by --llm
SEMANTIC = SemanticSettings(enabled="on")


@dataclass
class Outcome:
    corpus: str
    query: str
    held_out: bool
    method: str
    scores: Scores
    seconds: float
    returned: int
    truth: int
    usage: TokenUsage = field(default_factory=TokenUsage)
    set: str = "existing"  # the query set: "existing" | "everyday" | "relationship" (everyday, lookalike-answered)


@asynccontextmanager
async def _corpus(corpus: str, tmp: Path, llm: LLMSettings) -> AsyncIterator[tuple[Runtime, list[CompanyProfile]]]:
    """A runtime on a fresh database of `corpus`, and the corpus's records (the ground truth's input)."""
    builtin = corpus == "builtin"
    # The runtime's own source stays full-text only; `local+emb` gets its own hybrid source (_semantic_deps).
    settings = Settings(data_dir=tmp / corpus, database_url=f"sqlite:///{tmp / corpus}/db.sqlite",
                        seed_builtin_companies=builtin, llm=llm, semantic=SemanticSettings(enabled="off"))
    async with open_runtime(settings, seed=builtin) as runtime:
        if builtin:
            records = list(load_builtin().records)
        else:
            name, mapping = CORPORA[corpus]
            await import_file(runtime.sessions, SHARED / name, mapping)
            records = [r for r, _ in read_records(SHARED / name, mapping) if r is not None]
        yield runtime, records


async def _bm25(runtime: Runtime, query: str) -> list[str]:
    words = [w for w in re.findall(r"[\w-]+", query.lower()) if w not in STOPWORDS and not w.isdigit()]
    async with runtime.sessions() as session:
        rows = await search_companies(session, terms=words, limit=K, offset=0)
    return [r.domain for r in rows]


async def _task(runtime: Runtime, deps: PipelineDeps, query: str) -> tuple[list[str], TokenUsage]:
    caller = await accounts.local_caller(runtime.sessions)
    task = await runtime.service.create(caller, NewTask(query=query, desired_num_results=K))
    await run_task(deps, task.id, last_attempt=True)
    # The API's results read: the same page, in the same order, a caller would get.
    done = await runtime.service.results(caller, task.id, offset=0, limit=K)
    if done.task.status == "failed":
        raise SystemExit(f"task for {query!r} failed: {done.task.error}")
    return [r.domain for r in done.results], TokenUsage(done.task.prompt_tokens, done.task.completion_tokens)


async def _semantic_deps(runtime: Runtime, local_deps: PipelineDeps) -> PipelineDeps:
    from bench.quality.vectors import CachedEncoder
    from firmscout.embeddings.encoder import get_encoder
    from firmscout.embeddings.service import SemanticRetriever, embed_companies

    encoder = get_encoder(SEMANTIC.model, SEMANTIC.threads)
    cached = CachedEncoder(encoder, SEMANTIC.model)
    done = await embed_companies(runtime.sessions, cached, SEMANTIC)
    rate = f"{cached.encoded / cached.encode_seconds:.0f} texts/s" if cached.encode_seconds else "-"
    print(f"  embedded {done.embedded:,} companies in {done.seconds:.1f} s ({cached.hits:,} from the cache, "
          f"{cached.encoded:,} encoded at {rate})", flush=True)
    retriever = SemanticRetriever(runtime.sessions, SEMANTIC, lambda: encoder)
    source = LocalDatabaseSource(runtime.sessions, retriever)
    grader = HybridGrader(retriever, SEMANTIC.topic_similarity, SEMANTIC.model)
    return replace(local_deps, sources={**local_deps.sources, source.name: source}, grader=grader)


async def _score_corpus(runtime: Runtime, records: list[CompanyProfile], corpus: str, verbose: bool,
                        methods: Sequence[str]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    # Built once per corpus: the LLM's concurrency bound and cache are shared by its tasks.
    llm_deps = pipeline_deps(runtime)
    local_deps = replace(llm_deps, grader=LocalGrader(), planner=None)
    emb_deps = await _semantic_deps(runtime, local_deps) if "local+emb" in methods else local_deps
    for q in (q for q in QUERIES if q.corpus == corpus):
        truth = {r.domain for r in records if q.rule(r)}
        if not truth:
            print(f"  ! no ground truth for {q.text!r}; skipped")
            continue
        for method in methods:
            started = time.perf_counter()
            usage = TokenUsage()
            if method == "bm25":
                ranked = await _bm25(runtime, q.text)
            else:
                deps = {"llm": llm_deps, "local+emb": emb_deps}.get(method, local_deps)
                ranked, usage = await _task(runtime, deps, q.text)
            elapsed = time.perf_counter() - started
            query_set = "relationship" if q.relationship else q.set
            outcomes.append(Outcome(corpus, q.text, q.held_out, method, score(ranked, truth, K), elapsed,
                                    len(ranked), len(truth), usage, query_set))
            if verbose:
                s = outcomes[-1].scores
                print(f"  {method:9} {query_set[:3]} {q.text[:60]:60} |T|={len(truth):4} |R|={len(ranked):3} "
                      f"P={s.precision:.2f} R={s.recall:.2f} F1={s.f1:.2f}")
    return outcomes


async def run(corpora: Sequence[str], verbose: bool, llm: LLMSettings, methods: Sequence[str]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory() as tmp:
        for corpus in corpora:
            started = time.perf_counter()
            async with _corpus(corpus, Path(tmp), llm) as (runtime, records):
                print(f"[{corpus}] {len(records):,} records loaded in {time.perf_counter() - started:.1f} s",
                      flush=True)
                outcomes += await _score_corpus(runtime, records, corpus, verbose, methods)
    return outcomes


def _methods(outcomes: list[Outcome]) -> list[str]:
    return [m for m in (*METHODS, "llm") if any(o.method == m for o in outcomes)]


_SETS = ("existing", "everyday", "relationship")


def report(outcomes: list[Outcome]) -> str:
    """Macro figures per query set, corpus, half and method; `empty` counts queries that returned nothing."""
    lines = ["| set | corpus | half | method | queries | empty | precision | recall | F1 | nDCG@10 | median latency |",
             "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    corpora = sorted({o.corpus for o in outcomes}, key=["builtin", "yc", "fd"].index)
    for query_set in (s for s in _SETS if any(o.set == s for o in outcomes)):
        for corpus in [*corpora, "all"]:
            for half, held in (("tuning", False), ("held-out", True)):
                for method in _methods(outcomes):
                    rows = [o for o in outcomes if o.method == method and o.held_out == held and o.set == query_set
                            and corpus in ("all", o.corpus)]
                    if not rows:
                        continue
                    m = macro([o.scores for o in rows])
                    latency = statistics.median(o.seconds for o in rows) * 1000
                    empty = sum(o.returned == 0 for o in rows)
                    lines.append(f"| {query_set} | {corpus} | {half} | {method} | {len(rows)} | {empty} | "
                                 f"{m.precision:.2f} | {m.recall:.2f} | {m.f1:.2f} | {m.ndcg10:.2f} | "
                                 f"{latency:.0f} ms |")
    return "\n".join(lines)


def per_query(outcomes: list[Outcome]) -> str:
    with_llm = "llm" in _methods(outcomes)
    with_emb = "local+emb" in _methods(outcomes)
    lines = [
        "| set | corpus | query | held out | truth | BM25 F1 | local P | local R | local F1 |"
        + (" +emb P | +emb R | +emb F1 |" * with_emb) + (" LLM F1 |" * with_llm),
        "|---|---|---|---|---:|---:|---:|---:|---:|" + ("---:|---:|---:|" * with_emb) + ("---:|" * with_llm),
    ]
    local = {(o.corpus, o.query): o for o in outcomes if o.method == "local"}
    emb = {(o.corpus, o.query): o for o in outcomes if o.method == "local+emb"}
    llm = {(o.corpus, o.query): o for o in outcomes if o.method == "llm"}
    for o in outcomes:
        if o.method != "bm25":
            continue
        lo = local[(o.corpus, o.query)]
        line = (f"| {o.set} | {o.corpus} | {o.query} | {'yes' if o.held_out else ''} | {o.truth} | {o.scores.f1:.2f} | "
                f"{lo.scores.precision:.2f} | {lo.scores.recall:.2f} | {lo.scores.f1:.2f} |")
        if with_emb:
            e = emb[(o.corpus, o.query)].scores
            line += f" {e.precision:.2f} | {e.recall:.2f} | {e.f1:.2f} |"
        if with_llm:
            line += f" {llm[(o.corpus, o.query)].scores.f1:.2f} |"
        lines.append(line)
    return "\n".join(lines)


def _weakest(outcomes: list[Outcome], n: int = 3) -> str:
    # Relationship queries wait for the lookalike ranker; they would crowd out what the local method can fix.
    local = sorted((o for o in outcomes if o.method == "local" and o.set != "relationship"),
                   key=lambda o: o.scores.f1)[:n]
    return "Weakest local F1: " + ", ".join(f'"{o.query}" ({o.corpus}) {o.scores.f1:.2f}' for o in local) + "."


def block(outcomes: list[Outcome], llm: LLMSettings | None) -> str:
    """The `quality` block of docs/benchmarks.md: what was run in one line, the tables, the weakest queries."""
    n = len({(o.corpus, o.query) for o in outcomes})
    settings = [f"Python {platform.python_version()}", f"{n} labelled queries", f"{K} results asked per query",
                f"recall against min(|truth|, {K})"]
    default = SemanticSettings()
    tuned = [f"{name} {getattr(SEMANTIC, name)}" for name in ("top_k", "min_similarity", "topic_similarity")
             if getattr(SEMANTIC, name) != getattr(default, name)]
    if tuned and "local+emb" in _methods(outcomes):
        settings.append("`local+emb` with " + ", ".join(tuned))
    if llm is not None:
        settings.append(f"`llm` = `{llm.model}` (temperature {llm.temperature})")
    return "\n".join([", ".join(settings) + ":", "", report(outcomes), "", _weakest(outcomes), "", "Per query:", "",
                      per_query(outcomes)])


async def main() -> None:
    global SEMANTIC
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="builtin,yc,fd")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--llm", action="store_true",
                        help="Add the llm method, against the endpoint FIRMSCOUT_LLM__BASE_URL/__MODEL configure.")
    parser.add_argument("--no-semantic", action="store_true",
                        help="Leave out local+emb (it is left out anyway without the semantic extra).")
    parser.add_argument("--topic-similarity", type=float, default=SEMANTIC.topic_similarity,
                        help="local+emb: cosine at which a topic the keywords missed is graded 4 (>1: never).")
    parser.add_argument("--top-k", type=int, default=SEMANTIC.top_k, help="local+emb: dense and full-text depth.")
    parser.add_argument("--min-similarity", type=float, default=SEMANTIC.min_similarity,
                        help="local+emb: nearest companies less similar to the query are not candidates.")
    args = parser.parse_args()
    SEMANTIC = SEMANTIC.model_copy(update={"topic_similarity": args.topic_similarity, "top_k": args.top_k,
                                           "min_similarity": args.min_similarity})
    corpora = [c for c in args.corpus.split(",") if c]
    if any(c != "builtin" for c in corpora) and not SHARED.exists():
        print(f"{SHARED} not found: running the built-in corpus only")
        corpora = ["builtin"]
    # The local method never sees an LLM; --llm reads the endpoint from the environment like `serve` does.
    llm = Settings().llm if args.llm else LLMSettings()
    if args.llm and not (llm.base_url and llm.model):
        sys.exit("--llm needs FIRMSCOUT_LLM__BASE_URL and FIRMSCOUT_LLM__MODEL (e.g. Ollama: "
                 "http://127.0.0.1:11434/v1 and llama3.1:8b)")
    methods = [m for m in METHODS if m != "local+emb" or (semantic_installed() and not args.no_semantic)]
    if args.llm:
        methods.append("llm")
    outcomes = await run(corpora, args.verbose, llm, methods)
    text = block(outcomes, llm if args.llm else None)
    print(text)
    if args.llm:
        spent = [o.usage for o in outcomes if o.method == "llm"]
        tokens = sum(u.prompt_tokens for u in spent), sum(u.completion_tokens for u in spent)
        print(f"LLM {llm.model} at {llm.base_url}: {tokens[0]:,} prompt + {tokens[1]:,} completion tokens")
    if not args.no_write:
        write_section("quality", text)


if __name__ == "__main__":
    asyncio.run(main())
