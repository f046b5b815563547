"""What a fetched page says about a company: JSON-LD, meta tags, main text, headings and links.

Pure: takes the HTML and its final URL, touches no network or database. Untrusted input never raises:
malformed JSON-LD is skipped block by block, and the parsers (lexbor, lxml) recover from broken markup.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from collections import deque
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import trafilatura
from selectolax.lexbor import LexborHTMLParser

from firmscout.domains import registered_domain
from firmscout.geography import country_code, country_name, lookup_country

TEXT_CAP = 20_000
# A navigation mega-menu can carry thousands of anchors; profiles need a handful.
_MAX_LINKS = 1_000
# Bounds the JSON-LD walk: real markup nests a few levels, hostile markup may nest thousands.
_MAX_DEPTH = 8
_MAX_NODES = 2_000

# schema.org Organization and the subtypes company sites use; @type may be a list or a full IRI.
_ORG_TYPES = {
    *("Organization", "Corporation", "LocalBusiness", "OnlineBusiness", "OnlineStore", "Store", "NGO", "Airline"),
    *("ProfessionalService", "FinancialService", "LegalService", "Consortium", "EducationalOrganization"),
    *("GovernmentOrganization", "MedicalOrganization", "NewsMediaOrganization", "ResearchOrganization"),
}
# Title separators need spaces around a hyphen so "Coca-Cola" stays whole.
_TITLE_SEPARATOR = re.compile(r"\s+[-–—:·•»]\s+|\s*[|]\s*")
_GENERIC_TITLES = frozenset({"", "home", "homepage", "home page", "start", "startseite", "welcome"})
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")
_NUMBER = re.compile(r"\d[\d,.]{0,12}")
_WORD = re.compile(r"[a-z0-9]+")

# Pages worth reading for a profile, matched as whole words in the path or link text; earlier kinds rank first.
_PAGE_KINDS = (
    ("about", "about us", "company", "who we are", "our story", "our company", "our mission"),
    ("product", "products", "solution", "solutions", "platform", "service", "services", "what we do", "offerings"),
    ("contact", "contact us", "imprint", "impressum", "locations"),
)
_SKIP_PHRASES = (
    *("login", "log in", "signin", "sign in", "signup", "sign up", "register", "account", "cart", "basket"),
    *("checkout", "privacy", "cookie", "cookies", "terms", "gdpr", "careers", "career", "jobs", "vacancies"),
    # Posts and their indexes describe news, not the company.
    *("blog", "news", "press", "article", "articles", "post", "posts", "events", "webinars", "podcast"),
)
_PAGE_EXTENSIONS = frozenset({"", "html", "htm", "php", "asp", "aspx", "jsp"})


@dataclass(frozen=True)
class Fact:
    """One value and the URL of the page it came from."""

    value: str | int | tuple[str, ...]
    url: str


@dataclass(frozen=True)
class Link:
    url: str
    text: str


@dataclass(frozen=True)
class PageFacts:
    """What one page says about the company; every `Fact` carries this page's URL."""

    url: str
    title: str | None
    name: Fact | None
    description: Fact | None
    country: Fact | None
    city: Fact | None
    founded_year: Fact | None
    employees: Fact | None
    same_as: tuple[str, ...]
    linkedin_url: str | None
    text: str | None
    headings: tuple[str, ...]
    links: tuple[Link, ...]


