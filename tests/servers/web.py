"""A generated web of fake company sites, served by a loopback HTTP forward proxy.

The fetcher under test is pointed at `proxy_url` and asks for `http://acme.example/about` in absolute form,
as any HTTP/1.1 client does through a proxy. Hostnames (`*.example`, `*.test`) never resolve: the proxy
answers every request from the sites it holds and never opens a connection of its own. A target that is an
IP literal, `localhost`, an unknown host or a port other than 80 is recorded and answered 502, and `CONNECT`
(https) is recorded and refused, so a test can assert what the fetcher tried to reach.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip as gzip_codec
import ipaddress
import json
import random
import threading
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import pytest

MB = 1_000_000
ROBOTS_DISALLOW_ALL = "User-agent: *\nDisallow: /\n"
ROBOTS_DISALLOW_PRIVATE = "User-agent: *\nDisallow: /private\n"
LOCAL_NAMES = ("localhost", "localhost.localdomain")


@dataclass
class Page:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    gzip: bool = False  # gzip-encode when the request accepts it
    redirect_to: str | None = None  # absolute URL, sent as Location with `status` (3xx)
    drip_bytes_per_s: float | None = None  # headers at once, then the body slowly, then hang
    retry_after: str | None = None
    precompressed: bool = False  # `body` is already gzip: sent encoded whatever the request accepts
    chunked: bool = False  # Transfer-Encoding: chunked, so the size is unknown until the end
    delay_s: float = 0.0  # wait this long before the status line

    @functools.cached_property
    def gzipped(self) -> bytes:
        return gzip_codec.compress(self.body, mtime=0)


@dataclass
class Site:
    host: str
    pages: Mapping[str, Page] = field(default_factory=dict)  # "/about" or "/search?q=x"
    robots: str | None = None  # None: /robots.txt is a 404
    redirect_all_to: str | None = None  # base URL: every path redirects to base + path
    redirect_status: int = 301


class RecordedRequest(NamedTuple):
    method: str
    target: str  # absolute URL, or host:port for CONNECT
    headers: dict[str, str]  # lower-cased names

    @property
    def host(self) -> str:
        """The target's host, lower-cased; an IPv6 literal without brackets."""
        if self.method == "CONNECT":  # httpcore 1.0 sends `CONNECT ::1:443`, unbracketed
            return self.target.rpartition(":")[0].strip("[]").lower()
        return _split_target(self.target)[1]


def _split_target(target: str) -> tuple[str, str, int | None, str]:
    """(scheme, host, port, path?query) of an absolute URL, tolerant of what clients really send: httpcore
    1.0 writes an IPv6 target without brackets (`GET http://::1/`). An unparseable host comes back empty."""
    parts = urlsplit(target)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    with contextlib.suppress(ValueError):
        return parts.scheme, str(ipaddress.ip_address(parts.netloc.rpartition("@")[2])), None, path
    try:
        return parts.scheme, (parts.hostname or "").rstrip("."), parts.port, path
    except ValueError:  # a port that is not a number
        return parts.scheme, "", None, path


# --- page and site builders -------------------------------------------------------------------------------


def html_page(title: str, body: str, *, head: str = "", **page: Any) -> Page:
    html = (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>{head}'
            f"</head>\n<body>\n{body}\n</body></html>\n")
    return Page(body=html.encode(), **page)


def redirect(url: str, status: int = 301) -> Page:
    return Page(body=f'<a href="{url}">moved</a>'.encode(), status=status, redirect_to=url)


def error_page(status: int, retry_after: str | None = None) -> Page:
    phrase = HTTPStatus(status).phrase
    return html_page(f"{status} {phrase}", f"<h1>{phrase}</h1>", status=status, retry_after=retry_after)


