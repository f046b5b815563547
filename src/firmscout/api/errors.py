"""Render every error in the body shape the spec dictates: {"detail": "..."} or the 422 list."""

from __future__ import annotations

import math

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from firmscout.errors import FirmscoutError, InvalidField, RateLimited, Unauthorized


async def _firmscout_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FirmscoutError)
    if isinstance(exc, InvalidField):
        body = {"detail": [{"loc": list(exc.loc), "msg": exc.message, "type": exc.error_type}]}
        return JSONResponse(body, status_code=422)
    headers: dict[str, str] | None = None
    if isinstance(exc, Unauthorized):
        headers = {"WWW-Authenticate": "Bearer"}
    elif isinstance(exc, RateLimited):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
    return JSONResponse({"detail": exc.message}, status_code=exc.status_code, headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(FirmscoutError, _firmscout_error)
