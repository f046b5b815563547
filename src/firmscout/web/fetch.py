"""The one fetcher every outbound page load goes through: the SSRF guard, limits, robots.txt and politeness.

Direct fetches connect to the address the guard checked (the URL's host is swapped for it; the Host header
and TLS's SNI and certificate check keep the name), so a second lookup cannot bring a different address.
Through FIRMSCOUT_WEB__PROXY_URL the proxy connects, so only what can be checked here is: literal addresses,
local names, and names that resolve locally.
"""

from __future__ import annotations

import asyncio
import codecs
import ipaddress
import logging
import socket
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import SplitResult, urljoin, urlunsplit

import httpx
from protego import Protego

from firmscout.config import WebSettings
from firmscout.web.guard import (
    DEFAULT_PORTS,
    AllowList,
    Blocked,
    IPAddress,
    host_refusal,
    parse_target,
    resolved_refusal,
)

log = logging.getLogger(__name__)
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
# Books a host's next slot for all processes: (origin, delay) → seconds to wait before asking it.
Pace = Callable[[str, float], Awaitable[float]]
# What to request: the URL (pinned to the checked address, or as given for the proxy), headers, extensions.
Route = tuple[str, dict[str, str], dict[str, object]]  # (URL to send to, extra headers, httpx extensions)


def pinned(parts: SplitResult, host: str, address: IPAddress) -> Route:
    """The request's route to the address the guard checked, so no second lookup can change where it goes:
    the URL with the address in place of the name, the name in `Host` (and as SNI for https)."""
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    extensions: dict[str, object] = {"sni_hostname": host} if parts.scheme == "https" else {}
    return url, {"Host": parts.netloc.rsplit("@", 1)[-1]}, extensions
PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
_REDIRECTS = (301, 302, 303, 307, 308)
_ROBOTS_MAX_BYTES = 500_000
_ROBOTS_TTL_S = 24 * 3600.0