def company_site(
    host: str,
    name: str,
    *,
    json_ld: bool = True,
    graph: bool = False,
    meta_only: bool = False,
    about_path: str = "/about",
    country: str = "Germany",
    founded: int = 2009,
    employees: int = 120,
    linkedin: str | None = None,
    industry: str = "industrial automation software",
    robots: str | None = ROBOTS_DISALLOW_PRIVATE,
    gzip: bool = False,
) -> Site:
    """Homepage, about, products, contact, login, privacy and a robots-disallowed /private page.

    With `meta_only` the homepage states the facts only in its meta tags (no JSON-LD, no body text);
    otherwise the homepage and about page say them in prose, and `json_ld` adds an Organization
    (inside an `@graph` with a WebSite when `graph`)."""
    url = f"http://{host}/"
    description = f"{name} builds {industry} in {country}."
    org: dict[str, object] = {
        "@type": "Organization", "name": name, "url": url, "description": description,
        "foundingDate": str(founded), "address": {"@type": "PostalAddress", "addressCountry": country},
        "numberOfEmployees": {"@type": "QuantitativeValue", "value": employees},
        "email": f"info@{host}", "sameAs": [linkedin] if linkedin else [],
    }
    doc: dict[str, object] = (
        {"@context": "https://schema.org", "@graph": [{"@type": "WebSite", "name": name, "url": url}, org]}
        if graph else {"@context": "https://schema.org", **org})
    head = (f'<meta name="description" content="{description}">'
            f'<meta property="og:site_name" content="{name}"><meta property="og:title" content="{name}">'
            f'<link rel="canonical" href="{url}">')
    if json_ld and not meta_only:
        head += f'<script type="application/ld+json">{json.dumps(doc)}</script>'
    nav = (f'<nav><a href="/">Home</a> <a href="{about_path}">About us</a> <a href="/products">Products</a> '
           '<a href="/contact">Contact</a> <a href="/login">Log in</a> <a href="/privacy">Privacy</a>'
           + (f' <a href="{linkedin}">LinkedIn</a>' if linkedin else "") + "</nav>")
    facts = f"Founded in {founded} in {country}, {name} employs {employees} people."
    intro = "<p>Welcome. Solutions for modern teams.</p>" if meta_only else f"<p>{description} {facts}</p>"
    page = functools.partial(html_page, gzip=gzip)
    pages = {
        "/": page(name, f"{nav}\n<h1>{name}</h1>\n{intro}", head=head),
        about_path: page(f"About {name}", f"{nav}\n<h1>About {name}</h1>\n<p>{facts}</p><p>{description}</p>"),
        "/products": page(f"Products - {name}", f"{nav}\n<h1>Products</h1>\n<ul><li>{industry.title()} "
                          f"Suite</li><li>{industry.title()} Cloud</li></ul>"),
        "/contact": page(f"Contact - {name}", f'{nav}\n<h1>Contact</h1>\n<address>{name}, 1 Main Street, '
                         f'{country}</address><a href="mailto:info@{host}">info@{host}</a>'),
        "/login": page("Log in", '<form method="post"><input name="user"><input type="password" name="pw">'
                       "</form>"),
        "/privacy": page("Privacy", f"{nav}\n<h1>Privacy policy</h1><p>{name} processes personal data...</p>"),
        "/private": page("Private", "<p>robots.txt asks crawlers to stay out of here.</p>"),
    }
    return Site(host, pages, robots)


def thin_js_site(host: str, name: str) -> Site:
    """A single-page app: the served HTML has no text, only a root element and a script."""
    home = html_page(name, '<div id="root"></div>\n<script src="/static/app.js"></script>')
    script = Page(body=b'document.getElementById("root").innerHTML = "<h1>Loaded</h1>";',
                  content_type="application/javascript")
    return Site(host, {"/": home, "/static/app.js": script})


def host_redirect_site(from_host: str, to_host: str, status: int = 301) -> Site:
    """Every path on `from_host` redirects to the same path on `to_host` (www/apex, or a rebrand)."""
    return Site(from_host, redirect_all_to=f"http://{to_host}", redirect_status=status)


def single_page_site(host: str, page: Page, robots: str | None = None) -> Site:
    return Site(host, {"/": page}, robots)


def slow_drip_page(bytes_per_s: float = 200, size: int = MB) -> Page:
    return Page(body=b"<!doctype html><html><body>" + b"x" * size, drip_bytes_per_s=bytes_per_s)


