"""A generated web to discover companies in, with a search engine over it and the truth of each query.

The world is a grid of industries × countries. Each query asks for one cell ("industrial robot makers in
Germany"); its truth is that cell's makers. Around them stand what makes the open web hard:

- makers of the same industry in other countries, and other industries' makers in the same country;
- service firms that name the industry and the country but make nothing (a recruiter, a consultancy);
- an industry association linked from the industry's Wikipedia article;
- ranking pages on blogs ("Top 15 …", entries linked by name, or by "Visit website" under a heading), with
  a few wrong entries and sponsored links; a directory page on a known directory with other industries
  mixed in; a news article naming two makers; LinkedIn and Crunchbase profiles; job-board pages.

A third of each cell's makers have no indexed homepage: they are found only through lists, directories and
profiles. The search engine (`DiscoveryWeb.search`) ranks indexed pages by BM25 over title, snippet and
text, honours `site:`, and stems plurals, as a small real engine would. Everything is deterministic for a
seed.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter
from dataclasses import dataclass, field

from tests.servers.search_api import Doc
from tests.servers.web import Site, error_page, host_redirect_site, html_page


@dataclass(frozen=True)
class Topic:
    query: str
    industry: str  # what every maker of the industry says it makes
    variants: tuple[str, ...]  # further words makers use of their business
    noun: str  # the word in makers' names
    country: str


# Each query's cell; its industry × the other countries are the distractor cells.
TOPICS = (
    Topic("industrial robot makers in Germany", "industrial robots",
          ("robot arms for factory automation", "robotic welding cells", "palletizing robots"), "Robotics", "Germany"),
    Topic("payroll software companies in France", "payroll software",
          ("payslips and HR administration", "salary processing for employers", "time tracking and payroll"),
          "Paie", "France"),
    Topic("cybersecurity startups in Israel", "cybersecurity software",
          ("threat detection for enterprises", "cloud security posture", "endpoint protection"), "Cyber", "Israel"),
    Topic("solar panel manufacturers in Spain", "solar panels",
          ("photovoltaic modules", "solar modules for rooftops", "utility-scale PV modules"), "Solar", "Spain"),
    Topic("freight forwarding software vendors in the Netherlands", "freight forwarding software",
          ("logistics software for forwarders", "shipment visibility", "customs and booking platform"),
          "Freight", "Netherlands"),
    Topic("medical device companies in Switzerland", "medical devices",
          ("surgical instruments", "diagnostic devices for hospitals", "implants and orthopedic devices"),
          "Medtech", "Switzerland"),
    Topic("craft breweries in Belgium", "craft beer",
          ("brewery with a taproom", "abbey-style ales", "small-batch brewing"), "Brewing", "Belgium"),
    Topic("agricultural drone companies in the United States", "agricultural drones",
          ("crop spraying drones", "drones for precision agriculture", "aerial field mapping"), "AgriDrone",
          "United States"),
    Topic("battery recycling companies in Sweden", "battery recycling",
          ("recovery of lithium and cobalt", "recycling of electric vehicle batteries", "black mass refining"),
          "Recycling", "Sweden"),
    Topic("legal tech startups in the United Kingdom", "legal software",
          ("contract management for law firms", "legal research platform", "e-discovery and case management"),
          "Legal", "United Kingdom"),
    Topic("3D printing companies in Italy", "3D printers",
          ("additive manufacturing systems", "metal 3D printing", "industrial 3D printing services"), "Additive",
          "Italy"),
    Topic("vertical farming companies in Denmark", "vertical farming",
          ("indoor farms growing leafy greens", "hydroponic growing systems", "controlled-environment agriculture"),
          "Farms", "Denmark"),
)

# Country → (top-level domain, legal form, two cities).
_PLACES = {
    "Germany": ("de", "GmbH", ("Munich", "Stuttgart")), "France": ("fr", "SAS", ("Paris", "Lyon")),
    "Israel": ("co.il", "Ltd", ("Tel Aviv", "Haifa")), "Spain": ("es", "S.L.", ("Madrid", "Valencia")),
    "Netherlands": ("nl", "B.V.", ("Rotterdam", "Amsterdam")), "Switzerland": ("ch", "AG", ("Zurich", "Basel")),
    "Belgium": ("be", "NV", ("Ghent", "Antwerp")), "United States": ("com", "Inc.", ("Austin", "Des Moines")),
    "Sweden": ("se", "AB", ("Stockholm", "Gothenburg")), "United Kingdom": ("co.uk", "Ltd", ("London", "Leeds")),
    "Italy": ("it", "S.r.l.", ("Milan", "Turin")), "Denmark": ("dk", "ApS", ("Copenhagen", "Aarhus")),
}
_SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "ta", "vi", "so", "de", "fa", "zu", "po", "re", "xa", "li", "mo",
              "tri", "ven", "dal", "cor", "bex", "nor", "sil", "ara")
_BLOG_WORDS = ("insider", "weekly", "radar", "digest", "hub", "review", "journal", "watch", "report", "today")

MAKERS_PER_QUERY = 30
MAKERS_PER_OTHER_CELL = 3
SERVICE_FIRMS_PER_QUERY = 2
UNINDEXED_SHARE = 1 / 3  # makers whose homepage the engine never indexed
VARIANT_ONLY_SHARE = 0.2  # makers describing their business only in other words ("robot arms for factory automation")
ADDRESS_ONLY_SHARE = 0.25  # makers whose prose names no place: only the contact page's address does
DOWN_SHARE = 0.1  # sites that answer 503 to everything
LINKEDIN_SHARE, CRUNCHBASE_SHARE, JOBS_SHARE = 0.5, 0.2, 0.2


@dataclass(frozen=True)
class Firm:
    domain: str
    name: str
    topic: int  # index into TOPICS of its industry
    country: str
    kind: str  # "maker", "service" or "association"
    indexed: bool  # the engine knows its homepage

    @property
    def url(self) -> str:
        return f"http://www.{self.domain}/"

    @property
    def slug(self) -> str:
        return self.domain.split(".")[0]


@dataclass(frozen=True)
class Indexed:
    doc: Doc
    terms: Counter[str]
    length: int


_WORD = re.compile(r"[a-z0-9]+")


def terms(text: str) -> list[str]:
    """Lower-cased words with a plural's s dropped, as an engine's stemmer would."""
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
            for w in _WORD.findall(text.lower())]


@dataclass
class DiscoveryWeb:
    """Sites by host, the engine's index, and per query the domains that are its truth."""

    sites: dict[str, Site] = field(default_factory=dict)
    index: list[Indexed] = field(default_factory=list)
    truth: dict[str, frozenset[str]] = field(default_factory=dict)
    firms: dict[str, Firm] = field(default_factory=dict)  # domain → firm, every company and association

    def add_page(self, host: str, path: str, title: str, body: str, *, snippet: str, indexed: bool = True,
                 head: str = "") -> None:
        site = self.sites.setdefault(host, Site(host, {}))
        assert isinstance(site.pages, dict)
        site.pages[path] = html_page(title, body, head=head)
        if indexed:
            text = re.sub(r"<[^>]+>", " ", body)
            words = terms(f"{title} {title} {snippet} {text}")  # a title counts twice, as engines weigh it up
            self.index.append(Indexed(Doc(f"http://{host}{path}", title, snippet), Counter(words), len(words)))

    def search(self, query: str) -> list[Doc]:
        """Indexed pages ranked by BM25 (k1 1.2, b 0.75) against the query's words; `site:host/path` keeps
        the pages under it. Pages matching no word are not results."""
        words = query.split()
        sites = [w.removeprefix("site:") for w in words if w.startswith("site:")]
        wanted = set(terms(" ".join(w for w in words if not w.startswith("site:"))))
        pool = [d for d in self.index if all(_under(d.doc.url, s) for s in sites)]
        if not pool or not wanted:
            return []
        average = sum(d.length for d in pool) / len(pool)
        idf = {t: math.log(1 + (len(pool) - (n := sum(1 for d in pool if t in d.terms)) + 0.5) / (n + 0.5))
               for t in wanted}
        scored = []
        for d in pool:
            score = sum(idf[t] * d.terms[t] * 2.2 / (d.terms[t] + 1.2 * (0.25 + 0.75 * d.length / average))
                        for t in wanted if t in d.terms)
            if score > 0:
                scored.append((score, d.doc))
        scored.sort(key=lambda pair: (-pair[0], pair[1].url))
        return [doc for _, doc in scored]

    def company_domains(self) -> frozenset[str]:
        return frozenset(self.firms)


