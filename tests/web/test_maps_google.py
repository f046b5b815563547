"""The `maps` source end to end through Google Places Text Search, a loopback server speaking its wire format.

With only FIRMSCOUT_WEB__PLACES_PROVIDER=google set (no web search provider), a task asking for `maps` finds local
businesses that are in no database, each with the listing's address and phone in its profile; a resumed task
goes on with the page token Google gave for the page it stopped before, not the first page again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from firmscout.errors import InvalidField
from firmscout.storage.views import TaskView
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import NewTask
from tests.servers.google_places import Business, GooglePlacesServer
from tests.servers.web import LoopbackWeb, company_site
from tests.web.reading import run_to_end, working

QUERY = "industrial robot makers in Germany"
KEY = "AIza-loopback"
ROBOARM = Business("RoboArm GmbH", "Leopoldstr. 1, 80802 München, Germany", "Industrial robot manufacturer",
                   phone="+49 89 123456", national_phone="089 123456", website="http://www.roboarm.com/")
WELDBOTS = Business("WeldBots", "Hafenstr. 2, 20457 Hamburg, Germany", "Industrial robot manufacturer",
                    national_phone="040 654321", website="http://weldbots.de/")
SNACK_BAR = Business("Roboter-Imbiss", "Marktplatz 3, 80331 München, Germany", "Snack bar")  # no website


# Names no two of which read as one company's (a page of "Robotwerk 1", "Robotwerk 2" would merge into one).
NAMES = (
    "Achat", "Birke", "Cobalt", "Delphin", "Eiche", "Falke", "Granit", "Hafer", "Ingwer", "Jaspis", "Kiesel", "Lerche",
    "Mohn", "Nordlicht", "Opal", "Pappel", "Quarz", "Rabe", "Salbei", "Tanne", "Ulme", "Veilchen", "Wacholder",
    "Xenon", "Ysop", "Zeder", "Amsel", "Buche", "Chrom", "Distel", "Enzian", "Fichte", "Ginster", "Holunder", "Iris",
    "Jade", "Kobold", "Linde", "Malve", "Nickel", "Orkan", "Platin", "Rubin", "Saphir", "Topas",
)


def robot_maker(i: int) -> Business:
    return Business(f"{NAMES[i]} Robotik GmbH", f"Werkstr. {i + 1}, 70173 Stuttgart, Germany",
                    "Industrial robot manufacturer", phone=f"+49 711 {100000 + i}", website=f"http://{host(i)}/")


def host(i: int) -> str:
    return f"{NAMES[i].lower()}-robotik.de"


@pytest.fixture(scope="module")
def places_server() -> Iterator[GooglePlacesServer]:
    server = GooglePlacesServer().start()
    yield server
    server.stop()


@pytest.fixture
def google(places_server: GooglePlacesServer) -> GooglePlacesServer:
    return places_server.reset(key=KEY, businesses=[ROBOARM, WELDBOTS, SNACK_BAR])


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path, fake_web: LoopbackWeb,
                  google: GooglePlacesServer) -> AsyncIterator[Runtime]:
    for host in ("www.roboarm.com", "weldbots.de"):
        fake_web.add_site(company_site(host, host.split(".")[-2].title(), industry="industrial robots"))
    async with working(database_url, tmp_path, fake_web, [], places_provider="google", places_api_key=KEY,
                       places_url=google.base_url, search_interval_s=0.0) as runtime:
        yield runtime


async def until_done(runtime: Runtime, task_id: str) -> TaskView:
    caller = await accounts.local_caller(runtime.sessions)
    for _ in range(400):
        task = await runtime.service.get(caller, task_id)
        if task.status in ("done", "failed"):
            return task
        await asyncio.sleep(0.05)
    raise AssertionError("task did not finish")


async def test_maps_finds_local_businesses_with_their_address_and_phone(
    runtime: Runtime, google: GooglePlacesServer
) -> None:
    assert set(runtime.sources) == {"extruct_db", "maps"}, "places without a web search provider"
    task_id = await run_to_end(runtime, NewTask(query=QUERY, desired_num_results=25, auto_data_sources=False,
                                                data_sources=["maps"]))
    caller = await accounts.local_caller(runtime.sessions)
    page = await runtime.service.results(caller, task_id, offset=0, limit=50)
    assert page.task.status == "done", page.task.error
    assert {r.domain for r in page.results} == {"roboarm.com", "weldbots.de"}, "a listing without a site is no one"
    profiles = {r.domain: r.profile or {} for r in page.results}
    assert profiles["roboarm.com"]["phone"] == "+49 89 123456", "the international number first"
    assert profiles["weldbots.de"]["phone"] == "040 654321", "the national one when it is the only one"
    assert profiles["roboarm.com"]["address"] == "Leopoldstr. 1, 80802 München, Germany"
    assert profiles["roboarm.com"]["country"] == "Germany"
    assert page.task.search_requests == len(google.requests) > 0
    assert {(r.path, r.headers["x-goog-api-key"]) for r in google.requests} == {("/v1/places:searchText", KEY)}
    assert google.requests[0].json == {"textQuery": QUERY, "pageSize": 20}


async def test_auto_sources_leave_maps_out_until_asked_for(runtime: Runtime) -> None:
    caller = await accounts.local_caller(runtime.sessions)
    task = await runtime.service.create(caller, NewTask(query=QUERY))
    assert task.data_sources == ["extruct_db"]


async def test_asking_for_maps_without_a_places_provider_names_the_setting(
    database_url: str, tmp_path: Path, fake_web: LoopbackWeb
) -> None:
    async with working(database_url, tmp_path, fake_web, []) as runtime:
        caller = await accounts.local_caller(runtime.sessions)
        with pytest.raises(InvalidField, match="FIRMSCOUT_WEB__PLACES_PROVIDER") as refused:
            await runtime.service.create(caller, NewTask(query=QUERY, auto_data_sources=False, data_sources=["maps"]))
        assert refused.value.loc == ("body", "data_sources", 0) and refused.value.status_code == 422


async def test_a_resumed_task_continues_with_the_page_token(
    runtime: Runtime, google: GooglePlacesServer, fake_web: LoopbackWeb
) -> None:
    google.businesses = [robot_maker(i) for i in range(45)]
    for i in range(45):
        fake_web.add_site(company_site(host(i), f"{NAMES[i]} Robotik", industry="industrial robots"))
    task_id = await run_to_end(runtime, NewTask(query=QUERY, desired_num_results=5, auto_data_sources=False,
                                                data_sources=["maps"]))
    first = await until_done(runtime, task_id)
    assert (first.status, first.stop_reason) == ("done", "target_reached"), first.error
    asked_before = len(google.requests)
    assert [r.json.get("pageToken") for r in google.requests] == [None], "one page was enough for five"

    caller = await accounts.local_caller(runtime.sessions)
    await runtime.service.resume(caller, task_id, 20)
    resumed = await until_done(runtime, task_id)
    assert resumed.status == "done" and resumed.num_results >= 25, resumed.error
    after = google.requests[asked_before]
    assert after.json.get("pageToken") is not None, "not the first page again"
    assert google.tokens[after.json["pageToken"]] == (QUERY, 20), "the token Google gave for the second page"
    page = await runtime.service.results(caller, task_id, offset=0, limit=100)
    assert {host(i) for i in range(20, 40)} & {r.domain for r in page.results}, "businesses of the second page"