@functools.cache
def _oversize_html(size: int) -> bytes:
    paragraph = b"<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.</p>\n"
    return b"<!doctype html><html><body>\n" + paragraph * (size // len(paragraph) + 1)


def oversize_page(size: int = 3 * MB, *, chunked: bool = False) -> Page:
    return Page(body=_oversize_html(size), chunked=chunked)


@functools.cache
def gzip_bomb_body(inflated_size: int = 50 * MB) -> bytes:
    """Gzip that inflates to `inflated_size` bytes of HTML whitespace (~1000:1), compressed one MB at a time."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: gzip container
    chunk = b" " * MB
    parts = [compressor.compress(b"<!doctype html><html><body>")]
    parts += [compressor.compress(chunk) for _ in range(inflated_size // MB)]
    parts += [compressor.compress(b" " * (inflated_size % MB)), compressor.flush()]
    return b"".join(parts)


def gzip_bomb_page(inflated_size: int = 50 * MB) -> Page:
    return Page(body=gzip_bomb_body(inflated_size), precompressed=True)


def pdf_page(text: str = "Acme Robotics annual report") -> Page:
    """A minimal valid one-page PDF showing `text`."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return Page(body=bytes(out), content_type="application/pdf")


def ssrf_redirect_site(host: str, *, proxy_port: int) -> Site:
    """Paths that redirect where a fetcher must not follow: metadata, loopback, private, credentials."""
    targets = {
        "/metadata": "http://169.254.169.254/latest/meta-data/",
        "/loopback": f"http://127.0.0.1:{proxy_port}/",
        "/ipv6-loopback": "http://[::1]/",
        "/private-network": "http://10.0.0.5/",
        "/localhost": "http://localhost/",
        "/credentials": "http://user:pass@acme.example/",
        "/odd-port": "http://acme.example:8081/",
    }
    return Site(host, {path: redirect(url, 302) for path, url in targets.items()})


def standard_web(proxy_port: int) -> list[Site]:
    """The named fixture sites every `loopback_web()` serves unless told otherwise."""
    return [
        company_site("acme.example", "Acme Robotics GmbH", linkedin="https://www.linkedin.com/company/acme"),
        host_redirect_site("www.acme.example", "acme.example"),
        company_site("graph.example", "Graph Analytics AG", graph=True, country="Switzerland", founded=2015),
        company_site("metaonly.example", "Meta Only SAS", meta_only=True, country="France"),
        company_site("plain.example", "Plain Text Ltd", json_ld=False, country="United Kingdom",
                     about_path="/about-us"),
        company_site("gzip.example", "Gzip Systems BV", gzip=True, country="Netherlands"),
        host_redirect_site("old.example", "new.example"),
        company_site("new.example", "New Brand Inc.", country="United States", founded=2020),
        company_site("www.beta.example", "Beta Tools AB", country="Sweden"),
        host_redirect_site("beta.example", "www.beta.example"),
        thin_js_site("thin.example", "Thin App"),
        company_site("blocked.example", "Blocked Corp", robots=ROBOTS_DISALLOW_ALL),
        single_page_site("slow.test", slow_drip_page()),
        Site("huge.test", {"/": oversize_page(), "/chunked": oversize_page(chunked=True)}),
        single_page_site("bomb.test", gzip_bomb_page()),
        single_page_site("pdf.test", pdf_page()),
        single_page_site("broken.test", error_page(500)),
        single_page_site("ratelimited.test", error_page(429, retry_after="1")),
        single_page_site("unavailable.test", error_page(503, retry_after="1")),
        ssrf_redirect_site("ssrf.test", proxy_port=proxy_port),
    ]


# --- the generated web, for benchmarks ----------------------------------------------------------------------

_SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "ta", "vi", "so", "de", "fa",
              "go", "hu", "ji", "be", "po", "za", "ri", "xo", "le", "un")
_INDUSTRIES = ("robotics", "payroll", "logistics", "biotech", "fintech", "sensors", "analytics", "energy")
_COUNTRIES = (("Germany", "GmbH"), ("France", "SAS"), ("United Kingdom", "Ltd"), ("United States", "Inc."),
              ("Netherlands", "B.V."), ("Sweden", "AB"), ("Spain", "S.L."), ("Italy", "S.r.l."),
              ("Poland", "sp. z o.o."), ("Switzerland", "AG"))


@dataclass(frozen=True)
class GeneratedCompany:
    index: int
    host: str
    name: str
    country: str
    founded: int
    employees: int
    industry: str
    about_path: str
    graph: bool