def _under(url: str, prefix: str) -> bool:
    rest = url.split("://", 1)[-1]
    return rest.startswith(prefix) or rest.startswith(f"www.{prefix}")


class _Names:
    def __init__(self, rng: random.Random) -> None:
        self._rng, self._taken = rng, set[str]()

    def stem(self) -> str:
        while True:
            stem = "".join(self._rng.choice(_SYLLABLES) for _ in range(self._rng.choice((2, 3))))
            if stem not in self._taken:
                self._taken.add(stem)
                return stem


def discovery_web(seed: int = 0) -> DiscoveryWeb:
    rng = random.Random(seed)
    names = _Names(rng)
    web = DiscoveryWeb()
    cells: dict[tuple[int, str], list[Firm]] = {}
    for t, topic in enumerate(TOPICS):
        for country in _PLACES:
            count = MAKERS_PER_QUERY if country == topic.country else MAKERS_PER_OTHER_CELL
            cells[(t, country)] = [_firm(names, rng, t, country, "maker") for _ in range(count)]
    for t, topic in enumerate(TOPICS):
        makers = cells[(t, topic.country)]
        unindexed = set(rng.sample(range(len(makers)), round(len(makers) * UNINDEXED_SHARE)))
        cells[(t, topic.country)] = makers = [
            Firm(f.domain, f.name, f.topic, f.country, f.kind, i not in unindexed) for i, f in enumerate(makers)]
        web.truth[topic.query] = frozenset(f.domain for f in makers)
    for firms in cells.values():
        for firm in firms:
            _company_site(web, rng, firm)
    for t, topic in enumerate(TOPICS):
        same_industry = [f for (i, c), fs in cells.items() if i == t and c != topic.country for f in fs]
        same_country = [f for (i, c), fs in cells.items() if c == topic.country and i != t for f in fs]
        services = [_firm(names, rng, t, topic.country, "service") for _ in range(SERVICE_FIRMS_PER_QUERY)]
        for firm in services:
            _company_site(web, rng, firm)
        association = _firm(names, rng, t, topic.country, "association")
        _company_site(web, rng, association)
        _pages_about(web, rng, t, cells[(t, topic.country)], same_industry, same_country, association)
    return web


