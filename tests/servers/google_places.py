"""A loopback server that speaks Google Places API (New) Text Search, answering from a scripted list of businesses.

`POST /v1/places:searchText` as Google serves it: the key in `X-Goog-Api-Key` (one it does not know is a 400
INVALID_ARGUMENT whose ErrorInfo says API_KEY_INVALID; none at all, or the API not enabled in the key's project,
a 403 PERMISSION_DENIED); the reply's fields chosen by `X-Goog-FieldMask`, which is required, and only those
come back; `pageSize` up to 20 (0 or unset: 20, larger: 20, negative: refused); pages after the first asked for
by the `nextPageToken` of the one before, which holds only for the same `textQuery`; at most 60 places a search.
Nothing found is `{}`. Errors are Google's JSON, `{"error": {"code", "message", "status", "details"}}`.
Every business matches every query; `fail()` replaces the next replies (tests.servers.search_api's faults);
every request is kept in `requests`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tests.servers.loopback import LoopbackServer, OnLoopback
from tests.servers.search_api import Fault, Seen, restore_defaults

PATH = "/v1/places:searchText"
MAX_PAGE = 20
MAX_RESULTS = 60  # Text Search ends a search after three pages of twenty
PROJECT = "123456789"
# Google's front end answers a 502 with its own HTML page, not the API's JSON.
BAD_GATEWAY = ("<!DOCTYPE html>\n<html lang=en><meta charset=utf-8><title>Error 502 (Server Error)!!1</title>"
               "<p><b>502.</b> <ins>That's an error.</ins><p>The server encountered a temporary error.")
_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
           503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
_MESSAGES = {
    429: "Quota exceeded for quota metric 'SearchTextRequest' and limit 'SearchTextRequest per minute' of service "
         f"'places.googleapis.com' for consumer 'project_number:{PROJECT}'.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
    504: "The request timed out. Please try again.",
}


@dataclass(frozen=True)
class Business:
    """A place as Google knows it; `phone` in its international form, `national_phone` as dialled at home."""

    name: str
    address: str
    category: str
    phone: str | None = None
    national_phone: str | None = None
    website: str | None = None
    latitude: float = 52.52
    longitude: float = 13.405

    def fields(self, index: int) -> dict[str, Any]:
        """Every field this server knows, as Text Search returns them (those Google lacks left out)."""
        place: dict[str, Any] = {
            "id": f"ChIJ{index:06d}loopback", "displayName": {"text": self.name, "languageCode": "de"},
            "formattedAddress": self.address, "location": {"latitude": self.latitude, "longitude": self.longitude},
            "primaryType": "establishment", "types": ["establishment", "point_of_interest"],
            "primaryTypeDisplayName": {"text": self.category, "languageCode": "en-US"},
            "rating": 4.5, "userRatingCount": 120, "businessStatus": "OPERATIONAL",
            "googleMapsUri": f"https://maps.google.com/?cid={10**18 + index}",
        }
        if self.phone is not None:
            place["internationalPhoneNumber"] = self.phone
        if self.national_phone is not None:
            place["nationalPhoneNumber"] = self.national_phone
        if self.website is not None:
            place["websiteUri"] = self.website
        return place


KNOWN_FIELDS = frozenset({
    "id", "displayName", "formattedAddress", "location", "primaryType", "types", "primaryTypeDisplayName", "rating",
    "userRatingCount", "businessStatus", "googleMapsUri", "internationalPhoneNumber", "nationalPhoneNumber",
    "websiteUri",
})


@dataclass
class GooglePlacesServer(OnLoopback):
    businesses: list[Business] = field(default_factory=list)
    key: str = "AIza-test-key"
    api_enabled: bool = True  # False: Places API (New) is not enabled in the key's Google Cloud project
    requests: list[Seen] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    # Page tokens handed out: token → (the textQuery it belongs to, where its page starts).
    tokens: dict[str, tuple[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        app = Starlette(routes=[Route(PATH, self._handle, methods=["POST"])])
        self._http = LoopbackServer(app, "Google Places server")

    def reset(self, **settings: Any) -> GooglePlacesServer:
        """A fresh server's state on the same socket: every field back to its default, then `settings`."""
        restore_defaults(self, settings)
        return self

    def fail(self, fault: Fault, times: int = 1) -> None:
        self.faults.extend([fault] * times)

    async def _handle(self, request: Request) -> Response:
        seen = await Seen.of(request)
        self.requests.append(seen)  # handlers run on the server's one event loop: no lock needed
        if refusal := self._refusal(seen):
            return refusal
        fault = self.faults.pop(0) if self.faults else Fault()
        if fault.status != 200:
            return _fault(fault)
        return self._search(seen, fault)

    def _refusal(self, seen: Seen) -> Response | None:
        """What Google answers before it searches: the key, the project, the field mask, the body."""
        key = seen.headers.get("x-goog-api-key")
        if not key:
            return google_error(403, "The request is missing a valid API key.")
        if key != self.key:
            return google_error(400, "API key not valid. Please pass a valid API key.", reason="API_KEY_INVALID")
        if not self.api_enabled:
            return google_error(
                403, f"Places API (New) has not been used in project {PROJECT} before or it is disabled. Enable it "
                     "by visiting https://console.developers.google.com/apis/api/places.googleapis.com/overview"
                     f"?project={PROJECT} then retry.", reason="SERVICE_DISABLED")
        mask = seen.headers.get("x-goog-fieldmask")
        if not mask:
            return google_error(400, "FieldMask is a required parameter. See https://cloud.google.com/apis/docs/"
                                     "system-parameters on how to provide it.")
        for path in mask.split(","):
            if path not in ("*", "places", "nextPageToken") and path.removeprefix("places.") not in KNOWN_FIELDS:
                return google_error(400, f"Error expanding 'fields' parameter. Cannot find matching fields for path "
                                         f"'{path}'.")
        body = seen.json if isinstance(seen.json, dict) else {}
        if not isinstance(body.get("textQuery"), str) or not body["textQuery"].strip():
            return google_error(400, "Empty text_query.")
        size = body.get("pageSize", 0)
        if not isinstance(size, int) or size < 0:
            return google_error(400, f"Invalid value at 'page_size' (TYPE_INT32), {json.dumps(size)}")
        token = body.get("pageToken")
        issued = self.tokens.get(token) if isinstance(token, str) else None
        if token is not None and (issued is None or issued[0] != body["textQuery"]):
            return google_error(400, "Invalid page token, or a page token used with other request parameters.")
        return None

    def _search(self, seen: Seen, fault: Fault) -> Response:
        body = seen.json
        size = min(body.get("pageSize") or MAX_PAGE, MAX_PAGE)
        start = self.tokens[body["pageToken"]][1] if body.get("pageToken") is not None else 0
        found = [] if fault.empty else self.businesses[:MAX_RESULTS]
        wanted = set(seen.headers["x-goog-fieldmask"].split(","))
        every = bool(wanted & {"*", "places"})
        payload: dict[str, Any] = {}
        listed = [
            {k: v for k, v in b.fields(i).items() if every or f"places.{k}" in wanted}
            for i, b in enumerate(found[start : start + size], start)
        ]
        if listed:  # nothing found is an empty object: Google leaves out what is empty
            payload["places"] = listed
        if start + size < len(found) and ("nextPageToken" in wanted or "*" in wanted):
            token = f"AciIO2{uuid.uuid4().hex}"
            self.tokens[token] = (body["textQuery"], start + size)
            payload["nextPageToken"] = token
        text = json.dumps(payload)
        if fault.truncated:  # the connection dropped mid-body behind a proxy that had already sent 200
            text = text[: len(text) // 2]
        return Response(text, media_type="application/json")


def google_error(status: int, message: str, *, reason: str | None = None,
                 headers: dict[str, str] | None = None) -> JSONResponse:
    """Google's error body: google.rpc.Status, with an ErrorInfo detail when there is a reason."""
    error: dict[str, Any] = {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}
    if reason is not None:
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
                             "domain": "googleapis.com", "metadata": {"service": "places.googleapis.com"}}]
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def _fault(fault: Fault) -> Response:
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
    if fault.status == 502:
        return HTMLResponse(BAD_GATEWAY, status_code=502, headers=headers)
    reason = "RATE_LIMIT_EXCEEDED" if fault.status == 429 else None
    return google_error(fault.status, _MESSAGES.get(fault.status, f"scripted {fault.status}"), reason=reason,
                        headers=headers)
