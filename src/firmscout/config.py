"""Root settings. Zero configuration runs the embedded default: SQLite in the data dir, in-process worker."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.cwd() / "data"


class WorkerSettings(BaseModel):
    concurrency: int = Field(2, ge=1, le=64, description="Tasks one worker process runs at the same time.")
    poll_interval_s: float = Field(0.5, gt=0, description="How often an idle worker looks for queued tasks.")
    lease_s: float = Field(
        30.0, gt=0, description="A claimed task whose worker stops renewing its lease for this long is retaken."
    )
    max_attempts: int = Field(
        5,
        ge=1,
        description=(
            "Runs of one task (claims, jobs) before it is failed: a run cut off by a crash, a lost lease or a "
            "transient error is retried (procrastinate: after 2, 4, 8 … s, at most 60 s); the last one fails the task."
        ),
    )


class QueueSettings(BaseModel):
    """How tasks reach workers follows the database: on SQLite the task row is the job, claimed by the one
    process's worker; on PostgreSQL, procrastinate jobs serve any number of workers."""

    stalled_after_s: float = Field(
        30.0, gt=0, description="procrastinate: a worker silent this long is dead and its jobs are retried."
    )
    heartbeat_s: float = Field(10.0, gt=0, description="procrastinate: how often a worker says it is alive.")
    shutdown_grace_s: float = Field(
        30.0, ge=0, description="On SIGTERM, how long running tasks may take to reach their next checkpoint."
    )
    sweep_interval_s: float = Field(
        60.0,
        gt=0,
        description=(
            "procrastinate: how often a worker looks for unfinished tasks that have no waiting or running job "
            "(a hand-over that failed while the database was down) and queues them again; also at start."
        ),
    )


class ApiSettings(BaseModel):
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Larger request bodies are refused with 413.")
    creates_per_minute: float = Field(
        60.0, gt=0, description="Sustained task creations allowed per user, across all API processes (429 beyond)."
    )
    create_burst: int = Field(20, ge=1, description="Task creations a user may make at once before the limit.")
    auth_cache_s: float = Field(
        30.0, ge=0,
        description="How long an API process trusts a token it has already checked (0: never). A revoked token "
                    "keeps working for up to this long in each API process that checked it just before; an "
                    "expired one is refused at once.",
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="When set, GET /metrics needs `Authorization: Bearer <this token>`. Unset: /metrics is open; "
                    "it shows counts of every organization together and is meant for the operator's network only.",
    )
    workers: int = Field(
        1, ge=1, le=64,
        description="PostgreSQL: API processes `serve` runs on one port (uvicorn's own --workers), about one per "
                    "CPU core. SQLite is served by one process.",
    )
    events_poll_s: float = Field(
        0.5, gt=0, le=60,
        description="How often a stream of GET /v1/discovery_tasks/{id}/events reads its task from the database.",
    )
    session_hours: float = Field(
        168.0, gt=0, le=24 * 365,
        description="How long a web app sign-in lasts (never past its token's expiry); revoking the token ends it "
                    "at once.",
    )


class DatabaseSettings(BaseModel):
    pool_size: int = Field(
        20, ge=1, le=500,
        description="PostgreSQL: connections each process keeps open (SQLite: fixed at 8). Keep "
                    "(pool_size + max_overflow) × processes (API, workers) below the server's max_connections.",
    )
    # 0: under load a request waits for a pooled connection rather than open one (a PostgreSQL backend fork)
    # that is closed again on return.
    max_overflow: int = Field(
        0, ge=0, le=500,
        description="PostgreSQL: extra connections a process may open beyond pool_size under load; they are "
                    "closed again when returned, so each costs a connection set-up (0: wait for a pooled one).",
    )
    read_pool_size: int = Field(
        10, ge=1, le=500,
        description="PostgreSQL: connections each API process keeps for GET of a task and of its results "
                    "(psycopg's pool, opened on the first GET, apart from pool_size); count them in the "
                    "max_connections sum too.",
    )