def _firm(names: _Names, rng: random.Random, t: int, country: str, kind: str) -> Firm:
    tld, form, _ = _PLACES[country]
    stem = names.stem()
    word = {"maker": TOPICS[t].noun, "service": rng.choice(("Partners", "Consulting", "Talent")),
            "association": "Association"}[kind]
    name = f"{stem.title()} {word}" + (f" {form}" if kind == "maker" and rng.random() < 0.5 else "")
    domain = f"{stem}{word.lower()}.{tld if rng.random() < 0.7 else 'com'}"
    return Firm(domain, name, t, country, kind, indexed=True)


def _about(firm: Firm, rng: random.Random) -> tuple[str, str]:
    """(the one-line description, a longer paragraph) in the firm's own words."""
    topic = TOPICS[firm.topic]
    city = rng.choice(_PLACES[firm.country][2])
    if firm.kind == "service":
        line = (f"{firm.name} is a {rng.choice(('recruitment agency', 'management consultancy'))} for "
                f"{topic.industry} companies in {firm.country}.")
        return line, f"We place engineers and advise founders; offices in {city}, {firm.country}."
    if firm.kind == "association":
        return (f"The {firm.name} represents the {topic.industry} industry in {firm.country}.",
                f"Members, events and policy work from {city}.")
    verb = rng.choice(("makes", "builds", "develops", "designs and manufactures", "produces"))
    # Some makers never use the industry's usual name, and some say where they are only in their address.
    business = rng.choice(topic.variants) if rng.random() < VARIANT_ONLY_SHARE else topic.industry
    where = "" if rng.random() < ADDRESS_ONLY_SHARE else f" in {city}, {firm.country}"
    line = f"{firm.name} {verb} {business}{where}: {rng.choice(topic.variants)}."
    more = "" if business != topic.industry else f" and {topic.industry}"
    return line, f"Founded in {rng.randint(1985, 2021)}. Customers rely on our {rng.choice(topic.variants)}{more}."


