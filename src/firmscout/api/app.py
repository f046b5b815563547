"""The ASGI app. It serves a Runtime built by the caller (cli, tests); it never runs pipeline work."""

from __future__ import annotations

from fastapi import FastAPI

from firmscout import __version__
from firmscout.api import errors
from firmscout.api.routes import account, discovery_tasks
from firmscout.tasks.runtime import Runtime


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="Firmscout",
        version=__version__,
        description="Self-hostable company discovery, wire-compatible with Extruct's Deep Search API.",
    )
    app.state.runtime = runtime
    errors.install(app)
    app.include_router(discovery_tasks.router)
    app.include_router(account.router)
    return app