class GeneratedWeb(Mapping[str, Site]):
    """`n_sites` deterministic company sites, built from the host name when asked for, so 5,000 sites cost
    nothing until fetched. Each site's stem is the base-20 syllable spelling of a seeded permutation of its
    index, which makes names unique and lets a host be decoded back to its index."""

    def __init__(self, n_sites: int, seed: int = 0) -> None:
        self.n_sites, self.seed = n_sites, seed
        self._width = 3
        while len(_SYLLABLES) ** self._width < n_sites:
            self._width += 1
        self._modulus = len(_SYLLABLES) ** self._width
        rng = random.Random(f"generated-web:{seed}")
        self._mul = rng.randrange(1, self._modulus, 2)
        while self._mul % 5 == 0:  # coprime with 20**width, so the affine map is a permutation
            self._mul = rng.randrange(1, self._modulus, 2)
        self._add = rng.randrange(self._modulus)
        self.company = functools.lru_cache(maxsize=4096)(self._company)

    def _stem(self, index: int) -> str:
        code = (self._mul * index + self._add) % self._modulus
        digits = []
        for _ in range(self._width):
            code, digit = divmod(code, len(_SYLLABLES))
            digits.append(_SYLLABLES[digit])
        return "".join(digits)

    def index_of(self, host: str) -> int | None:
        stem = host.split("-", 1)[0]
        chunks = [stem[i:i + 2] for i in range(0, len(stem), 2)]
        if len(chunks) != self._width or any(c not in _SYLLABLES for c in chunks):
            return None
        code = sum(_SYLLABLES.index(c) * len(_SYLLABLES) ** i for i, c in enumerate(chunks))
        index = (code - self._add) * pow(self._mul, -1, self._modulus) % self._modulus
        return index if index < self.n_sites and self.company(index).host == host else None

    def _company(self, index: int) -> GeneratedCompany:
        """The ground truth for site `index`, also available as the cached `company(index)`."""
        rng = random.Random(f"{self.seed}:{index}")
        stem, industry = self._stem(index), rng.choice(_INDUSTRIES)
        country, legal_form = rng.choice(_COUNTRIES)
        return GeneratedCompany(
            index=index, host=f"{stem}-{industry}.example", name=f"{stem.title()} {industry.title()} {legal_form}",
            country=country, founded=rng.randrange(1950, 2024), employees=rng.choice((5, 12, 40, 120, 800, 5000)),
            industry=industry, about_path=rng.choice(("/about", "/about-us", "/company")),
            graph=rng.random() < 0.3)

    def companies(self) -> Iterator[GeneratedCompany]:
        return (self.company(i) for i in range(self.n_sites))

    def __getitem__(self, host: str) -> Site:
        index = self.index_of(host)
        if index is None:
            raise KeyError(host)
        c = self.company(index)
        return company_site(c.host, c.name, graph=c.graph, about_path=c.about_path, country=c.country,
                            founded=c.founded, employees=c.employees, industry=c.industry)

    def __contains__(self, host: object) -> bool:
        return isinstance(host, str) and self.index_of(host) is not None

    def __iter__(self) -> Iterator[str]:
        return (self.company(i).host for i in range(self.n_sites))

    def __len__(self) -> int:
        return self.n_sites


def generated_web(n_sites: int, seed: int = 0) -> GeneratedWeb:
    return GeneratedWeb(n_sites, seed)


# --- the proxy ----------------------------------------------------------------------------------------------