class LLMSettings(BaseModel):
    base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 (Ollama). Unset: no LLM."
    )
    api_key: SecretStr | None = Field(None, description="API key for the endpoint; local servers need none.")
    model: str | None = Field(None, description="Model name, e.g. gpt-4o-mini or llama3.1:8b.")
    timeout_s: float = Field(60.0, gt=0, description="Per-request timeout.")
    max_attempts: int = Field(4, ge=1, description="Tries per request on 429, 5xx and timeouts.")
    max_wait_s: float = Field(
        60.0, ge=0, description="Longest Retry-After waited in place; a longer one hands the task back to the queue."
    )
    max_concurrency: int = Field(4, ge=1, description="Requests in flight at once per worker process.")
    batch_size: int = Field(5, ge=1, le=50, description="Companies graded per request.")
    cache: bool = Field(True, description="Cache replies by (model, prompt) in DATA_DIR/llm-cache.sqlite.")
    # 0 makes grading as repeatable as the model allows; some reasoning models (OpenAI o-series, gpt-5)
    # reject any temperature but their default, hence "omit".
    temperature: Annotated[float, Field(ge=0, le=2)] | Literal["omit"] = Field(
        0.0,
        description='Sampling temperature sent with every request (0-2), or "omit" to send none (the model\'s '
                    "default; needed by models that reject the parameter).",
    )
    plan_queries: bool = Field(
        True,
        description="Also use the LLM in the plan step: infer criteria from the query (when none are given) and "
                    "propose extra full-text search terms. False: the local parser plans, the LLM only grades.",
    )
    tokens_per_task: int = Field(
        2_000_000, ge=0,
        description="LLM tokens (prompt + completion) one task may spend, counted from its create or its latest "
                    "resume (a create's `budget.total_tokens` overrides it); when they are spent the task stops "
                    "grading and ends with `budget_exhausted`, keeping what it graded.",
    )
    price_input_usd_per_m: float | None = Field(
        None, ge=0, description="USD per million prompt tokens, for tasks' `usage.estimated_cost_usd`; unset: unknown.",
    )
    price_output_usd_per_m: float | None = Field(
        None, ge=0,
        description="USD per million completion tokens, for tasks' `usage.estimated_cost_usd`; unset: unknown.",
    )


class PipelineSettings(BaseModel):
    # Each step costs a batch read, a transaction and a counter update whatever its size; grading stops within
    # a step once the target is met (runner.GRADE_CHUNK), so a large batch never grades past it.
    batch_size: int = Field(100, ge=1, le=500, description="Candidates enriched or graded per checkpointed step.")
    discover_page_size: int = Field(
        100, ge=1, le=1000, description="Candidates asked of each source per discovery round."
    )
    max_candidates_per_task: int = Field(
        2000, ge=10, description="Work bound: a task stops discovering (and is exhausted) past this many."
    )


class SemanticSettings(BaseModel):
    enabled: Literal["auto", "on", "off"] = Field(
        "auto",
        description=(
            "Dense-embedding retrieval beside full-text search. auto: used when the semantic extra is installed "
            "(pip install 'firmscout[semantic]') and company vectors exist (`firmscout companies embed`); on: "
            "required (an error names the fix when the extra is missing) and imports embed new companies; off: never."
        ),
    )
    model: str = Field(
        "all-MiniLM-L6-v2",
        description=(
            "Embedding model: all-MiniLM-L6-v2 (shipped with the extra) or a local sentence-transformers folder."
        ),
    )
    threads: int = Field(0, ge=0, le=64, description="CPU threads the model may use (0: torch's default).")
    batch_size: int = Field(64, ge=1, le=1024, description="Texts embedded per model call.")
    max_chars: int = Field(
        600, ge=50, description="Company text embedded, cut at a word boundary (most telling fields first)."
    )
    top_k: int = Field(
        100, ge=0, le=2000,
        description="Nearest companies fused (reciprocal rank fusion) with as many full-text hits per task.",
    )
    min_similarity: float = Field(
        0.3, ge=-1, le=1,
        description=(
            "Nearest companies less similar (cosine to the query) than this are not candidates: far neighbours "
            "would only cost grading time, since the grader rejects them."
        ),
    )
    refresh_s: float = Field(
        10.0, ge=0, description="How often a search checks whether stored vectors changed and reloads its index."
    )
    topic_similarity: float = Field(
        0.6, ge=0, le=2,
        description=(
            "Local grading: a company whose text does not name a topic but whose vector is at least this close "
            "(cosine) to it gets a 4 on the topic instead of a miss. Above 1: embeddings never change a grade."
        ),
    )


