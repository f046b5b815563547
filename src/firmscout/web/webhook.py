"""POST one signed webhook event, through the same SSRF guard as every page fetch, retrying what may pass.

Each try checks the URL with `web/guard.py` (scheme, credentials, local names, literal and resolved addresses;
FIRMSCOUT_WEB__ALLOW_HOSTS exempts hosts) and connects to the address it checked, as `web/fetch.Fetcher` does.
Redirects are never followed: a 3xx is a failure, since its target could point inside.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from firmscout.config import WebhookSettings, WebSettings
from firmscout.web.fetch import Resolver, Route, pinned, system_resolver
from firmscout.web.guard import DEFAULT_PORTS, AllowList, Blocked, host_refusal, parse_target, resolved_refusal

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Delivery:
    """How one event's delivery ended: `delivered`, or `failed: <why>`, after `attempts` requests tried."""

    status: str
    attempts: int


class _Final(Exception):
    """An answer retrying cannot change: a redirect or another 4xx."""


class _Retry(Exception):
    """A try that may pass later: a connection error, a timeout, a 429 or a 5xx."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Firmscout-Signature` value: HMAC-SHA256 with the secret over `{timestamp}.{body}`, in hex."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookSender:
    """Use one per worker and `aclose` it."""

    def __init__(self, web: WebSettings, hooks: WebhookSettings, *, resolver: Resolver = system_resolver,
                 sleep: Sleep = asyncio.sleep) -> None:
        self._hooks, self._proxy = hooks, web.proxy_url
        self._allow = AllowList.parse(web.allow_hosts)
        self._resolve, self._sleep = resolver, sleep
        # trust_env=False: environment proxies never carry webhooks; redirects are refused, not followed.
        self._client = httpx.AsyncClient(timeout=hooks.timeout_s, trust_env=False, follow_redirects=False,
                                         proxy=web.proxy_url or None, headers={"User-Agent": web.user_agent})

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, url: str, secret: str, event: str, body: bytes) -> Delivery:
        """POST `body` up to `attempts` times, waiting backoff_s, then twice that, between tries."""
        delivery = str(uuid.uuid4())  # one id for every try of this event, so a receiver can drop repeats
        reason = ""
        for attempt in range(1, self._hooks.attempts + 1):
            if attempt > 1:
                await self._sleep(self._hooks.backoff_s * 2 ** (attempt - 2))
            try:
                await self._try(url, secret, event, delivery, body)
                return Delivery("delivered", attempt)
            except _Retry as exc:
                reason = str(exc)
            except Blocked as exc:
                return Delivery(f"failed: blocked ({exc.reason})", attempt)
            except _Final as exc:
                return Delivery(f"failed: {exc}", attempt)
        return Delivery(f"failed: {reason} after {self._hooks.attempts} attempts", self._hooks.attempts)

    async def _try(self, url: str, secret: str, event: str, delivery: str, body: bytes) -> None:
        target, headers, extensions = await self._route(url)
        timestamp = str(int(time.time()))
        headers |= {"Content-Type": "application/json", "X-Firmscout-Event": event,
                    "X-Firmscout-Delivery": delivery, "X-Firmscout-Timestamp": timestamp,
                    "X-Firmscout-Signature": signature(secret, timestamp, body)}
        try:
            response = await self._client.post(target, content=body, headers=headers, extensions=extensions)
        except httpx.TimeoutException:
            raise _Retry("timeout") from None
        except httpx.TransportError as exc:
            raise _Retry(f"unreachable ({type(exc).__name__})") from None
        status = response.status_code
        if 200 <= status < 300:
            return
        if status == 429 or status >= 500:
            raise _Retry(f"HTTP {status}")
        if 300 <= status < 400:
            raise _Final(f"HTTP {status} redirect to {response.headers.get('location', '?')!r} not followed")
        raise _Final(f"HTTP {status}")

    async def _route(self, url: str) -> Route:
        """The URL to POST to, pinned to the address the guard checked (as `Fetcher` does); `Blocked` if refused."""
        parts = parse_target(url)
        reason = host_refusal(parts, self._allow)
        if reason:
            raise Blocked(reason)
        host = (parts.hostname or "").rstrip(".")
        try:
            addresses = await self._resolve(host, parts.port or DEFAULT_PORTS[parts.scheme])
        except OSError as exc:
            if self._proxy:
                return url, {}, {}  # the proxy's resolver decides
            raise _Retry(f"{host} does not resolve ({exc})") from None
        reason = resolved_refusal(host, addresses, self._allow)
        if reason:
            raise Blocked(reason)
        if self._proxy or not addresses:
            return url, {}, {}
        return pinned(parts, host, addresses[0])
