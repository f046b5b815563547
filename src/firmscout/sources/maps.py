"""Source `maps`: local businesses from the search provider's places endpoint (Serper places).

The plan's first searches (the topic with its place) go to the places endpoint; each listing with a website
is a candidate keyed by its registered domain, its profile carrying the listing's address, phone and
category. A listing without a website has no domain to be a company by here, and is left out.
"""

from __future__ import annotations

from firmscout.domains import registered_domain
from firmscout.entities import CompanyProfile, SearchRequest, SourceHit
from firmscout.geography import country_code, country_name
from firmscout.sources.base import SourcePage
from firmscout.sources.search.base import Place, PlaceSearch
from firmscout.sources.web_search import Position

SOURCE_NAME = "maps"
SEARCHES = 2  # the query as typed, and the topic with its place
PAGES_PER_SEARCH = 3
FULL_PAGE = 10  # Serper's places pages hold ten listings: a shorter one is the last


class MapsSource:
    name = SOURCE_NAME

    def __init__(self, places: PlaceSearch) -> None:
        self._places = places

    async def search(self, request: SearchRequest, cursor: str | None, limit: int) -> SourcePage:
        searches = (request.searches or (request.query,))[:SEARCHES]
        at = Position.parse(cursor)
        if request.searches_left is not None and request.searches_left <= 0:
            return SourcePage((), None)
        if at.search >= len(searches) or limit <= 0:
            return SourcePage((), None if at.search >= len(searches) else cursor)
        listed = await self._places.places(searches[at.search], at.page)
        hits: dict[str, SourceHit] = {}
        for place in listed:
            hit = _hit(place)
            if hit is not None:
                hits.setdefault(hit.domain, hit)
        next_cursor = at.after(len(listed) >= FULL_PAGE, len(searches), PAGES_PER_SEARCH)
        return SourcePage(tuple(hits.values()), next_cursor, search_requests=1)


def _hit(place: Place) -> SourceHit | None:
    domain = registered_domain(place.website) if place.website else None
    if domain is None:
        return None
    tail = place.address.rsplit(",", 1)[-1].strip() if place.address else ""
    code = country_code(tail) if tail else None  # "…, 80331 München, Germany"
    profile = CompanyProfile(
        domain=domain, name=place.name, website=place.website, address=place.address, phone=place.phone,
        country=country_name(code) if code else None,
        industries=(place.category,) if place.category else (), origin="maps",
        description=f"{place.category} at {place.address}" if place.category and place.address else None,
    )
    return SourceHit(domain=domain, name=place.name, source=SOURCE_NAME, url=place.website,
                     snippet=profile.description, profile=profile)