class WebSettings(BaseModel):
    """How Firmscout reads companies' websites: every page load goes through one guarded fetcher."""

    enrich: Literal["off", "auto", "on"] = Field(
        "auto",
        description="Read candidates' websites before grading. auto: on when a search or places provider or a "
                    "proxy is configured (the embedded default stays offline); on: always; off: never.",
    )
    proxy_url: str | None = Field(
        None,
        description="HTTP forward proxy for every page fetch (a crawling service or a corporate egress). Literal "
                    "blocked addresses, localhost names and names that resolve locally to blocked ranges are still "
                    "refused; names that do not resolve locally are left to the proxy.",
    )
    allow_hosts: list[str] = Field(
        default_factory=list,
        description="Hostnames or CIDRs exempt from the guard (internal hosts you mean to read); empty by default.",
    )
    user_agent: str = Field(
        "FirmscoutBot/0.1 (+https://github.com/firmscout/firmscout)",
        description="User-Agent of every page fetch; robots.txt rules for its first word apply.",
    )
    max_body_bytes: int = Field(
        2_000_000, ge=10_000, description="A page's body is cut here, counted after decompression."
    )
    deadline_s: float = Field(15.0, gt=0, description="Time for one fetch, redirects included.")
    max_redirects: int = Field(5, ge=0, le=20, description="Redirect hops followed, each checked again.")
    per_host_concurrency: int = Field(1, ge=1, le=8, description="Fetches in flight to one host.")
    per_host_delay_s: float = Field(1.0, ge=0, description="Pause between two fetches from one host.")
    global_concurrency: int = Field(16, ge=1, le=512, description="Fetches in flight per process.")
    max_retry_after_s: float = Field(
        10.0, ge=0, description="A 429/503 whose Retry-After is at most this is waited for and tried once more."
    )
    pages_per_candidate: int = Field(4, ge=1, le=10, description="Homepage plus internal pages read per company.")
    pages_per_task: int = Field(
        400, ge=1, description="Pages one task may fetch (cache hits are free), counted from its create or its "
                               "latest resume (a create's `budget.pages_fetched` overrides it); past them candidates "
                               "are graded without their website (`web_status` \"budget\").",
    )
    cache_ttl_s: float = Field(7 * 24 * 3600.0, ge=0, description="How long a fetched page is reused.")
    keep_html: bool = Field(False, description="Also keep pages' raw HTML in the cache (not only what was extracted).")
    search_provider: Literal["searxng", "brave", "tavily", "exa", "serper", "ddgs"] | None = Field(
        None,
        description="Web search provider of the `web_search` and `linkedin` sources; unset: no web search. "
                    "searxng: a self-hosted SearXNG with its JSON format on (needs SEARCH_URL); brave, tavily, exa, "
                    "serper: their APIs (need SEARCH_API_KEY); ddgs: keyless, the [ddgs] extra.",
    )
    search_url: str | None = Field(
        None,
        description="Base URL of the search API: required for SearXNG (e.g. http://127.0.0.1:8888, called as "
                    "GET {URL}/search?q=…&format=json&pageno=N); for the others it replaces their public address.",
    )
    search_api_key: SecretStr | None = Field(None, description="API key of the search provider (not SearXNG's).")
    search_timeout_s: float = Field(20.0, gt=0, description="Time for one search request.")
    search_interval_s: float = Field(
        1.0, ge=0, description="Pause between two requests to the search provider (Brave's free plan allows 1/s).",
    )
    searches_per_task: int = Field(
        30, ge=0, description="Search provider requests one task may make, counted from its create or its latest "
                              "resume (a create's `budget.search_requests` overrides it); when they are spent the "
                              "task stops with `budget_exhausted`.",
    )
    search_price_usd: float | None = Field(
        None, ge=0,
        description="USD per request to the search provider, for tasks' `usage.estimated_cost_usd`; unset: unknown.",
    )
    places_provider: Literal["serper", "google"] | None = Field(
        None,
        description="Places endpoint of the `maps` source. serper: Serper's places, with SEARCH_API_KEY (needs "
                    "SEARCH_PROVIDER=serper); google: Google Places API (New) Text Search, with PLACES_API_KEY. "
                    "Unset: serper when SEARCH_PROVIDER is serper, else no maps source.",
    )
    places_api_key: SecretStr | None = Field(
        None, description="API key of Google Places (a Google Cloud project with Places API (New) enabled); "
                          "Serper's places use SEARCH_API_KEY.",
    )
    places_url: str | None = Field(
        None, description="Base URL of the places endpoint (a proxy, a test server); unset: the provider's public "
                          "address (https://places.googleapis.com; for serper, SEARCH_URL when set).",
    )


