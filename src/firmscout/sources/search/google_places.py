"""Google Places API (New) Text Search: `POST /v1/places:searchText` with a JSON body, key in `X-Goog-Api-Key`,
the fields wanted in `X-Goog-FieldMask`. Pages hold up to 20 places; the next one is asked for by the
`nextPageToken` of the last (no page numbers), and a search ends after 60."""

from __future__ import annotations

import json
from typing import Any

from firmscout.sources.search.base import Place, PlacePage
from firmscout.sources.search.http import ProviderClient, items

BASE_URL = "https://places.googleapis.com"
PAGE_SIZE = 20  # the most one page may hold
# Only the fields a Place carries: Google bills a search at the rate of the costliest field it asks for.
FIELD_MASK = ",".join((
    "places.displayName", "places.formattedAddress", "places.websiteUri", "places.nationalPhoneNumber",
    "places.internationalPhoneNumber", "places.primaryTypeDisplayName", "places.location", "nextPageToken",
))
KEY_SETTING = "FIRMSCOUT_WEB__PLACES_API_KEY"


def explain(status: int, body: str) -> str | None:
    """Google's error body, `{"error": {"code", "message", "status", "details"}}`, as the fix it asks for."""
    state, message, reasons = _google_error(body)
    told = f"HTTP {status} {state}".strip()
    # A key Google does not know is a 400 INVALID_ARGUMENT whose ErrorInfo says API_KEY_INVALID.
    if "API_KEY_INVALID" in reasons:
        return f"rejected the API key ({told}): set {KEY_SETTING} to a Google Maps Platform API key."
    if status == 403:  # no key, Places API (New) not enabled in the key's project, or the key restricted from it
        return (f"refused the search ({told}: {message or 'permission denied'}): set {KEY_SETTING} to a key "
                "of a Google Cloud project with Places API (New) enabled, and the key allowed to call it.")
    if state:
        return f"refused the search ({told}): {message}"
    return None


def _google_error(body: str) -> tuple[str, str, frozenset[str]]:
    """(status, message, ErrorInfo reasons) of a Google error body; empty when the body is something else."""
    try:
        data = json.loads(body)
    except ValueError:
        return "", "", frozenset()
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return "", "", frozenset()
    reasons = frozenset(str(d.get("reason")) for d in items(error, "details") if d.get("reason"))
    return str(error.get("status") or ""), str(error.get("message") or ""), reasons


class GooglePlaces:
    name = "google"

    def __init__(self, api_key: str, client: ProviderClient, base_url: str = BASE_URL) -> None:
        self._url = base_url.rstrip("/") + "/v1/places:searchText"
        self._headers = {"X-Goog-Api-Key": api_key, "X-Goog-FieldMask": FIELD_MASK}
        self._client = client

    async def places(self, query: str, page: int, token: str | None = None) -> PlacePage:
        if page > 0 and token is None:
            return PlacePage((), more=False)  # Google reaches a later page by its token only
        body: dict[str, Any] = {"textQuery": query, "pageSize": PAGE_SIZE}
        if token is not None:
            body["pageToken"] = token  # with the same textQuery: Google refuses a token from another search
        data = await self._client.request_json("POST", self._url, headers=self._headers, body=body)
        places = tuple(place for place in map(_place, items(data, "places")) if place is not None)
        following = data.get("nextPageToken") if isinstance(data, dict) else None
        next_token = following if isinstance(following, str) and following else None
        return PlacePage(places, more=next_token is not None, next_token=next_token)

    async def aclose(self) -> None:
        await self._client.aclose()


def _place(p: dict[str, Any]) -> Place | None:
    name = _localized(p.get("displayName"))
    if name is None:
        return None
    location = p.get("location")
    at = location if isinstance(location, dict) else {}
    return Place(
        name=name, website=_text(p.get("websiteUri")), address=_text(p.get("formattedAddress")),
        # The international form first: a company database spans countries.
        phone=_text(p.get("internationalPhoneNumber")) or _text(p.get("nationalPhoneNumber")),
        category=_localized(p.get("primaryTypeDisplayName")),
        latitude=_number(at.get("latitude")), longitude=_number(at.get("longitude")),
    )


def _localized(value: Any) -> str | None:
    """The text of a LocalizedText, `{"text": "…", "languageCode": "de"}`."""
    return _text(value.get("text")) if isinstance(value, dict) else None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
