"""The interactive API docs (/docs: Swagger UI, /redoc: ReDoc), served with their scripts and styles.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, and ReDoc fonts from Google, so on a machine
without internet they stay blank. This is FastAPI's "self-hosting JavaScript and CSS for docs" recipe, with
the files taken from the fastapi-offline package (Swagger UI 5, ReDoc 2 and a favicon, MIT) rather than
copied into this repository: the pages reference no other host.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs/assets"
# The package's files; StaticFiles checks the folder exists when the app is built, not at the first request.
ASSETS_PACKAGE = ("fastapi_offline", "static")


def install(app: FastAPI) -> None:
    """Serve the docs pages and their assets; build `app` with `docs_url=None, redoc_url=None`."""
    app.mount(ASSETS_URL, StaticFiles(packages=[ASSETS_PACKAGE]), name="docs_assets")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        openapi, assets = _urls(app, request)
        return get_swagger_ui_html(
            openapi_url=openapi, title=f"{app.title} - Swagger UI", swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css", swagger_favicon_url=f"{assets}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        openapi, assets = _urls(app, request)
        return get_redoc_html(
            openapi_url=openapi, title=f"{app.title} - ReDoc", redoc_js_url=f"{assets}/redoc.standalone.js",
            redoc_favicon_url=f"{assets}/favicon.png", with_google_fonts=False,
        )


def _urls(app: FastAPI, request: Request) -> tuple[str, str]:
    """The OpenAPI document's URL and the assets' prefix, as this request reaches them."""
    # Behind a proxy that serves the API under a prefix (uvicorn --root-path), as FastAPI's own pages do.
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return f"{root}{app.openapi_url}", f"{root}{ASSETS_URL}"
