"""Render every error in the body shape the spec dictates: {"detail": "..."} or the 422 list."""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
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


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": [_entry(error) for error in exc.errors()]}, status_code=422)


def _entry(error: Any) -> dict[str, Any]:
    """One 422 entry: where, what and why; the offending value only when it can be written back as JSON."""
    # An unknown key is part of `loc`, so it is user text too.
    loc = [part if isinstance(part, int) else _printable(str(part)) for part in error["loc"]]
    entry = {"loc": loc, "msg": _printable(str(error["msg"])), "type": str(error["type"])}
    if "input" in error and _encodable(error["input"]):
        entry["input"] = error["input"]
    return entry


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _encodable(value: Any) -> bool:
    # NaN and infinities are not JSON; a lone surrogate is not UTF-8.
    try:
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
        return False
    return True


def install(app: FastAPI) -> None:
    app.add_exception_handler(FirmscoutError, _firmscout_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