class FetchError(Exception):
    """A page that could not be read, and why: blocked, robots, too_large, timeout, unreachable, http_status,
    content_type, encoding, too_many_redirects or rate_limited. Never a task failure: the caller records it."""

    def __init__(self, reason: str, url: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {url}{f' ({detail})' if detail else ''}")
        self.reason, self.url, self.detail = reason, url, detail


@dataclass(frozen=True)
class Fetched:
    url: str  # as asked
    final_url: str  # after redirects
    status: int
    content_type: str
    text: str
    bytes: int  # body bytes after decompression
    redirects: tuple[str, ...] = ()


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


class Fetcher:
    """Use one per process and `aclose` it."""

    def __init__(
        self, settings: WebSettings, *, resolver: Resolver = system_resolver, pace: Pace | None = None
    ) -> None:
        """`pace`: a host's delay kept for every process at once (PostgreSQL); without it, per process."""
        self._settings = settings
        self._pace = pace
        self._allow = AllowList.parse(settings.allow_hosts)
        self._resolve = resolver
        timeout = httpx.Timeout(settings.deadline_s, connect=min(5.0, settings.deadline_s))
        headers = {"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate",
                   "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1"}
        limits = httpx.Limits(max_connections=settings.global_concurrency, max_keepalive_connections=32)
        # trust_env=False: proxy variables of the environment never redirect page fetches.
        self._client = httpx.AsyncClient(
            timeout=timeout, headers=headers, limits=limits, trust_env=False, follow_redirects=False,
            proxy=settings.proxy_url or None,
        )
        self._global = asyncio.Semaphore(settings.global_concurrency)
        self._hosts: dict[str, _Host] = {}
        self._robots: dict[str, tuple[float, Protego | bool]] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._agent = settings.user_agent.split("/")[0].split()[0]

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url: str) -> Fetched:
        """One page, following redirects (each hop checked again); `FetchError` says why not."""
        try:
            async with asyncio.timeout(self._settings.deadline_s):
                return await self._follow(url, robots=True)
        except TimeoutError:
            raise FetchError("timeout", url, f"over {self._settings.deadline_s:g} s") from None

    async def fetch_site(self, domain: str) -> Fetched:
        """A bare domain's homepage: https first, then http."""
        try:
            return await self.fetch(f"https://{domain}/")
        except FetchError as exc:
            if exc.reason in ("blocked", "robots"):
                raise
            return await self.fetch(f"http://{domain}/")

    async def _follow(self, url: str, *, robots: bool, max_bytes: int | None = None) -> Fetched:
        current, hops = url, []
        for _ in range(self._settings.max_redirects + 1):
            parts = self._check(current)
            route = await self._route(parts, current)  # the host is checked before even its robots.txt is read
            if robots and not await self._robots_allow(parts):
                raise FetchError("robots", current, "robots.txt disallows it")
            response = await self._send(parts, current, route, max_bytes or self._settings.max_body_bytes)
            if isinstance(response, str):  # a redirect's target
                hops.append(current)
                current = response
                continue
            return Fetched(url, current, *response, redirects=tuple(hops))
        raise FetchError("too_many_redirects", url, f"more than {self._settings.max_redirects}")

    def _check(self, url: str) -> SplitResult:
        try:
            parts = parse_target(url)
            reason = host_refusal(parts, self._allow)
        except Blocked as exc:
            raise FetchError("blocked", url, exc.reason) from None
        if reason:
            raise FetchError("blocked", url, reason)
        return parts

    async def _route(self, parts: SplitResult, url: str) -> Route:
        """The URL to request, its extra headers and extensions: pinned to the checked address, or via the proxy."""
        host = (parts.hostname or "").rstrip(".")
        port = parts.port or DEFAULT_PORTS[parts.scheme]
        try:
            addresses = await self._resolve(host, port)
        except OSError as exc:
            if self._settings.proxy_url:
                return url, {}, {}  # the proxy's resolver decides
            raise FetchError("unreachable", url, f"{host} does not resolve ({exc})") from None
        reason = resolved_refusal(host, addresses, self._allow)
        if reason:
            raise FetchError("blocked", url, reason)
        if self._settings.proxy_url or not addresses:
            return url, {}, {}
        return pinned(parts, host, addresses[0])

    async def _send(
        self, parts: SplitResult, url: str, route: Route, max_bytes: int
    ) -> str | tuple[int, str, str, int]:
        """A redirect's absolute target, or (status, content type, text, bytes) of the page."""
        target, headers, extensions = route
        host = self._host(parts)
        for attempt in (1, 2):
            # The host's turn first: a fetch waiting out a host's delay holds no global slot.
            async with host.turn(self._settings.per_host_delay_s), self._global:
                request = self._client.build_request("GET", target, headers=headers, extensions=extensions)
                try:
                    response = await self._client.send(request, stream=True)
                except httpx.HTTPError as exc:
                    raise FetchError("unreachable", url, type(exc).__name__) from None
                try:
                    if response.status_code in _REDIRECTS and "location" in response.headers:
                        return urljoin(url, response.headers["location"].strip())
                    wait = _retry_after(response)
                    if response.status_code in (429, 503) and attempt == 1 and wait is not None \
                            and wait <= self._settings.max_retry_after_s:
                        host.pause(wait)
                        continue
                    if response.status_code in (429, 503):
                        raise FetchError("rate_limited", url, f"HTTP {response.status_code}")
                    if response.status_code >= 400:
                        raise FetchError("http_status", url, f"HTTP {response.status_code}")
                    media, charset = _content_type(response.headers.get("content-type", "text/html"))
                    if media not in PAGE_TYPES:
                        raise FetchError("content_type", url, media)
                    body = await _read(response, url, max_bytes)
                    return response.status_code, media, _decode(body, charset), len(body)
                finally:
                    await response.aclose()
        raise AssertionError("unreachable")

    def _host(self, parts: SplitResult) -> _Host:
        key = f"{parts.scheme}://{parts.netloc}"
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(key, self._settings.per_host_concurrency, self._pace)
        return host

    async def _robots_allow(self, parts: SplitResult) -> bool:
        origin = f"{parts.scheme}://{parts.netloc}"
        # One read per host even when several of its pages are asked for at once.
        async with self._robots_locks.setdefault(origin, asyncio.Lock()):
            cached = self._robots.get(origin)
            if cached is None or time.monotonic() - cached[0] > _ROBOTS_TTL_S:
                cached = (time.monotonic(), await self._read_robots(origin))
                self._robots[origin] = cached
        rules = cached[1]
        if isinstance(rules, bool):
            return rules
        return bool(rules.can_fetch(urlunsplit(parts), self._agent))

    async def _read_robots(self, origin: str) -> Protego | bool:
        # RFC 9309: a missing robots.txt (4xx) allows everything; a server error disallows everything; a host
        # that does not answer at all is unreachable, for its pages too.
        try:
            page = await self._follow(f"{origin}/robots.txt", robots=False, max_bytes=_ROBOTS_MAX_BYTES)
        except FetchError as exc:
            if exc.reason in ("unreachable", "timeout"):
                raise FetchError(exc.reason, origin + "/", exc.detail) from None
            missing = exc.reason == "http_status" and exc.detail.startswith("HTTP 4")
            return missing or exc.reason in ("content_type", "too_large")
        return Protego.parse(page.text)


