"""The ASGI app. It serves a Runtime, built by the caller (cli, tests) or in its own lifespan; it never runs
pipeline work."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from firmscout import __version__
from firmscout.api import docs, errors
from firmscout.api.middleware import RequestMiddleware
from firmscout.api.routes import account, companies, discovery_tasks, events, metrics
from firmscout.api.ui import routes as web_app
from firmscout.config import Settings
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import CreateQuota


def create_app(runtime: Runtime) -> FastAPI:
    """The app over a runtime its caller opened and will close."""
    app = _app(runtime.settings)
    _attach(app, runtime)
    return app


def create_app_opening(settings: Settings, open_runtime: Callable[[], AbstractAsyncContextManager[Runtime]]) -> FastAPI:
    """The app of a server process of its own (one of uvicorn's workers): its lifespan opens the runtime."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime() as runtime:
            _attach(app, runtime)
            yield

    return _app(settings, lifespan)


def _app(settings: Settings, lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None) -> FastAPI:
    app = FastAPI(
        title="Firmscout",
        version=__version__,
        description="Self-hostable company discovery, wire-compatible with Extruct's Deep Search API.",
        # FastAPI's native OpenTelemetry hooks: off, so no request pays for checking whether a tracer or
        # meter is configured; /metrics (Prometheus) and the JSON access log are our telemetry.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        # FastAPI's own pages load their scripts from a CDN: `docs` serves them from the installed package.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    limits = settings.api
    # One budget per user across every API process and machine: the buckets are database rows.
    app.state.create_quota = CreateQuota(limits.creates_per_minute, limits.create_burst)
    app.state.caller_cache = accounts.CallerCache(ttl_s=limits.auth_cache_s)
    errors.install(app)
    docs.install(app)
    app.include_router(discovery_tasks.router)
    app.include_router(events.router)
    app.include_router(companies.router)
    app.include_router(account.router)
    app.include_router(metrics.router)
    app.include_router(web_app.router)
    app.mount("/static", StaticFiles(packages=[("firmscout.api.ui", "static")]), name="static")
    app.add_middleware(RequestMiddleware, max_body_bytes=limits.max_body_bytes)
    return app


def _attach(app: FastAPI, runtime: Runtime) -> None:
    app.state.runtime = runtime
