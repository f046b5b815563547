"""A loopback server that speaks the web search APIs of `firmscout.sources.search`, answering from a scripted
corpus.

Each provider is served at its real path in its real wire format (shared/spec/web-search-providers.md, and the
error bodies providers were seen to send), so the adapters' httpx clients meet status codes, headers and bodies
as the provider presents them. SearXNG, Tavily, Exa and Serper all answer at `/search`, so the server plays one
provider at a time (`provider`, set by the test). Results are the test's `corpus`, paged by each provider's own
rules; `fail()` replaces the next replies with a 429, a 5xx, a truncated body or an empty result list; every
request is kept in `requests` so a test can assert what was sent.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tests.servers.loopback import LoopbackServer, OnLoopback

Provider = Literal["searxng", "brave", "tavily", "exa", "serper"]

# Where each provider answers; anything else is the 404 a wrong base URL would meet.
ROUTES: dict[Provider, frozenset[tuple[str, str]]] = {
    "searxng": frozenset({("GET", "/search")}),
    "brave": frozenset({("GET", "/res/v1/web/search")}),
    "tavily": frozenset({("POST", "/search")}),
    "exa": frozenset({("POST", "/search")}),
    "serper": frozenset({("POST", "/search"), ("POST", "/places")}),
}
SEARXNG_PAGE = 10  # SearXNG has no count parameter; its pages hold about ten results
SERPER_PLACES_PAGE = 10
# Werkzeug's abort(403), which SearXNG answers a `format` that `search.formats` does not list.
SEARXNG_FORBIDDEN = (
    "<!doctype html>\n<html lang=en>\n<title>403 Forbidden</title>\n<h1>Forbidden</h1>\n<p>You don&#39;t have the "
    "permission to access the requested resource. It is either read-protected or not readable by the server.</p>\n"
)


@dataclass(frozen=True)
class Doc:
    url: str
    title: str
    snippet: str


@dataclass(frozen=True)
class Listing:
    """A business as Serper's places endpoint lists it."""

    title: str
    address: str
    category: str
    phone: str | None = None
    website: str | None = None
    latitude: float = 52.52
    longitude: float = 13.405
    rating: float = 4.5


@dataclass(frozen=True)
class Fault:
    """Replaces one reply: `status` (with the provider's error body), or a 200 cut mid-body (`truncated`) or
    with no results (`empty`)."""

    status: int = 200
    retry_after: str | None = None
    truncated: bool = False
    empty: bool = False


def rate_limited(retry_after: str | None = None) -> Fault:
    return Fault(429, retry_after)


def unavailable(status: int = 503) -> Fault:
    return Fault(status)


TRUNCATED = Fault(truncated=True)
EMPTY = Fault(empty=True)


@dataclass(frozen=True)
class Seen:
    """One request as it arrived; header names in lower case, as HTTP compares them."""

    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, str]
    json: Any  # the decoded body; None without one
    at: float  # time.monotonic() on arrival

    @classmethod
    async def of(cls, request: Request) -> Seen:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        return cls(request.method, request.url.path, {k.lower(): v for k, v in request.headers.items()},
                   dict(request.query_params), body, time.monotonic())


def restore_defaults(server: Any, settings: dict[str, Any]) -> None:
    """A dataclass server's fields back to their defaults, then `settings`: a fresh server on the same socket."""
    for f in fields(server):
        setattr(server, f.name, f.default_factory() if f.default_factory is not MISSING else f.default)
    for name, value in settings.items():
        setattr(server, name, value)


