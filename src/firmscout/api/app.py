"""The ASGI app. It serves a Runtime built by the caller (cli, tests); it never runs pipeline work."""

from __future__ import annotations

from fastapi import FastAPI

from firmscout import __version__
from firmscout.api import errors
from firmscout.api.middleware import RequestMiddleware
from firmscout.api.routes import account, discovery_tasks, metrics
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import CreateQuota


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="Firmscout",
        version=__version__,
        description="Self-hostable company discovery, wire-compatible with Extruct's Deep Search API.",
        # FastAPI's native OpenTelemetry hooks: off, so no request pays for checking whether a tracer or
        # meter is configured; /metrics (Prometheus) and the JSON access log are our telemetry.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.runtime = runtime
    limits = runtime.settings.api
    # One budget per user across every API process and machine: the buckets are database rows.
    app.state.create_quota = CreateQuota(limits.creates_per_minute, limits.create_burst)
    app.state.caller_cache = accounts.CallerCache(ttl_s=limits.auth_cache_s)
    errors.install(app)
    app.include_router(discovery_tasks.router)
    app.include_router(account.router)
    app.include_router(metrics.router)
    app.add_middleware(RequestMiddleware, max_body_bytes=limits.max_body_bytes)
    return app