class _Host:
    """One host's share of the fetcher: at most `concurrency` fetches at once, `delay` apart (across processes
    when a shared pace is given)."""

    def __init__(self, origin: str, concurrency: int, pace: Pace | None) -> None:
        self._origin = origin
        self._slots = asyncio.Semaphore(concurrency)
        self._pace = pace
        self._next_at = 0.0
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    @asynccontextmanager
    async def turn(self, delay: float) -> AsyncIterator[None]:
        """One fetch's turn: a slot among the host's, started `delay` after the previous one."""
        async with self._slots:
            now = time.monotonic()
            if self._pace is not None and delay > 0:
                wait = await self._pace(self._origin, delay)
            else:
                wait = self._next_at - now
                self._next_at = max(self._next_at, now) + delay
            wait = max(wait, self._paused_until - now)
            if wait > 0:
                await asyncio.sleep(wait)
            yield


def _content_type(header: str) -> tuple[str, str | None]:
    media, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset":
            charset = value.strip().strip('"') or None
    return media.strip().lower() or "text/html", charset


async def _read(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    """The body, decompressed here with a bound on the output, so a gzip bomb stops at `max_bytes`."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        inflate: zlib._Decompress | None = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflate = zlib.decompressobj()
    elif encoding in ("identity", ""):
        inflate = None
    else:
        raise FetchError("encoding", url, f"Content-Encoding {encoding}")
    chunks: list[bytes] = []
    size = 0
    async for raw in response.aiter_raw():
        data = raw
        while data:
            if inflate is None:
                piece, data = data, b""
            else:
                try:
                    piece = inflate.decompress(data, max_bytes - size + 1)
                except zlib.error as exc:
                    raise FetchError("encoding", url, str(exc)) from None
                data = inflate.unconsumed_tail
            size += len(piece)
            if size > max_bytes:
                raise FetchError("too_large", url, f"over {max_bytes} bytes")
            chunks.append(piece)
            if inflate is not None and not piece:
                break
    if inflate is not None:
        rest = inflate.flush()
        if size + len(rest) > max_bytes:
            raise FetchError("too_large", url, f"over {max_bytes} bytes")
        chunks.append(rest)
    return b"".join(chunks)


def _decode(body: bytes, charset: str | None) -> str:
    if charset:
        try:
            codecs.lookup(charset)
        except LookupError:
            charset = None
    return body.decode(charset or "utf-8", errors="replace")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