class LoopbackWeb:
    """The forward proxy, on its own event loop in a daemon thread, so sync and async tests can share it."""

    def __init__(self, *sites: Site | Mapping[str, Site], standard: bool = True, connect_status: int = 403) -> None:
        self._initial = sites
        self._standard = standard
        self.connect_status = connect_status  # the answer to CONNECT (https): 403 or 502
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._sites: dict[str, Site] = {}
        self._webs: list[Mapping[str, Site]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="loopback-web", daemon=True)
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received, in order, including refused ones."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, host: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.host == host]

    def add_site(self, site: Site | Mapping[str, Site]) -> None:
        """Serve `site`, or every site of a host → Site mapping such as `generated_web(...)`."""
        with self._lock:
            if isinstance(site, Site):
                self._sites[site.host.lower()] = site
            else:
                self._webs.append(site)

    def reset(self) -> None:
        """Forget recorded requests and any site added since the server started."""
        with self._lock:
            self._requests.clear()
            self._sites.clear()
            self._webs.clear()
        for site in [*(standard_web(self.port) if self._standard else []), *self._initial]:
            self.add_site(site)

    def site(self, host: str) -> Site | None:
        with self._lock:
            found = self._sites.get(host)
            webs = list(self._webs)
        return found or next((web[host] for web in webs if host in web), None)

    def start(self) -> LoopbackWeb:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        self.reset()
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> LoopbackWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._connections:
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass  # the client went away or sent garbage: nothing to answer
        except asyncio.CancelledError:
            # Only `_shutdown` cancels; ending normally keeps asyncio's stream callback from logging the
            # cancellation of every open connection as an error.
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _one_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; True to keep the connection for another."""
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in filter(None, lines[1:]):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if int(headers.get("content-length", "0")):
            await reader.readexactly(int(headers["content-length"]))
        if method == "CONNECT":
            self._record(RecordedRequest(method, target, headers))
            await _send(writer, self.connect_status, b"CONNECT is refused: this proxy serves only http\n",
                        keep_alive=False)
            return False
        direct = target.startswith("/")
        if direct:  # origin form: someone connected here directly, not through the proxy
            target = f"http://{headers.get('host', '')}{target}"
        self._record(RecordedRequest(method, target, headers))
        keep_alive = version == "HTTP/1.1" and "close" not in (
            headers.get("connection", "") + headers.get("proxy-connection", "")).lower()
        scheme, host, port, path_and_query = _split_target(target)
        # A direct connection reached this port whatever the Host header's port says: it stands for the site.
        wrong_port = port not in (None, 80) and not direct
        site = None if _is_literal_or_local(host) or scheme != "http" or wrong_port else self.site(host)
        if site is None:
            await _send(writer, 502, f"not part of the fake web: {target}\n".encode(), keep_alive=keep_alive)
            return keep_alive
        if method not in ("GET", "HEAD"):
            await _send(writer, 405, b"", keep_alive=keep_alive, extra={"Allow": "GET, HEAD"})
            return keep_alive
        page = _resolve(site, path_and_query)
        gzip_ok = "gzip" in headers.get("accept-encoding", "").lower()
        return await _send_page(reader, writer, page, head=method == "HEAD", gzip_ok=gzip_ok, keep_alive=keep_alive)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)


def _is_literal_or_local(host: str) -> bool:
    if host in LOCAL_NAMES or host.endswith(".localhost") or not host:
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _resolve(site: Site, path_and_query: str) -> Page:
    path = path_and_query.partition("?")[0]
    if site.redirect_all_to:
        return redirect(site.redirect_all_to + path_and_query, site.redirect_status)
    if path == "/robots.txt":
        return error_page(404) if site.robots is None else Page(site.robots.encode(), "text/plain; charset=utf-8")
    return site.pages.get(path_and_query) or site.pages.get(path) or error_page(404)


async def _send(writer: asyncio.StreamWriter, status: int, body: bytes, *, keep_alive: bool,
                extra: Mapping[str, str] | None = None) -> None:
    headers = {"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(body)), **(extra or {})}
    writer.write(_head(status, headers, keep_alive) + body)
    await writer.drain()


async def _send_page(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, page: Page, *, head: bool,
                     gzip_ok: bool, keep_alive: bool) -> bool:
    if page.delay_s:
        await asyncio.sleep(page.delay_s)
    body, headers = page.body, {"Content-Type": page.content_type, **page.headers}
    if page.precompressed or (page.gzip and gzip_ok):
        body, headers["Content-Encoding"] = (body if page.precompressed else page.gzipped), "gzip"
    if page.gzip:
        headers["Vary"] = "Accept-Encoding"
    if page.redirect_to:
        headers["Location"] = page.redirect_to
    if page.retry_after:
        headers["Retry-After"] = page.retry_after
    headers["Transfer-Encoding" if page.chunked else "Content-Length"] = "chunked" if page.chunked else str(len(body))
    writer.write(_head(page.status, headers, keep_alive))
    if head:
        await writer.drain()
        return keep_alive
    if page.drip_bytes_per_s:
        await _drip(writer, body, page.drip_bytes_per_s)
        await reader.read()  # then hang until the client gives up (or the server stops)
        return False
    if page.chunked:
        for start in range(0, len(body), 64 * 1024):
            chunk = body[start:start + 64 * 1024]
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
    else:
        writer.write(body)
    await writer.drain()
    return keep_alive


async def _drip(writer: asyncio.StreamWriter, body: bytes, bytes_per_s: float) -> None:
    tick = 0.05
    step = max(1, int(bytes_per_s * tick))
    for start in range(0, len(body), step):
        writer.write(body[start:start + step])
        await writer.drain()
        await asyncio.sleep(step / bytes_per_s)


def _head(status: int, headers: Mapping[str, str], keep_alive: bool) -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", *(f"{k}: {v}" for k, v in headers.items()),
             f"Connection: {'keep-alive' if keep_alive else 'close'}", "", ""]
    return "\r\n".join(lines).encode("latin-1")


@contextlib.contextmanager
def loopback_web(*sites: Site | Mapping[str, Site], standard: bool = True,
                 connect_status: int = 403) -> Iterator[LoopbackWeb]:
    """A running proxy serving `standard_web(port)` (unless `standard=False`) plus `sites`."""
    with LoopbackWeb(*sites, standard=standard, connect_status=connect_status) as web:
        yield web


@pytest.fixture
def fake_web() -> Iterator[LoopbackWeb]:
    """Re-export from a conftest (`from tests.servers.web import fake_web`) to use as a fixture."""
    with loopback_web() as web:
        yield web