def _company_site(web: DiscoveryWeb, rng: random.Random, firm: Firm) -> None:
    web.firms[firm.domain] = firm
    host = f"www.{firm.domain}"
    web.sites[firm.domain] = host_redirect_site(firm.domain, host)  # the bare domain answers as sites do
    line, paragraph = _about(firm, rng)
    head = f'<meta name="description" content="{line}">'
    if rng.random() < 0.6:
        org = {"@context": "https://schema.org", "@type": "Organization", "name": firm.name, "url": firm.url,
               "description": line, "address": {"@type": "PostalAddress", "addressCountry": firm.country}}
        head += f'<script type="application/ld+json">{json.dumps(org)}</script>'
    nav = '<nav><a href="/">Home</a> <a href="/about">About us</a> <a href="/contact">Contact</a></nav>'
    web.add_page(host, "/", f"{firm.name} | {line.split(': ')[-1].rstrip('.').title()}",
                 f"{nav}<h1>{firm.name}</h1><p>{line}</p><p>{paragraph}</p>", snippet=line, head=head,
                 indexed=firm.indexed)
    web.add_page(host, "/about", f"About {firm.name}", f"{nav}<h1>About us</h1><p>{paragraph}</p><p>{line}</p>",
                 snippet=paragraph, indexed=False)
    city = _PLACES[firm.country][2][0]
    web.add_page(host, "/contact", f"Contact - {firm.name}",
                 f"{nav}<address>{firm.name}, {rng.randint(1, 99)} Main Street, {rng.randint(1000, 99999)} {city}, "
                 f"{firm.country}</address>", snippet="", indexed=False)
    if rng.random() < DOWN_SHARE:  # the engine still lists what it indexed before the site went down
        web.sites[host] = Site(host, {path: error_page(503) for path in ("/", "/about", "/contact")})
    if firm.kind == "maker":
        _profiles(web, rng, firm, line)


def _profiles(web: DiscoveryWeb, rng: random.Random, firm: Firm, line: str) -> None:
    topic = TOPICS[firm.topic]
    if rng.random() < LINKEDIN_SHARE:
        web.add_page("www.linkedin.com", f"/company/{firm.slug}", f"{firm.name} | LinkedIn",
                     f'<h1>{firm.name}</h1><p>{line}</p><p>{topic.industry.title()} · {firm.country}</p>'
                     f'<a href="https://www.linkedin.com/feed">Feed</a> <a href="{firm.url}">Website</a>',
                     snippet=f"{firm.name} | {topic.industry} | {firm.country} | {rng.randint(50, 9000)} followers")
    if rng.random() < CRUNCHBASE_SHARE:
        web.add_page("www.crunchbase.com", f"/organization/{firm.slug}", f"{firm.name} - Crunchbase Company Profile",
                     f'<h1>{firm.name}</h1><p>{line}</p><a href="{firm.url}">{firm.domain}</a>',
                     snippet=f"{firm.name} is located in {firm.country}. {line}")
    if rng.random() < JOBS_SHARE:
        web.add_page("www.indeed.com", f"/cmp/{firm.slug}", f"Working at {firm.name}: jobs and reviews | Indeed",
                     f"<h1>Jobs at {firm.name}</h1><p>{rng.randint(2, 40)} open jobs. Engineer, "
                     f"{_PLACES[firm.country][2][0]}. Benefits and salaries.</p>",
                     snippet=f"{topic.industry} jobs at {firm.name}")