def internal_pages(facts: PageFacts, limit: int = 3) -> list[str]:
    """Up to `limit` links on the page's registered domain worth reading for a profile, best first.

    About/company pages rank before products/solutions/services, then contact. Login, cart, legal, careers,
    blog and news pages, dated paths, files (.pdf, .jpg, ...) and the page itself are never chosen. The
    `limit` picks spread across kinds first, so three about-links do not crowd out the products page.
    """
    site, seen = _site(facts.url), {_page_key(facts.url)}
    ranked: list[tuple[int, int, int, str]] = []
    for order, link in enumerate(facts.links):
        key = _page_key(link.url)
        if key in seen or _site(link.url) != site or _skipped(link.url, link.text):
            continue
        seen.add(key)
        words = [*_WORD.findall(key[1].lower()), "", *_WORD.findall(link.text.lower())]
        kind = next((i for i, phrases in enumerate(_PAGE_KINDS) if _phrase_in(words, phrases)), None)
        if kind is not None:
            ranked.append((kind, key[1].count("/"), order, link.url))
    ranked.sort()
    firsts = [next(r for r in ranked if r[0] == kind) for kind in sorted({r[0] for r in ranked})]
    picks = firsts + [r for r in ranked if r not in firsts]
    return [r[3] for r in sorted(picks[: max(limit, 0)])]