class WebhookSettings(BaseModel):
    """How a task's webhook is delivered: through the web fetcher's guard (FIRMSCOUT_WEB__ALLOW_HOSTS applies)."""

    attempts: int = Field(5, ge=1, le=20, description="Tries per event: connection errors, timeouts, 429 and 5xx "
                                                      "are retried.")
    backoff_s: float = Field(1.0, ge=0, description="Wait before the second try, doubled for each one after.")
    timeout_s: float = Field(10.0, gt=0, description="Time for one try, connecting included.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FIRMSCOUT_", env_nested_delimiter="__", extra="ignore", env_file=None
    )

    data_dir: Path = Field(
        default_factory=_default_data_dir, description="Where the embedded SQLite database lives."
    )
    database_url: str | None = Field(
        None,
        description=(
            "Database URL. Unset: SQLite at DATA_DIR/firmscout.db. Plain sqlite:///PATH and "
            "postgresql://USER@HOST:PORT/DB work as written; the async driver is chosen for you."
        ),
    )
    seed_builtin_companies: bool = Field(
        True, description="Load the built-in company database (pytickersymbols) on first start."
    )
    bootstrap_token: bool = Field(
        True, description="On `serve` with no users yet, create a local user and print its API token once."
    )
    worker: WorkerSettings = Field(default_factory=WorkerSettings, description="Worker concurrency and leases.")
    queue: QueueSettings = Field(default_factory=QueueSettings, description="Job transport.")
    api: ApiSettings = Field(default_factory=ApiSettings, description="HTTP limits.")
    db: DatabaseSettings = Field(default_factory=DatabaseSettings, description="Database connection pool.")
    llm: LLMSettings = Field(default_factory=LLMSettings, description="Optional LLM planning and grading.")
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings, description="Pipeline bounds.")
    semantic: SemanticSettings = Field(
        default_factory=SemanticSettings, description="Optional dense-embedding (hybrid) retrieval."
    )
    web: WebSettings = Field(default_factory=WebSettings, description="Reading companies' websites.")
    webhook: WebhookSettings = Field(
        default_factory=WebhookSettings, description="Delivering tasks' webhooks (`task.completed`, `task.failed`)."
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'firmscout.db'}"