def _entries(rng: random.Random, right: list[Firm], wrong: list[Firm], n_right: int, n_wrong: int) -> list[Firm]:
    chosen = rng.sample(right, min(n_right, len(right))) + rng.sample(wrong, min(n_wrong, len(wrong)))
    rng.shuffle(chosen)
    return chosen


def _pages_about(web: DiscoveryWeb, rng: random.Random, t: int, makers: list[Firm], same_industry: list[Firm],
                 same_country: list[Firm], association: Firm) -> None:
    topic = TOPICS[t]
    industry, country = topic.industry, topic.country
    sponsored = rng.sample(same_country, 2)
    aside = ("<aside>Sponsored: " + " ".join(f'<a href="{f.url}">{f.name}</a>' for f in sponsored) +
             ' <a href="https://twitter.com/share">Share</a> <a href="/newsletter">Newsletter</a></aside>')
    blogs = [f"{rng.choice(_SYLLABLES)}{rng.choice(_SYLLABLES)}{w}.com" for w in rng.sample(_BLOG_WORDS, 3)]

    ranked = _entries(rng, makers, same_industry, 12, 3)
    items = "".join(f'<li><h2>{i}. <a href="{f.url}">{f.name}</a></h2><p>{_about(f, rng)[0]}</p></li>'
                    for i, f in enumerate(ranked, 1))
    title = f"Top 15 {industry} companies in {country} (2026)"
    web.add_page(blogs[0], f"/top-{topic.noun.lower()}-{t}", title, f"<h1>{title}</h1><ol>{items}</ol>{aside}",
                 snippet=f"Our ranking of the leading {industry} makers in {country}.")

    best = _entries(rng, makers, same_industry, 10, 2)
    items = "".join(f'<section><h3>{f.name}</h3><p>{_about(f, rng)[0]}</p><a href="{f.url}">Visit website</a>'
                    "</section>" for f in best)
    title = f"The best {industry} startups in {country} to watch"
    web.add_page(blogs[1], f"/best-{t}", title, f"<h1>{title}</h1>{items}{aside}",
                 snippet=f"{len(best)} {industry} startups from {country} we are excited about.")

    listed = _entries(rng, makers, same_country, 14, 6)
    rows = "".join(f'<tr><td><a href="{f.url}">{f.name}</a></td><td>{f.country}</td></tr>' for f in listed)
    title = f"{industry.title()} suppliers in {country}"
    web.add_page("www.europages.com", f"/companies/{country.lower().replace(' ', '-')}/{t}.html",
                 f"{title} | Europages", f"<h1>{title}</h1><table>{rows}</table>",
                 snippet=f"Find {industry} manufacturers and suppliers in {country}.")

    named = rng.sample(makers, 2)
    web.add_page("www.reuters.com", f"/business/{t}", f"{named[0].name} raises funding as {industry} demand grows",
                 f"<p><a href=\"{named[0].url}\">{named[0].name}</a> said on Tuesday that it raised new funding. "
                 f"Rival <a href=\"{named[1].url}\">{named[1].name}</a> declined to comment.</p>",
                 snippet=f"{industry} makers in {country} see demand grow.")

    web.add_page("en.wikipedia.org", f"/wiki/{industry.replace(' ', '_')}_in_{country.replace(' ', '_')}",
                 f"{industry.title()} in {country} - Wikipedia",
                 f"<p>The {industry} industry in {country} employs thousands.</p>"
                 f'<p>External links: <a href="{association.url}">{association.name}</a></p>',
                 snippet=f"Overview of the {industry} industry in {country}.")


