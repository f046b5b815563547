"""ORM tables. Singular names, `*_at` timestamps, constraints named by the metadata's convention."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UserAccount(Base):
    __tablename__ = "user_account"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organization.id"), nullable=True)
    available_credits: Mapped[int] = mapped_column(Integer, default=1000)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    # sha256 of the token: the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # None: never expires / not revoked. Authentication refuses a token past either.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebSession(Base):
    """A browser's sign-in to the web app: the cookie carries a secret, stored only as its sha256."""

    __tablename__ = "web_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The session lives on its token: revoking or expiring the token signs the browser out.
    token_id: Mapped[str] = mapped_column(ForeignKey("api_token.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class DiscoveryTask(Base):
    __tablename__ = "discovery_task"
    __table_args__ = (
        Index("ix_discovery_task_org_created", "organization_id", "created_at"),
        Index("ix_discovery_task_status_lease", "status", "lease_expires_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organization.id"), nullable=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    query: Mapped[str] = mapped_column(Text)
    desired_num_results: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="created")
    is_exhausted: Mapped[bool] = mapped_column(Boolean, default=False)
    stop_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    auto_data_sources: Mapped[bool] = mapped_column(Boolean, default=True)
    data_sources: Mapped[list[Any]] = mapped_column(JSON, default=list)
    criteria: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The plan (criteria + structured constraints) the pipeline derived; null until the plan stage ran.
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    exclude_domains: Mapped[list[Any]] = mapped_column(JSON, default=list)
    table_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # Counters change in the transaction that moves candidate rows, by the rows it moved: they cannot drift.
    num_results_discovered: Mapped[int] = mapped_column(Integer, default=0)
    num_results_enriched: Mapped[int] = mapped_column(Integer, default=0)
    num_results_evaluated: Mapped[int] = mapped_column(Integer, default=0)
    num_results: Mapped[int] = mapped_column(Integer, default=0)
    # LLM tokens spent on this task (0 with the local method).
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Pages fetched from the web for this task (cache hits are free) and their bytes.
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    web_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    search_requests: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The create's cap on search_requests; None: FIRMSCOUT_WEB__SEARCHES_PER_TASK.
    search_budget: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The create's caps on pages_fetched and on LLM tokens; None: FIRMSCOUT_WEB__PAGES_PER_TASK and
    # FIRMSCOUT_LLM__TOKENS_PER_TASK.
    page_budget: Mapped[int | None] = mapped_column(Integer, nullable=True)
    token_budget: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The counters at the latest resume (0 before any): every budget counts from here, so a resume grants
    # the budgets again while usage keeps counting everything the task spent.
    search_requests_at_resume: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pages_fetched_at_resume: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    tokens_at_resume: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # What the search providers reported beside their results ("engine X did not answer"), deduplicated and
    # capped; null on tasks from before migration 0014.
    warnings: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True, default=list)
    # Why candidates did not become results (storage/removals.Removals as JSON); null on tasks created before
    # migration 0012, which recorded none.
    candidates_removed: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, default=dict)
    # The create's webhook (migration 0016): where `task.completed`/`task.failed` go, signed with the secret,
    # which the API never returns; the status (delivered, failed: why) is set once, so it is never sent twice.
    webhook_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    webhook_secret: Mapped[str | None] = mapped_column(String(256), nullable=True)
    webhook_status: Mapped[str | None] = mapped_column(String(512), nullable=True)
    webhook_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Queue state: the task row is the job (embedded queue). A lease marks which worker holds it.
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class SourceCursor(Base):
    """Where discovery stands in one source for one task, so a restart continues instead of repeating."""

    __tablename__ = "source_cursor"
    __table_args__ = (UniqueConstraint("task_id", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("discovery_task.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(40))
    cursor: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_exhausted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Why the source stopped for this task when it failed (a provider outage); None when it ran dry.
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Candidate(Base):
    """One company found for one task; its `stage` moves discovered → enriched → evaluated (or filtered)."""

    __tablename__ = "candidate"
    __table_args__ = (
        # One row per company per task: a re-run after a crash upserts instead of duplicating.
        UniqueConstraint("task_id", "domain"),
        Index("ix_candidate_task_stage", "task_id", "stage", "position"),
        # The results' order, column by column (migration 0012): a page is an index range, never a sort.
        Index("ix_candidate_task_visible_rank", "task_id", "is_high_fit", text("relevance DESC"),
              text("evidence DESC"), text("prominence DESC"), "domain"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    task_id: Mapped[str] = mapped_column(ForeignKey("discovery_task.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253))
    source: Mapped[str] = mapped_column(String(40))
    # Order of discovery; the pipeline works candidates in this order.
    position: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(20), default="discovered")
    company_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    hit: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    profile: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    relevance: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_high_fit: Mapped[bool] = mapped_column(Boolean, default=False)
    # Tie-breakers after relevance (pipeline/local/ranking.py), set when graded; 0 until then.
    evidence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    prominence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # What failed a candidate that did not become a result (storage/removals.py); null otherwise.
    removed_by: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    evaluated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Company(Base):
    """The local company database (data source `extruct_db`), keyed by registered domain."""

    __tablename__ = "company"
    # Migration 0004: PostgreSQL only (the country filter of a full-text search; FTS5 drives SQLite's).
    __table_args__ = (Index("ix_company_country", "country").ddl_if(dialect="postgresql"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    name: Mapped[str] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(Text, nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    full_description: Mapped[str | None] = mapped_column(Text, nullable=True)
    country: Mapped[str | None] = mapped_column(String(100), nullable=True)
    state: Mapped[str | None] = mapped_column(String(100), nullable=True)
    city: Mapped[str | None] = mapped_column(String(200), nullable=True)
    industries: Mapped[list[Any]] = mapped_column(JSON, default=list)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    products: Mapped[str | None] = mapped_column(Text, nullable=True)
    founded_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    employees: Mapped[int | None] = mapped_column(Integer, nullable=True)
    employee_count: Mapped[str | None] = mapped_column(String(20), nullable=True)
    revenue: Mapped[str | None] = mapped_column(Text, nullable=True)
    wikipedia_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    linkedin_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    origin: Mapped[str] = mapped_column(String(100), default="import")
    # Concatenated searchable text; the full-text index (FTS5 / tsvector) is built from it.
    search_text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class CompanyEmbedding(Base):
    """A company's dense vector for one embedding model, with the hash of the text it was made from."""

    __tablename__ = "company_embedding"

    company_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("company.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    # sha256 of the embedded text: an unchanged company is not embedded again.
    text_hash: Mapped[str] = mapped_column(String(64))
    dim: Mapped[int] = mapped_column(Integer)
    # float32 little-endian, `dim` values: 1.5 KB for MiniLM's 384 dimensions.
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class RateLimitBucket(Base):
    """A token bucket (one per user and limited action), shared by every API process on every machine."""

    __tablename__ = "rate_limit_bucket"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tokens: Mapped[float] = mapped_column(Double)
    # Seconds since the epoch: the bucket's arithmetic runs in SQL, where plain numbers add up the same way
    # on SQLite and PostgreSQL.
    refilled_at: Mapped[float] = mapped_column(Double)


class WebPage(Base):
    """A fetched page (or why it could not be fetched), reused until `fetched_at` + the cache's TTL."""

    __tablename__ = "web_page"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    final_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # sha256 of the body: a refetch that finds the same content changes nothing downstream.
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # What extraction took from the page (web/extract.PageFacts); raw HTML only when configured.
    facts: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    html: Mapped[str | None] = mapped_column(Text, nullable=True)
    bytes: Mapped[int] = mapped_column(Integer, default=0)
    # A fetch that failed is cached too (blocked, robots, too_large, …), so a retry does not ask again.
    error: Mapped[str | None] = mapped_column(String(40), nullable=True)
    error_detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebHost(Base):
    """When a site may next be asked for a page, shared by every worker process (one pace per host)."""

    __tablename__ = "web_host"

    origin: Mapped[str] = mapped_column(String(300), primary_key=True)
    # Seconds since the epoch, as the rate-limit buckets keep time: every machine's clock in one unit.
    next_at: Mapped[float] = mapped_column(Double)
