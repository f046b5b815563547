"""Google Places API (New) Text Search as the `maps` source's places endpoint, built from settings and run over
real HTTP against a loopback server that speaks Google's wire format (tests/servers/google_places.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from firmscout.config import WebSettings
from firmscout.entities import SearchRequest
from firmscout.errors import FirmscoutError
from firmscout.sources.maps import MapsSource
from firmscout.sources.search import google_places, http
from firmscout.sources.search.base import Place, PlacePage, PlaceSearch, ProviderError
from firmscout.sources.search.google_places import GooglePlaces
from firmscout.sources.search.registry import build_places
from firmscout.sources.search.serper import SerperProvider
from tests.servers.google_places import PATH, Business, GooglePlacesServer
from tests.servers.search_api import EMPTY, TRUNCATED, rate_limited, unavailable

KEY = "AIza-test-key"
QUERY = "robotics companies in Berlin"
ACME = Business("Acme Robotics GmbH", "Hauptstr. 1, 10115 Berlin, Germany", "Robotics company",
                phone="+49 30 1234567", national_phone="030 1234567", website="https://acme.example/",
                latitude=52.53, longitude=13.38)

Build = Callable[..., PlaceSearch]


def businesses(n: int) -> list[Business]:
    return [Business(f"Firm {i}", f"Ringstr. {i}, 10115 Berlin, Germany", "Machine shop",
                     website=f"https://www.firm{i}.de/") for i in range(n)]


@pytest.fixture(scope="module")
def server() -> Iterator[GooglePlacesServer]:
    running = GooglePlacesServer().start()
    yield running
    running.stop()


@pytest.fixture
def google(server: GooglePlacesServer) -> GooglePlacesServer:
    return server.reset(key=KEY, businesses=[ACME])


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # The client pauses before retrying a 5xx; the tests count the retries, not the seconds.
    monkeypatch.setattr(http, "_BACKOFF_S", 0.01)


@pytest.fixture
async def build(google: GooglePlacesServer) -> AsyncIterator[Build]:
    """`build(key=…, max_retry_after_s=…)`: Google places as the settings name them, pointed at the loopback
    server, closed after the test."""
    built: list[PlaceSearch] = []

    def make(*, key: str = KEY, max_retry_after_s: float = 2.0) -> PlaceSearch:
        places = build_places(WebSettings(
            places_provider="google", places_api_key=SecretStr(key), places_url=google.base_url,
            search_timeout_s=5.0, search_interval_s=0.0, max_retry_after_s=max_retry_after_s))
        assert isinstance(places, GooglePlaces)
        built.append(places)
        return places

    yield make
    for places in built:
        await places.aclose()


class TestResults:
    async def test_a_place_carries_name_address_phone_category_and_location(
        self, google: GooglePlacesServer, build: Build
    ) -> None:
        page = await build().places(QUERY, 0)
        assert page == PlacePage((Place(name="Acme Robotics GmbH", website="https://acme.example/",
                                        address="Hauptstr. 1, 10115 Berlin, Germany", phone="+49 30 1234567",
                                        category="Robotics company", latitude=52.53, longitude=13.38),),
                                 more=False)

    async def test_the_request_asks_only_for_the_fields_a_place_uses(
        self, google: GooglePlacesServer, build: Build
    ) -> None:
        await build().places(QUERY, 0)
        sent = google.requests[0]
        assert (sent.method, sent.path) == ("POST", PATH)
        assert sent.headers["x-goog-api-key"] == KEY
        assert set(sent.headers["x-goog-fieldmask"].split(",")) == {
            "places.displayName", "places.formattedAddress", "places.websiteUri", "places.nationalPhoneNumber",
            "places.internationalPhoneNumber", "places.primaryTypeDisplayName", "places.location", "nextPageToken"}
        assert sent.json == {"textQuery": QUERY, "pageSize": 20}

    async def test_a_place_without_a_website_or_international_phone(
        self, google: GooglePlacesServer, build: Build
    ) -> None:
        google.businesses = [Business("Imbiss am Markt", "Marktplatz 3, 10178 Berlin, Germany", "Snack bar",
                                      national_phone="030 7654321")]
        (place,) = (await build().places(QUERY, 0)).places
        assert (place.website, place.phone) == (None, "030 7654321"), "the national number when it is the only one"

    async def test_nothing_found_is_an_empty_object_and_an_empty_last_page(
        self, google: GooglePlacesServer, build: Build
    ) -> None:
        google.businesses = []
        assert await build().places("zzyzx quux in Berlin", 0) == PlacePage((), more=False)
        google.fail(EMPTY)
        assert await build().places(QUERY, 0) == PlacePage((), more=False)


class TestPaging:
    async def test_pages_follow_the_next_page_token_and_end_after_60(
        self, google: GooglePlacesServer, build: Build
    ) -> None:
        google.businesses = businesses(70)
        places = build()
        first = await places.places(QUERY, 0)
        second = await places.places(QUERY, 1, first.next_token)
        third = await places.places(QUERY, 2, second.next_token)
        assert [(len(p.places), p.more) for p in (first, second, third)] == [(20, True), (20, True), (20, False)]
        assert third.next_token is None
        assert [p.name for page in (first, second, third) for p in page.places] == [f"Firm {i}" for i in range(60)]
        assert [r.json for r in google.requests] == [
            {"textQuery": QUERY, "pageSize": 20},
            {"textQuery": QUERY, "pageSize": 20, "pageToken": first.next_token},
            {"textQuery": QUERY, "pageSize": 20, "pageToken": second.next_token},
        ]

    async def test_a_later_page_without_its_token_is_empty_and_asks_nothing(
        self, google: GooglePlacesServer, build: Build
    ) -> None:
        assert await build().places(QUERY, 1) == PlacePage((), more=False)
        assert google.requests == []

    async def test_a_token_from_another_search_is_refused_as_google_says(
        self, google: GooglePlacesServer, build: Build
    ) -> None:
        google.businesses = businesses(30)
        places = build()
        first = await places.places(QUERY, 0)
        with pytest.raises(ProviderError, match=r"refused the search \(HTTP 400 INVALID_ARGUMENT\): Invalid page "
                                                r"token") as failure:
            await places.places("bakeries in Hamburg", 1, first.next_token)
        assert failure.value.transient is False


class TestKeys:
    async def test_a_key_google_does_not_know_names_the_setting_and_is_not_retried(
        self, google: GooglePlacesServer, build: Build
    ) -> None:
        with pytest.raises(ProviderError) as failure:
            await build(key="AIza-wrong").places(QUERY, 0)
        assert str(failure.value) == ("Search provider 'google' rejected the API key (HTTP 400 INVALID_ARGUMENT): "
                                      "set FIRMSCOUT_WEB__PLACES_API_KEY to a Google Maps Platform API key.")
        assert failure.value.transient is False and len(google.requests) == 1

    async def test_places_api_not_enabled_is_a_403_naming_the_setting(
        self, google: GooglePlacesServer, build: Build
    ) -> None:
        google.api_enabled = False
        with pytest.raises(ProviderError) as failure:
            await build().places(QUERY, 0)
        message = str(failure.value)
        assert "HTTP 403 PERMISSION_DENIED: Places API (New) has not been used in project" in message
        assert "set FIRMSCOUT_WEB__PLACES_API_KEY to a key of a Google Cloud project with Places API (New) enabled" in (
            message)
        assert failure.value.transient is False

    async def test_a_request_without_a_key_is_a_403_naming_the_setting(self, google: GooglePlacesServer) -> None:
        # Settings refuse an empty key before any request; built by hand, the header goes out empty.
        client = http.ProviderClient("google", timeout_s=5.0, interval_s=0.0, max_retry_after_s=0.0,
                                     explain=google_places.explain)
        places = GooglePlaces("", client, google.base_url)
        try:
            with pytest.raises(ProviderError, match=r"HTTP 403 PERMISSION_DENIED: The request is missing a valid "
                                                    r"API key.*FIRMSCOUT_WEB__PLACES_API_KEY"):
                await places.places(QUERY, 0)
        finally:
            await places.aclose()


class TestRateLimitsAndFailures:
    async def test_a_429_within_the_allowed_wait_is_retried(self, google: GooglePlacesServer, build: Build) -> None:
        google.fail(rate_limited(retry_after="1"))
        page = await build().places(QUERY, 0)
        first, retry = google.requests
        assert len(page.places) == 1 and retry.at - first.at >= 0.9

    async def test_a_429_asking_longer_than_max_retry_after_is_a_transient_error(
        self, google: GooglePlacesServer, build: Build
    ) -> None:
        google.fail(rate_limited(retry_after="60"))
        with pytest.raises(ProviderError, match=r"'google' rate-limited the search \(HTTP 429; it asks to retry "
                                                r"after 60 s\)") as failure:
            await build(max_retry_after_s=2.0).places(QUERY, 0)
        assert failure.value.transient is True and len(google.requests) == 1

    async def test_resource_exhausted_without_retry_after_is_retried_then_transient(
        self, google: GooglePlacesServer, build: Build
    ) -> None:
        google.fail(rate_limited(retry_after=None), times=3)
        with pytest.raises(ProviderError, match=r"rate-limited the search \(HTTP 429\)") as failure:
            await build().places(QUERY, 0)
        assert failure.value.transient is True and len(google.requests) == 3

    @pytest.mark.parametrize("status", [500, 502, 503])
    async def test_a_5xx_is_retried_then_a_transient_error(
        self, google: GooglePlacesServer, build: Build, status: int
    ) -> None:
        google.fail(unavailable(status), times=3)
        with pytest.raises(ProviderError, match=f"'google' failed \\(HTTP {status}\\)") as failure:
            await build().places(QUERY, 0)
        assert failure.value.transient is True and len(google.requests) == 3

    async def test_a_passing_5xx_is_retried_to_success(self, google: GooglePlacesServer, build: Build) -> None:
        google.fail(unavailable(503))
        page = await build().places(QUERY, 0)
        assert len(page.places) == 1 and len(google.requests) == 2

    async def test_a_truncated_body_is_a_malformed_json_error(
        self, google: GooglePlacesServer, build: Build
    ) -> None:
        google.fail(TRUNCATED)
        with pytest.raises(ProviderError, match="'google' answered with malformed JSON") as failure:
            await build().places(QUERY, 0)
        assert failure.value.transient is True


class TestMapsCursor:
    async def test_the_cursor_carries_the_token_so_the_same_cursor_asks_the_same_page(
        self, google: GooglePlacesServer, build: Build
    ) -> None:
        google.businesses = businesses(45)
        maps = MapsSource(build())
        request = SearchRequest(query=QUERY, terms=(), searches=(QUERY, "machine shops in Berlin"))
        first = await maps.search(request, None, 50)
        assert first.next_cursor is not None and first.next_cursor.startswith("0:1:"), "search 0, page 1, token"
        token = first.next_cursor.removeprefix("0:1:")
        again = [await maps.search(request, first.next_cursor, 50) for _ in range(2)]
        assert again[0].hits == again[1].hits, "a resumed task gets the page it stopped before"
        assert [r.json.get("pageToken") for r in google.requests] == [None, token, token]
        assert {h.domain for h in again[0].hits} == {f"firm{i}.de" for i in range(20, 40)}

    async def test_after_the_last_page_of_a_search_the_next_starts_without_a_token(
        self, google: GooglePlacesServer, build: Build
    ) -> None:
        google.businesses = businesses(25)
        maps = MapsSource(build())
        request = SearchRequest(query=QUERY, terms=(), searches=(QUERY, "machine shops in Berlin"))
        second = await maps.search(request, (await maps.search(request, None, 50)).next_cursor, 50)
        assert second.next_cursor == "1:0", "Google gave no token after five: the next search"
        await maps.search(request, second.next_cursor, 50)
        assert google.requests[-1].json == {"textQuery": "machine shops in Berlin", "pageSize": 20}


class TestTheLoopbackKeepsGooglesRules:
    """What the server refuses, so that the adapter passing against it means something."""

    @pytest.fixture
    async def post(self, google: GooglePlacesServer) -> AsyncIterator[Callable[..., Any]]:
        async with httpx.AsyncClient(base_url=google.base_url, trust_env=False) as client:
            async def send(body: dict[str, Any], mask: str | None = "places.displayName,nextPageToken") -> Any:
                headers = {"X-Goog-Api-Key": KEY} | ({"X-Goog-FieldMask": mask} if mask is not None else {})
                reply = await client.post(PATH, json=body, headers=headers)
                return reply.status_code, reply.json()

            yield send

    async def test_a_field_mask_is_required(self, post: Callable[..., Any]) -> None:
        status, body = await post({"textQuery": QUERY}, mask=None)
        assert (status, body["error"]["status"]) == (400, "INVALID_ARGUMENT")
        assert "FieldMask is a required parameter" in body["error"]["message"]

    async def test_only_the_masked_fields_come_back(self, post: Callable[..., Any]) -> None:
        assert await post({"textQuery": QUERY}) == (200, {"places": [{"displayName": {
            "text": "Acme Robotics GmbH", "languageCode": "de"}}]})

    async def test_page_size_is_capped_at_20_and_never_negative(
        self, google: GooglePlacesServer, post: Callable[..., Any]
    ) -> None:
        google.businesses = businesses(30)
        status, body = await post({"textQuery": QUERY, "pageSize": 50})
        assert status == 200 and len(body["places"]) == 20 and body["nextPageToken"]
        status, body = await post({"textQuery": QUERY, "pageSize": -1})
        assert (status, body["error"]["status"]) == (400, "INVALID_ARGUMENT")


class TestBuildPlaces:
    def test_no_places_provider_and_no_serper_means_no_maps(self) -> None:
        assert build_places(WebSettings()) is None
        assert build_places(WebSettings(search_provider="brave", search_api_key=SecretStr("k"))) is None

    async def test_serper_search_brings_serper_places_with_its_key(self) -> None:
        places = build_places(WebSettings(search_provider="serper", search_api_key=SecretStr("k")))
        assert isinstance(places, SerperProvider)
        await places.aclose()

    def test_google_needs_its_key(self) -> None:
        with pytest.raises(FirmscoutError, match="PLACES_PROVIDER=google needs FIRMSCOUT_WEB__PLACES_API_KEY"):
            build_places(WebSettings(places_provider="google"))

    def test_serper_places_need_serper_as_the_search_provider(self) -> None:
        with pytest.raises(FirmscoutError, match="FIRMSCOUT_WEB__SEARCH_PROVIDER=serper"):
            build_places(WebSettings(places_provider="serper", search_provider="brave", search_api_key=SecretStr("k")))

    async def test_google_places_beside_serper_search(self) -> None:
        places = build_places(WebSettings(search_provider="serper", search_api_key=SecretStr("k"),
                                          places_provider="google", places_api_key=SecretStr(KEY)))
        assert isinstance(places, GooglePlaces)
        await places.aclose()
