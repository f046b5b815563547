"""The web app's sign-in: an HttpOnly, SameSite session cookie, and a CSRF token checked on every form post.

The API token is posted once, in the sign-in form's body, and exchanged for a session (tasks/accounts.py);
it is never put in a URL or a cookie. Every later form carries the session's CSRF token in a hidden field.
The sign-in form has no session yet, so it is protected by a double-submit cookie instead.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from fastapi import Request
from fastapi.responses import Response

from firmscout.api.deps import runtime
from firmscout.errors import Unauthorized
from firmscout.tasks import accounts

SESSION_COOKIE = "firmscout_session"
SIGNIN_COOKIE = "firmscout_signin"  # the sign-in form's double-submit CSRF value
CSRF_FIELD = "csrf_token"


class CsrfRejected(Exception):
    """A form post without this session's CSRF token (or from another site)."""


def root(request: Request) -> str:
    """The app's prefix as this request reaches it (uvicorn --root-path behind a proxy), for links."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _secure(request: Request) -> bool:
    # Over https (directly or through a proxy uvicorn trusts) the cookie is never sent in clear.
    return request.url.scheme == "https"


async def current(request: Request) -> accounts.SignIn | None:
    """The signed-in session of this request, or None (no cookie, signed out, expired, token revoked)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    try:
        return await accounts.session_caller(runtime(request).sessions, secret)
    except Unauthorized:
        return None


async def open_session(request: Request, response: Response, token: str) -> accounts.SignIn:
    """Exchange `token` for a session and set its cookie on `response`; Unauthorized for a bad token."""
    hours = runtime(request).settings.api.session_hours
    signed = await accounts.sign_in(runtime(request).sessions, token, timedelta(hours=hours))
    response.set_cookie(SESSION_COOKIE, signed.secret, max_age=int(hours * 3600), path=root(request) or "/",
                        httponly=True, samesite="lax", secure=_secure(request))
    response.delete_cookie(SIGNIN_COOKIE, path=root(request) or "/")
    return signed


async def close_session(request: Request, response: Response) -> None:
    if secret := request.cookies.get(SESSION_COOKIE):
        await accounts.sign_out(runtime(request).sessions, secret)
    response.delete_cookie(SESSION_COOKIE, path=root(request) or "/", httponly=True, samesite="lax",
                           secure=_secure(request))


def signin_csrf(request: Request) -> str:
    """The sign-in form's CSRF value: the browser's cookie's when it has one, else a new one."""
    return request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(32)


def set_signin_csrf(request: Request, response: Response, value: str) -> None:
    response.set_cookie(SIGNIN_COOKIE, value, max_age=3600, path=root(request) or "/", httponly=True,
                        samesite="strict", secure=_secure(request))


def check_csrf(request: Request, posted: object, expected: str | None) -> None:
    """Refuse a post whose CSRF field is not `expected`, or that another site's page sent."""
    origin = request.headers.get("origin")
    # Browsers send Origin on every POST; one naming another host is a cross-site form, whatever it carries.
    if origin is not None and origin != "null" and origin.split("://", 1)[-1] != request.headers.get("host"):
        raise CsrfRejected()
    if not expected or not isinstance(posted, str) or not hmac.compare_digest(posted, expected):
        raise CsrfRejected()
