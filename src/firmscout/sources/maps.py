"""Source `maps`: local businesses from a places endpoint (Serper places, or Google Places Text Search).

The plan's first searches (the topic with its place) go to the places endpoint; each listing with a website
is a candidate keyed by its registered domain, its profile carrying the listing's address, phone and
category. A listing without a website has no domain to be a company by here, and is left out.

The cursor is `SEARCH:PAGE`, plus `:TOKEN` when the provider pages by token (Google's nextPageToken): a
resumed task sends the token it was given, so it continues with the page it stopped before.
"""

from __future__ import annotations

from firmscout.domains import registered_domain
from firmscout.entities import CompanyProfile, SearchRequest, SourceHit
from firmscout.errors import SourceError
from firmscout.geography import country_code, country_name
from firmscout.sources.base import SourcePage
from firmscout.sources.search.base import Place, PlacePage, PlaceSearch
from firmscout.sources.web_search import Position

SOURCE_NAME = "maps"
SEARCHES = 2  # the query as typed, and the topic with its place
PAGES_PER_SEARCH = 3  # Google ends a search after three pages of 20 anyway


class MapsSource:
    name = SOURCE_NAME

    def __init__(self, places: PlaceSearch) -> None:
        self._places = places

    async def search(self, request: SearchRequest, cursor: str | None, limit: int) -> SourcePage:
        searches = (request.searches or (request.query,))[:SEARCHES]
        at, token = _parse(cursor)
        if request.searches_left is not None and request.searches_left <= 0:
            return SourcePage((), None)
        if at.search >= len(searches) or limit <= 0:
            return SourcePage((), None if at.search >= len(searches) else cursor)
        listed = await self._places.places(searches[at.search], at.page, token)
        hits: dict[str, SourceHit] = {}
        for place in listed.places:
            hit = _hit(place)
            if hit is not None:
                hits.setdefault(hit.domain, hit)
        return SourcePage(tuple(hits.values()), _next_cursor(at, listed, len(searches)), search_requests=1)


def _parse(cursor: str | None) -> tuple[Position, str | None]:
    """The position and the provider's page token of a cursor `SEARCH:PAGE[:TOKEN]`."""
    parts = (cursor or "0:0").split(":", 2)  # a token is opaque: whatever follows the second colon
    if len(parts) < 2 or not (parts[0].isdigit() and parts[1].isdigit()):
        raise SourceError(f"Invalid cursor {cursor!r} for source {SOURCE_NAME!r}: expected SEARCH:PAGE[:TOKEN].")
    return Position(int(parts[0]), int(parts[1])), (parts[2] or None) if len(parts) == 3 else None


def _next_cursor(at: Position, listed: PlacePage, searches: int) -> str | None:
    following = at.after(listed.more, searches, PAGES_PER_SEARCH)
    # A token leads to its own search's next page; the next search starts without one.
    if following is None or listed.next_token is None or not following.startswith(f"{at.search}:"):
        return following
    return f"{following}:{listed.next_token}"


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