def _site(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    # Hosts without a public suffix (localhost, IPs) are their own site.
    return registered_domain(host) or host.removeprefix("www.")


def _page_key(url: str) -> tuple[str, str]:
    # One page however it is linked: www or apex, with or without a trailing slash or query.
    parts = urlsplit(url)
    return (parts.hostname or "").lower().removeprefix("www."), parts.path.rstrip("/") or "/"


def _phrase_in(words: list[str], phrases: tuple[str, ...]) -> bool:
    joined = f" {' '.join(words)} "
    return any(f" {phrase} " in joined for phrase in phrases)


def _skipped(url: str, text: str) -> bool:
    path = _page_key(url)[1]
    last = path.rsplit("/", 1)[-1]
    extension = last.rsplit(".", 1)[-1].lower() if "." in last else ""
    path_words = _WORD.findall(path.lower())
    return (
        extension not in _PAGE_EXTENSIONS
        or any(_YEAR.fullmatch(w) for w in path_words)
        or _phrase_in(path_words, _SKIP_PHRASES)
        or _phrase_in(_WORD.findall(text.lower()), _SKIP_PHRASES)
    )


def plain_text(text: str) -> str:
    """Whitespace collapsed to single spaces, cut at a word boundary to at most `TEXT_CAP` characters."""
    collapsed = " ".join(text.split())
    if len(collapsed) <= TEXT_CAP:
        return collapsed
    cut = collapsed[:TEXT_CAP]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def page_facts(html: str, url: str) -> PageFacts:
    """Extract a page's facts; broken HTML and malformed JSON-LD give fewer facts, never an exception."""
    tree = LexborHTMLParser(html)
    meta = _meta(tree)
    title_node = tree.css_first("head title") or tree.css_first("title")
    title = _clean(title_node.text()) if title_node is not None else None
    org = _organization(_jsonld_blocks(tree), url)
    address = _address(org)

    def fact(value: str | int | tuple[str, ...] | None) -> Fact | None:
        return Fact(value, url) if value not in (None, "", ()) else None

    name = _string(org.get("name")) or meta.get("og:site_name") or _title_name(title, url)
    description = _string(org.get("description")) or meta.get("description") or meta.get("og:description")
    country = _country(address.get("addressCountry"))
    same_as = _same_as(org.get("sameAs"))
    links = _links(tree, url)
    main_text = trafilatura.extract(html, url=url, include_comments=False, favor_precision=True)
    return PageFacts(
        url=url,
        title=title,
        name=fact(name),
        description=fact(description[:2_000] if description else None),
        country=fact(country),
        city=fact(_string(address.get("addressLocality"))),
        founded_year=fact(_year(org.get("foundingDate"))),
        employees=fact(_employees(org.get("numberOfEmployees"))),
        same_as=same_as,
        linkedin_url=next(filter(None, map(_linkedin, (*same_as, *(link.url for link in links)))), None),
        text=(plain_text(main_text) or None) if main_text else None,
        headings=_headings(tree),
        links=links,
    )


def _clean(text: str | None) -> str | None:
    return (" ".join(text.split()) or None) if text else None


def _meta(tree: LexborHTMLParser) -> dict[str, str]:
    # Keys lower-cased: sites write name="Description" and property="og:site_name" interchangeably.
    found: dict[str, str] = {}
    for node in tree.css("meta"):
        key = (node.attributes.get("property") or node.attributes.get("name") or "").strip().lower()
        content = _clean(node.attributes.get("content"))
        if key and content and key not in found:
            found[key] = content
    return found


def _jsonld_blocks(tree: LexborHTMLParser) -> list[Any]:
    blocks: list[Any] = []
    for script in tree.css("script[type]"):
        if (script.attributes.get("type") or "").split(";")[0].strip().lower() != "application/ld+json":
            continue
        raw = script.text().strip().removeprefix("<!--").removesuffix("-->")
        try:
            # strict=False: CMSes often leave raw newlines inside JSON strings.
            blocks.append(json.loads(raw, strict=False))
        except (ValueError, RecursionError):
            continue
    return blocks


def _types(node: dict[str, Any]) -> set[str]:
    raw = node.get("@type")
    names = raw if isinstance(raw, list) else [raw]
    # "https://schema.org/Organization" and "schema:Organization" name the same type.
    return {re.split(r"[/:#]", n)[-1] for n in names if isinstance(n, str)}


def _organization(blocks: list[Any], url: str) -> dict[str, Any]:
    """The JSON-LD node that best describes the site's owner, with @id references resolved one level."""
    queue: deque[tuple[Any, int]] = deque((block, 0) for block in blocks)
    nodes: list[tuple[dict[str, Any], int]] = []
    while queue and len(nodes) < _MAX_NODES:
        value, depth = queue.popleft()
        if isinstance(value, list):
            queue.extend((item, depth) for item in value if depth < _MAX_DEPTH)
        elif isinstance(value, dict):
            nodes.append((value, depth))
            if depth < _MAX_DEPTH:
                # @graph members are top-level nodes; anything else nested is one level down.
                queue.extend((v, depth if k == "@graph" else depth + 1) for k, v in value.items())
    by_id = {n["@id"]: n for n, _ in nodes if isinstance(n.get("@id"), str) and len(n) > 1}
    site = registered_domain(url)
    ranked = sorted(
        (
            (not _string(n.get("name")), depth, registered_domain(_string(n.get("url")) or "") != site, order)
            for order, (n, depth) in enumerate(nodes)
            if _types(n) & _ORG_TYPES
        )
    )
    if not ranked:
        return {}
    org = nodes[ranked[0][3]][0]
    return {k: _deref(v, by_id) for k, v in org.items()}


def _deref(value: Any, by_id: dict[str, dict[str, Any]]) -> Any:
    # One level, no recursion: hostile JSON-LD can nest lists hundreds deep.
    items = [_lookup(item, by_id) for item in (value if isinstance(value, list) else [value])]
    return items if isinstance(value, list) else items[0]


def _lookup(item: Any, by_id: dict[str, dict[str, Any]]) -> Any:
    ref = item.get("@id") if isinstance(item, dict) and len(item) == 1 else None
    return by_id.get(ref, item) if isinstance(ref, str) else item


def _string(value: Any) -> str | None:
    # JSON-LD allows a list of values or a {"@value": ...} literal; CMSes often HTML-escape the text.
    for item in value if isinstance(value, list) else [value]:
        text = item.get("@value") if isinstance(item, dict) else item
        if isinstance(text, str) and (cleaned := _clean(html_lib.unescape(text))):
            return cleaned
    return None


def _address(org: dict[str, Any]) -> dict[str, Any]:
    address = org.get("address")
    usable = (a for a in (address if isinstance(address, list) else [address]) if isinstance(a, dict))
    return next((a for a in usable if a.get("addressCountry") or a.get("addressLocality")), {})


def _country(value: Any) -> str | None:
    text = _string(value.get("name") if isinstance(value, dict) else value) or ""
    code = (country_code(text) or lookup_country(text.lower())) if text else None
    return country_name(code) if code else None


def _year(value: Any) -> int | None:
    match = _YEAR.search(str(value)) if isinstance(value, str | int) and not isinstance(value, bool) else None
    return int(match.group(1)) if match and int(match.group(1)) <= date.today().year else None


def _employees(value: Any) -> int | None:
    """A head count from a number, "1,200", "51-200" or a QuantitativeValue (value, or min/max midpoint)."""
    if isinstance(value, dict) and "value" not in value:
        low, high = _count(value.get("minValue")), _count(value.get("maxValue"))
        return (low + high) // 2 if low and high else low or high
    return _count(value.get("value") if isinstance(value, dict) else value)


def _count(value: Any) -> int | None:
    if isinstance(value, str):
        # Separators dropped ("1,200", "1.200"); a range "51-200" gives its midpoint.
        numbers = [int(n.replace(",", "").replace(".", "")) for n in _NUMBER.findall(value)[:2]]
        value = sum(numbers) // len(numbers) if numbers else None
    # The bound also rejects NaN, infinity and bools; no company has ten million staff.
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 10_000_000:
        return int(value)
    return None


def _same_as(value: Any) -> tuple[str, ...]:
    urls = (_string(item) for item in (value if isinstance(value, list) else [value]))
    return tuple(dict.fromkeys(u for u in urls if u and urlsplit(u).scheme in ("http", "https")))


def _linkedin(url: str) -> str | None:
    """The canonical company URL for a linkedin.com/company/<slug> link (any subdomain, path or query)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    segments = [s for s in parts.path.split("/") if s]
    if (host == "linkedin.com" or host.endswith(".linkedin.com")) and segments[:1] == ["company"] and len(segments) > 1:
        return f"https://www.linkedin.com/company/{segments[1]}"
    return None


def _title_name(title: str | None, url: str) -> str | None:
    # "About us | Acme" or "Acme – Robots": prefer the part that matches the domain, else the first part.
    if not title:
        return None
    parts = [p.strip() for p in _TITLE_SEPARATOR.split(title) if p.strip().lower() not in _GENERIC_TITLES]
    label = (registered_domain(url) or "").split(".")[0]
    for part in parts:
        squashed = "".join(ch for ch in part.lower() if ch.isalnum())
        if label and squashed and (label in squashed or squashed in label):
            return part
    return parts[0] if parts else None


def _headings(tree: LexborHTMLParser) -> tuple[str, ...]:
    texts = (_clean(node.text(separator=" ")) for node in tree.css("h1, h2, h3"))
    return tuple(dict.fromkeys(t[:300] for t in texts if t))[:20]


def _links(tree: LexborHTMLParser, url: str) -> tuple[Link, ...]:
    base_node = tree.css_first("base[href]")
    base = _resolve(url, base_node.attributes.get("href") or "") if base_node is not None else None
    found: dict[str, str] = {}
    for node in tree.css("a[href]"):
        target = _resolve(base or url, node.attributes.get("href") or "")
        if target is None:
            continue
        # Icon and logo links have no text; their aria-label, title or image alt still says where they go.
        img = node.css_first("img[alt]")
        alt = img.attributes.get("alt") if img is not None else None
        labels = (node.text(separator=" "), node.attributes.get("aria-label"), node.attributes.get("title"), alt)
        text = next(filter(None, map(_clean, labels)), "")
        if not found.get(target):
            found[target] = text
        if len(found) >= _MAX_LINKS:
            break
    return tuple(Link(u, t) for u, t in found.items())


def _resolve(base: str, href: str) -> str | None:
    """An absolute http(s) URL without fragment, host lower-cased; None for mailto:, javascript:, junk."""
    try:
        parts = urlsplit(urljoin(base, href.strip()))
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.port == 0:
            return None
        return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))
    except ValueError:  # urllib rejects malformed IPv6 hosts and ports (read through `.port`)
        return None