@dataclass
class SearchApiServer(OnLoopback):
    provider: Provider = "searxng"
    corpus: list[Doc] = field(default_factory=list)
    # SearXNG's results for a query, best first, when they depend on it (a search engine over a generated web);
    # None: the corpus, whatever the query.
    rank: Callable[[str], list[Doc]] | None = None
    key: str = "test-key"
    searxng_json: bool = True  # False: `json` is not in the instance's `search.formats`
    unresponsive_engines: list[tuple[str, str]] = field(default_factory=list)
    # Brave's plan: requests per second, requests per month (the free plan's figures by default).
    brave_plan: tuple[int, int] = (1, 15000)
    brave_used: int = 0  # requests already counted against the month
    knowledge_graph: dict[str, str] | None = None  # Serper's knowledgeGraph on a first page
    listings: list[Listing] = field(default_factory=list)
    requests: list[Seen] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._brave_window: list[float] = []  # arrival times of the requests Brave counted this second
        methods = ["GET", "POST"]
        app = Starlette(routes=[Route(path, self._handle, methods=methods)
                                for path in ("/search", "/res/v1/web/search", "/places")])
        self._http = LoopbackServer(app, "search API server")

    def reset(self, **settings: Any) -> SearchApiServer:
        """A fresh server's state on the same socket, so one server can serve a whole test module: every field
        back to its default, then `settings`."""
        restore_defaults(self, settings)
        self._brave_window = []
        return self

    def fail(self, fault: Fault, times: int = 1) -> None:
        self.faults.extend([fault] * times)

    async def _handle(self, request: Request) -> Response:
        seen = await Seen.of(request)
        self.requests.append(seen)  # handlers run on the server's one event loop: no lock needed
        if (seen.method, seen.path) not in ROUTES[self.provider]:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        fault = self.faults.pop(0) if self.faults else Fault()
        if fault.status != 200:
            return self._error(fault.status, f"scripted {fault.status}", retry_after=fault.retry_after)
        if self.provider == "searxng":
            return self._searxng(seen, fault)
        if self.provider == "brave":
            return self._brave(seen, fault)
        if self.provider == "tavily":
            return self._tavily(seen, fault)
        if self.provider == "exa":
            return self._exa(seen, fault)
        return self._serper_places(seen, fault) if seen.path == "/places" else self._serper(seen, fault)

    # -- SearXNG: GET /search?q=…&format=json&pageno=N, no key ----------------------------------------------

    def _searxng(self, seen: Seen, fault: Fault) -> Response:
        if seen.params.get("format") != "json":
            return HTMLResponse("<!doctype html><title>SearXNG</title><main>results as HTML</main>")
        if not self.searxng_json:
            return HTMLResponse(SEARXNG_FORBIDDEN, status_code=403)
        pageno = int(seen.params.get("pageno") or 1)
        ranked = self.rank(seen.params.get("q", "")) if self.rank is not None else self.corpus
        docs = [] if fault.empty else ranked[(pageno - 1) * SEARXNG_PAGE : pageno * SEARXNG_PAGE]
        return _json({
            "query": seen.params.get("q", ""),
            "number_of_results": 0,  # SearXNG rarely knows; its engines do not agree on totals
            "results": [{"url": d.url, "title": d.title, "content": d.snippet, "engine": "duckduckgo",
                         "engines": ["duckduckgo", "brave"], "score": round(2.0 / (i + 1), 3),
                         "category": "general", "publishedDate": None, "positions": [i + 1]}
                        for i, d in enumerate(docs)],
            "answers": [], "corrections": [], "infoboxes": [], "suggestions": [],
            "unresponsive_engines": [list(pair) for pair in self.unresponsive_engines],
        }, fault)

    # -- Brave: GET /res/v1/web/search?q=…&count=&offset=, X-Subscription-Token ---------------------------

    def _brave(self, seen: Seen, fault: Fault) -> Response:
        token = seen.headers.get("x-subscription-token")
        if token is None:
            return _brave_error(422, "VALIDATION", "Unable to validate request parameter(s)", {"errors": [
                {"type": "missing", "loc": ["header", "x-subscription-token"], "msg": "Field required",
                 "input": None}]})
        if token != self.key:
            # Brave answers a key it does not know with 422, not 401.
            return _brave_error(422, "SUBSCRIPTION_TOKEN_INVALID", "The provided subscription token is invalid.",
                                {"component": "authentication"})
        query = seen.params.get("q", "")
        count, offset = int(seen.params.get("count") or 20), int(seen.params.get("offset") or 0)
        problems = [
            problem for problem, wrong in [
                ({"type": "string_too_long", "loc": ["query", "q"], "msg": "String should have at most 400 "
                  "characters", "input": query, "ctx": {"max_length": 400}}, len(query) > 400),
                ({"type": "value_error", "loc": ["query", "q"], "msg": "Query should have at most 50 words",
                  "input": query}, len(query.split()) > 50),
                ({"type": "string_too_short", "loc": ["query", "q"], "msg": "String should have at least 1 "
                  "character", "input": query}, not query),
                ({"type": "less_than_equal", "loc": ["query", "count"], "msg": "Input should be less than or "
                  "equal to 20", "input": str(count)}, not 1 <= count <= 20),
                ({"type": "less_than_equal", "loc": ["query", "offset"], "msg": "Input should be less than or "
                  "equal to 9", "input": str(offset)}, not 0 <= offset <= 9),
            ] if wrong
        ]
        if problems:
            return _brave_error(422, "VALIDATION", "Unable to validate request parameter(s)", {"errors": problems})
        counted, limits = self._brave_count(seen.at)
        if not counted:
            return _brave_error(429, "RATE_LIMITED", "Request rate limit exceeded for plan.", {
                "plan": "Free", "rate_limit": self.brave_plan[0], "quota_limit": self.brave_plan[1],
                "quota_current": self.brave_used, "component": "rate_limiter"}, limits)
        docs = [] if fault.empty else self.corpus[offset * count : (offset + 1) * count]
        more = not fault.empty and (offset + 1) * count < len(self.corpus)
        words = {w.lower() for w in query.split()}
        payload: dict[str, Any] = {
            "type": "search",
            "query": {"original": query, "show_strict_warning": False, "is_navigational": False,
                      "country": "us", "more_results_available": more},
            "mixed": {"type": "mixed", "main": [{"type": "web", "index": i, "all": False} for i in range(len(docs))]},
        }
        if docs:  # with nothing found, Brave leaves `web` out altogether
            payload["web"] = {"type": "search", "family_friendly": True, "results": [
                {"type": "search_result", "subtype": "generic", "title": d.title, "url": d.url,
                 "description": _strong(d.snippet, words), "page_age": "2024-05-01T08:30:00", "language": "en",
                 "meta_url": {"scheme": "https", "hostname": d.url.split("/")[2]}}
                for d in docs]}
        return _json(payload, fault, limits)

    def _brave_count(self, now: float) -> tuple[bool, dict[str, str]]:
        """Whether Brave's plan lets this request through, and the X-RateLimit-* headers it sends with any
        reply: one entry per window, the second first, then the month."""
        per_second, per_month = self.brave_plan
        self._brave_window = [t for t in self._brave_window if now - t < 1.0]
        counted = len(self._brave_window) < per_second and self.brave_used < per_month
        if counted:
            self._brave_window.append(now)
            self.brave_used += 1
        month_left = _seconds_to_next_month()
        return counted, {
            "X-RateLimit-Limit": f"{per_second}, {per_month}",
            "X-RateLimit-Policy": f"{per_second};w=1, {per_month};w={month_left}",
            "X-RateLimit-Remaining": f"{per_second - len(self._brave_window)}, {per_month - self.brave_used}",
            "X-RateLimit-Reset": f"1, {month_left}",
        }

    # -- Tavily: POST /search {query, search_depth, max_results}, Authorization: Bearer tvly-… ---------------

    def _tavily(self, seen: Seen, fault: Fault) -> Response:
        if seen.headers.get("authorization") != f"Bearer {self.key}":
            return _tavily_error(401, "Unauthorized: missing or invalid API key.")
        body = seen.json if isinstance(seen.json, dict) else {}
        query, depth, wanted = body.get("query"), body.get("search_depth", "basic"), body.get("max_results", 5)
        if not isinstance(query, str) or not query:
            return _tavily_error(400, "Query is missing.")
        if len(query) > 400:
            return _tavily_error(400, "Query is too long. Max query length is 400 characters.")
        if depth not in ("basic", "advanced"):
            return _tavily_error(400, "Invalid search depth. Must be 'basic' or 'advanced'.")
        if not isinstance(wanted, int) or not 0 <= wanted <= 20:
            return _tavily_error(400, "max_results must be between 0 and 20.")
        docs = [] if fault.empty else self.corpus[:wanted]
        return _json({
            "query": query, "follow_up_questions": None, "answer": None, "images": [],
            "results": [{"title": d.title, "url": d.url, "content": d.snippet, "score": round(0.9 - i / 100, 4),
                         "raw_content": None} for i, d in enumerate(docs)],
            "response_time": 1.12, "request_id": str(uuid.uuid4()),
        }, fault)

    # -- Exa: POST /search {query, type, category, numResults, contents}, x-api-key -----------------------------

    def _exa(self, seen: Seen, fault: Fault) -> Response:
        if seen.headers.get("x-api-key") != self.key:
            return _exa_error(401, "Invalid API key", "INVALID_API_KEY")
        body = seen.json if isinstance(seen.json, dict) else {}
        query, wanted = body.get("query"), body.get("numResults", 10)
        if not isinstance(query, str) or not query:
            return _exa_error(400, "query is required", "INVALID_REQUEST_BODY")
        if not isinstance(wanted, int) or not 1 <= wanted <= 100:
            return _exa_error(400, "numResults must be between 1 and 100", "INVALID_REQUEST_BODY")
        refused = {"excludeDomains", "startPublishedDate", "endPublishedDate", "startCrawlDate", "endCrawlDate"}
        if body.get("category") == "company" and refused & body.keys():
            return _exa_error(400, f"The company category does not support {sorted(refused & body.keys())}",
                              "INVALID_REQUEST_BODY")
        contents = body["contents"] if isinstance(body.get("contents"), dict) else {}
        docs = [] if fault.empty else self.corpus[:wanted]
        results = []
        for d in docs:
            result: dict[str, Any] = {"id": d.url, "url": d.url, "title": d.title,
                                      "publishedDate": "2024-05-01T00:00:00.000Z", "author": None}
            if contents.get("text"):
                result["text"] = d.snippet
            results.append(result)
        return _json({
            "requestId": uuid.uuid4().hex, "resolvedSearchType": "neural", "searchType": "auto", "results": results,
            "costDollars": {"total": round(0.005 + 0.001 * len(results), 4)},
        }, fault)

    # -- Serper: POST /search {q, num, page} and POST /places {q, page}, X-API-KEY ------------------------------

    def _serper_refusal(self, seen: Seen) -> Response | None:
        if seen.headers.get("x-api-key") != self.key:
            return _serper_error(403, "Unauthorized.")
        body = seen.json if isinstance(seen.json, dict) else {}
        if not isinstance(body.get("q"), str) or not body["q"]:
            return _serper_error(400, "Missing query parameter 'q'.")
        return None

    def _serper(self, seen: Seen, fault: Fault) -> Response:
        if refusal := self._serper_refusal(seen):
            return refusal
        q, num, page = seen.json["q"], seen.json.get("num", 10), seen.json.get("page", 1)
        if not (isinstance(num, int) and 1 <= num <= 100 and isinstance(page, int) and page >= 1):
            return _serper_error(400, "num must be 1-100 and page at least 1.")
        docs = [] if fault.empty else self.corpus[(page - 1) * num : page * num]
        payload: dict[str, Any] = {"searchParameters": {"q": q, "gl": "us", "hl": "en", "type": "search",
                                                        "num": num, "page": page, "engine": "google"}}
        if self.knowledge_graph is not None and page == 1 and not fault.empty:
            payload["knowledgeGraph"] = {**self.knowledge_graph, "type": "Company"}
        payload["organic"] = [{"title": d.title, "link": d.url, "snippet": d.snippet, "position": i + 1}
                              for i, d in enumerate(docs)]
        payload["credits"] = 1
        return _json(payload, fault)

    def _serper_places(self, seen: Seen, fault: Fault) -> Response:
        if refusal := self._serper_refusal(seen):
            return refusal
        page = seen.json.get("page", 1)
        start = (page - 1) * SERPER_PLACES_PAGE
        listed = [] if fault.empty else self.listings[start : start + SERPER_PLACES_PAGE]
        places = []
        for i, p in enumerate(listed, start + 1):
            place: dict[str, Any] = {"position": i, "title": p.title, "address": p.address, "latitude": p.latitude,
                                     "longitude": p.longitude, "rating": p.rating, "ratingCount": 120,
                                     "category": p.category, "cid": str(10**18 + i)}
            if p.phone is not None:  # Serper leaves out what Google does not show
                place["phoneNumber"] = p.phone
            if p.website is not None:
                place["website"] = p.website
            places.append(place)
        return _json({"searchParameters": {"q": seen.json["q"], "gl": "us", "hl": "en", "type": "places",
                                           "page": page, "engine": "google"}, "places": places, "credits": 1}, fault)

    # -- errors as each provider sends them ---------------------------------------------------------------------

    def _error(self, status: int, message: str, *, retry_after: str | None = None) -> Response:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        if self.provider == "searxng":
            title = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
                     503: "Service Unavailable", 504: "Gateway Timeout"}.get(status, "Error")
            return HTMLResponse(f"<!doctype html>\n<html lang=en>\n<title>{status} {title}</title>\n<h1>{title}</h1>\n",
                                status_code=status, headers=headers)
        if self.provider == "brave":
            if status == 429:
                # Brave's 429 carries its rate-limit headers, with the per-second window used up.
                month_left = _seconds_to_next_month()
                headers |= {"X-RateLimit-Limit": f"{self.brave_plan[0]}, {self.brave_plan[1]}",
                            "X-RateLimit-Remaining": f"0, {self.brave_plan[1] - self.brave_used}",
                            "X-RateLimit-Reset": f"1, {month_left}"}
                return _brave_error(429, "RATE_LIMITED", "Request rate limit exceeded for plan.",
                                    {"component": "rate_limiter"}, headers)
            return _brave_error(status, "INTERNAL", message, {}, headers)
        if self.provider == "tavily":
            return _tavily_error(status, message, headers)
        if self.provider == "exa":
            return _exa_error(status, message, "RATE_LIMIT_EXCEEDED" if status == 429 else "INTERNAL_ERROR", headers)
        return _serper_error(status, message, headers)


def _json(payload: Any, fault: Fault, headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(payload)
    if fault.truncated:  # the connection dropped mid-body behind a proxy that had already sent 200
        text = text[: len(text) // 2]
    return Response(text, media_type="application/json", headers=headers)


def _brave_error(status: int, code: str, detail: str, meta: dict[str, Any],
                 headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"type": "ErrorResponse", "error": {"id": str(uuid.uuid4()), "status": status, "code": code,
                                                            "detail": detail, "meta": meta},
                         "time": int(time.time())}, status_code=status, headers=headers)


def _tavily_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": {"error": message}}, status_code=status, headers=headers)


def _exa_error(status: int, message: str, tag: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"requestId": uuid.uuid4().hex, "error": message, "tag": tag}, status_code=status,
                        headers=headers)


def _serper_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": message, "statusCode": status}, status_code=status, headers=headers)


def _strong(snippet: str, words: set[str]) -> str:
    """Brave's description markup: the query's words in <strong>."""
    return re.sub(r"\w+", lambda m: f"<strong>{m[0]}</strong>" if m[0].lower() in words else m[0], snippet)


def _seconds_to_next_month() -> int:
    now = datetime.now(UTC)
    first = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)).replace(day=1)
    return int((first - now).total_seconds())
