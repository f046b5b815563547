"""A company's website read into a profile: its homepage and up to a few internal pages, every fact with the
URL it came from."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from firmscout.domains import registered_domain
from firmscout.entities import Passage
from firmscout.web.extract import Fact, PageFacts, internal_pages
from firmscout.web.pages import PageOutcome, PageReader


@dataclass(frozen=True)
class WebsiteProfile:
    domain: str  # as asked
    pages: tuple[PageOutcome, ...]
    # The registered domain the homepage ended on, when a redirect left the asked one (a rebrand).
    moved_to: str | None = None
    name: Fact | None = None
    description: Fact | None = None
    country: Fact | None = None
    city: Fact | None = None
    founded_year: Fact | None = None
    employees: Fact | None = None
    linkedin_url: str | None = None
    passages: tuple[Passage, ...] = ()

    @property
    def error(self) -> str | None:
        """Why the homepage could not be read, or None."""
        return self.pages[0].error if self.pages and self.pages[0].facts is None else None

    @property
    def fetched(self) -> int:
        return sum(1 for page in self.pages if page.facts is not None and not page.cached)

    @property
    def bytes(self) -> int:
        return sum(page.bytes for page in self.pages)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(page.facts.url for page in self.pages if page.facts is not None))


async def read_website(reader: PageReader, domain: str, *, max_pages: int) -> WebsiteProfile:
    """The homepage of `domain`, then up to `max_pages - 1` internal pages chosen by link text and path."""
    home = await reader.read(domain, site=True)
    if home.facts is None:
        return WebsiteProfile(domain, (home,))
    outcomes = [home]
    for url in internal_pages(home.facts, limit=max(0, max_pages - 1)):
        outcomes.append(await reader.read(url))
    read = [page.facts for page in outcomes if page.facts is not None]
    final = _site(home.facts.url)
    return WebsiteProfile(
        domain=domain,
        pages=tuple(outcomes),
        moved_to=final if final != _site(domain) else None,
        name=_first(read, "name"),
        description=_first(read, "description"),
        country=_first(read, "country"),
        city=_first(read, "city"),
        founded_year=_first(read, "founded_year"),
        employees=_first(read, "employees"),
        linkedin_url=next((facts.linkedin_url for facts in read if facts.linkedin_url), None),
        passages=tuple(Passage(facts.url, facts.text) for facts in read if facts.text),
    )


def _site(url_or_domain: str) -> str:
    # Hosts outside the public suffix list (intranets, test names) count by host name, less a leading "www.".
    host = urlsplit(url_or_domain if "//" in url_or_domain else f"//{url_or_domain}").hostname or url_or_domain
    return registered_domain(host) or host.lower().removeprefix("www.")


def _first(pages: list[PageFacts], field: str) -> Fact | None:
    # The homepage first: what a company says of itself there is its own summary.
    for facts in pages:
        value = getattr(facts, field)
        if value is not None:
            assert isinstance(value, Fact)
            return value
    return None
