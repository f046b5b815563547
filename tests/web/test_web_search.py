"""The `web_search` source end to end: a SearXNG-compatible search server and a generated web on loopback.

The search server answers every search with the same results: companies' own sites, a ranking page on a
blog naming companies that nothing else lists, a LinkedIn company page, and noise (a social network, a job
board). The task finds companies that are in no database, each graded from its own website.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from firmscout.errors import InvalidField
from firmscout.sources.web_search import WebSearchSource
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import NewTask
from tests.servers.search_api import Doc, Fault, Listing, SearchApiServer
from tests.servers.web import LoopbackWeb, Site, company_site, html_page
from tests.web.reading import run_to_end, working

OWN_SITES = ["roboarm.com", "weldbots.de"]
LISTED_ONLY = ["gripworks.com", "axisdrive.de", "palletpro.com", "cobotix.de", "servoline.com"]
ON_LINKEDIN = "linkedbots.com"
QUERY = "industrial robot makers in Germany"


def _ranking_page() -> str:
    items = "".join(f'<li><a href="http://www.{host}/">{host.split(".")[0].title()} GmbH</a></li>'
                    for host in LISTED_ONLY)
    return (f"<h1>Top 5 industrial robot companies in Germany</h1><ol>{items}</ol>"
            '<p><a href="https://twitter.com/robotblog">Follow us</a> <a href="/about">About</a></p>')


@pytest.fixture
def searxng(search_server: SearchApiServer) -> SearchApiServer:
    return search_server.reset(provider="searxng", corpus=[
        Doc("http://www.roboarm.com/", "RoboArm | Industrial robots from Munich", "RoboArm builds robot arms."),
        Doc("http://robotblog.com/top-robot-companies", "Top 5 industrial robot companies in Germany", "Our list"),
        # http: the loopback proxy serves no https (CONNECT), and the fetcher is asked for what the result says.
        Doc("http://www.linkedin.com/company/linkedbots", "LinkedBots | LinkedIn", "Robot cells."),
        Doc("https://www.facebook.com/roboarm", "RoboArm - Facebook", "Like us"),
        Doc("https://www.indeed.com/cmp/weldbots", "WeldBots jobs", "Jobs at WeldBots"),
        Doc("http://weldbots.de/", "WeldBots – welding robots", "Welding robots made in Germany."),
    ])


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path, fake_web: LoopbackWeb,
                  searxng: SearchApiServer) -> AsyncIterator[Runtime]:
    for host in (*OWN_SITES, *LISTED_ONLY, ON_LINKEDIN):
        fake_web.add_site(company_site(host, host.split(".")[0].title(), industry="industrial robots",
                                       country="Germany"))
    fake_web.add_site(Site("robotblog.com", {
        "/top-robot-companies": html_page("Top 5 robot companies", _ranking_page())}))
    profile = html_page("LinkedBots | LinkedIn", '<a href="https://www.linkedin.com/feed">Feed</a> '
                                                 '<a href="http://linkedbots.com/">linkedbots.com</a>')
    fake_web.add_site(Site("www.linkedin.com", {"/company/linkedbots": profile}))
    async with working(database_url, tmp_path, fake_web, [], search_provider="searxng",
                       search_url=searxng.base_url, search_interval_s=0.0) as runtime:
        yield runtime


async def test_a_task_finds_companies_in_no_database_each_graded_from_its_site(
    runtime: Runtime, searxng: SearchApiServer
) -> None:
    task_id = await run_to_end(runtime, NewTask(query=QUERY, desired_num_results=25, auto_data_sources=False,
                                                data_sources=["web_search"]))
    caller = await accounts.local_caller(runtime.sessions)
    page = await runtime.service.results(caller, task_id, offset=0, limit=50)
    assert page.task.status == "done", page.task.error
    found = {r.domain for r in page.results}
    assert found == {*OWN_SITES, *LISTED_ONLY, ON_LINKEDIN}, "own sites, a ranking's companies, a LinkedIn page's"
    for result in page.results:
        cited = {url for score in (result.scores or {}).values() for url in score["sources"]}
        assert any(result.domain in url for url in cited), (result.domain, cited)
    asked = [r.params["q"] for r in searxng.requests]
    assert asked[0] == QUERY and "list of industrial robot companies in Germany" in asked
    assert page.task.search_requests == len(asked) and page.task.pages_fetched > 0


async def test_social_networks_and_job_boards_are_never_candidates(runtime: Runtime) -> None:
    source = runtime.sources["web_search"]
    assert isinstance(source, WebSearchSource)
    task_id = await run_to_end(runtime, NewTask(query=QUERY, desired_num_results=5, auto_data_sources=False,
                                                data_sources=["web_search"]))
    caller = await accounts.local_caller(runtime.sessions)
    page = await runtime.service.results(caller, task_id, offset=0, limit=50)
    assert not {"facebook.com", "indeed.com", "linkedin.com", "robotblog.com", "twitter.com"} & {
        r.domain for r in page.results}


async def test_auto_sources_include_web_search_once_a_provider_is_set(runtime: Runtime) -> None:
    assert set(runtime.sources) == {"extruct_db", "web_search", "linkedin"}
    caller = await accounts.local_caller(runtime.sessions)
    task = await runtime.service.create(caller, NewTask(query=QUERY))
    assert task.data_sources == ["extruct_db", "web_search"], "linkedin only when asked for"


async def test_linkedin_finds_company_pages_and_resolves_them_to_websites(
    runtime: Runtime, searxng: SearchApiServer, fake_web: LoopbackWeb
) -> None:
    # A company page behind LinkedIn's login wall names no website: a search for its official website does,
    # confirmed by the homepage bearing the name.
    fake_web.add_site(Site("www.linkedin.com", {
        "/company/linkedbots": html_page("LinkedBots | LinkedIn", '<a href="http://linkedbots.com/">Website</a>'),
        "/company/hidden-robotics": html_page("Sign in | LinkedIn", '<a href="/login">Sign in</a>')}))
    fake_web.add_site(company_site("hiddenrobotics.de", "Hidden Robotics", industry="industrial robots"))
    searxng.corpus = [
        Doc("http://hiddenrobotics.de/", "Hidden Robotics GmbH", "Robot cells."),
        Doc("http://www.linkedin.com/company/linkedbots", "LinkedBots | LinkedIn", "Robot cells."),
        Doc("http://www.linkedin.com/company/hidden-robotics", "Hidden Robotics | LinkedIn", "Robots."),
        Doc("http://www.roboarm.com/", "RoboArm | Industrial robots", "Not a LinkedIn page: not taken here."),
    ]
    task_id = await run_to_end(runtime, NewTask(query=QUERY, desired_num_results=25, auto_data_sources=False,
                                                data_sources=["linkedin"]))
    caller = await accounts.local_caller(runtime.sessions)
    page = await runtime.service.results(caller, task_id, offset=0, limit=50)
    assert page.task.status == "done", page.task.error
    assert {r.domain for r in page.results} == {"linkedbots.com", "hiddenrobotics.de"}
    asked = [r.params["q"] for r in searxng.requests]
    assert asked[0] == f"site:linkedin.com/company {QUERY}" and "Hidden Robotics official website" in asked
    assert page.task.search_requests == len(asked)


async def test_asking_for_web_search_without_a_provider_names_the_setting(
    database_url: str, tmp_path: Path, fake_web: LoopbackWeb
) -> None:
    async with working(database_url, tmp_path, fake_web, []) as runtime:
        caller = await accounts.local_caller(runtime.sessions)
        with pytest.raises(InvalidField, match="FIRMSCOUT_WEB__SEARCH_PROVIDER") as refused:
            await runtime.service.create(caller, NewTask(query=QUERY, auto_data_sources=False,
                                                         data_sources=["web_search"]))
        assert refused.value.loc == ("body", "data_sources", 0)



async def test_a_provider_failing_mid_task_keeps_what_was_found_and_says_why(
    runtime: Runtime, searxng: SearchApiServer
) -> None:
    searxng.corpus = searxng.corpus[:1]  # the first page names one company's own site
    searxng.fail(Fault(), times=1)  # the first search answers
    searxng.fail(Fault(status=403), times=20)  # then the instance refuses every search: a failure for good
    task_id = await run_to_end(runtime, NewTask(query=QUERY, desired_num_results=25, auto_data_sources=False,
                                                data_sources=["web_search"]))
    caller = await accounts.local_caller(runtime.sessions)
    page = await runtime.service.results(caller, task_id, offset=0, limit=50)
    assert (page.task.status, page.task.stop_reason) == ("done", "source_failed")
    assert page.task.error is not None and "web_search: Search provider 'searxng'" in page.task.error
    assert "search.formats" in page.task.error
    assert [r.domain for r in page.results] == ["roboarm.com"]


async def test_a_task_stops_when_its_search_budget_is_spent(runtime: Runtime, searxng: SearchApiServer) -> None:
    task_id = await run_to_end(runtime, NewTask(query=QUERY, desired_num_results=250, auto_data_sources=False,
                                                data_sources=["web_search"], search_budget=2))
    caller = await accounts.local_caller(runtime.sessions)
    task = await runtime.service.get(caller, task_id)
    assert (task.status, task.stop_reason) == ("done", "budget_exhausted")
    assert task.search_requests == 2 == len(searxng.requests)
    assert task.num_results > 0, "what the two searches found is kept"


async def test_pages_read_to_find_companies_count_in_usage_and_the_page_budget(runtime: Runtime) -> None:
    # One page may be fetched: the ranking (the first result to read) takes it, so the LinkedIn page after
    # it is not read, and no website is.
    task_id = await run_to_end(runtime, NewTask(query=QUERY, desired_num_results=25, auto_data_sources=False,
                                                data_sources=["web_search"], page_budget=1))
    caller = await accounts.local_caller(runtime.sessions)
    page = await runtime.service.results(caller, task_id, offset=0, limit=50)
    assert (page.task.pages_fetched, page.task.stop_reason) == (1, "budget_exhausted")
    assert page.task.web_bytes > 0
    assert page.task.num_results_discovered == len(OWN_SITES) + len(LISTED_ONLY), "the LinkedIn page is not read"


async def test_one_company_on_two_domains_is_one_result(
    runtime: Runtime, searxng: SearchApiServer, fake_web: LoopbackWeb
) -> None:
    fake_web.add_site(company_site("roboarm.de", "RoboArm", industry="industrial robots", country="Germany"))
    searxng.corpus = [*searxng.corpus, Doc("http://roboarm.de/", "RoboArm GmbH | Roboter", "Roboterarme.")]
    task_id = await run_to_end(runtime, NewTask(query=QUERY, desired_num_results=25, auto_data_sources=False,
                                                data_sources=["web_search"]))
    caller = await accounts.local_caller(runtime.sessions)
    page = await runtime.service.results(caller, task_id, offset=0, limit=50)
    found = [r.domain for r in page.results]
    assert len({"roboarm.com", "roboarm.de"} & set(found)) == 1, found
    assert page.task.candidates_removed is not None and page.task.candidates_removed["duplicates"] >= 1


async def test_a_search_whose_page_brings_nothing_new_is_not_paged_further(
    runtime: Runtime, searxng: SearchApiServer
) -> None:
    # The scripted engine answers every search alike: from the second search on, its first page repeats
    # what the task has, so the task moves to the next search instead of asking that one's later pages.
    task_id = await run_to_end(runtime, NewTask(query=QUERY, desired_num_results=250, auto_data_sources=False,
                                                data_sources=["web_search"]))
    caller = await accounts.local_caller(runtime.sessions)
    task = await runtime.service.get(caller, task_id)
    asked = [(r.params["q"], r.params["pageno"]) for r in searxng.requests]
    planned = (await runtime.service.plan(caller, task_id)).web_searches
    assert asked == [(QUERY, "1"), (QUERY, "2"), *((search, "1") for search in planned[1:])]
    assert (task.stop_reason, task.search_requests) == ("exhausted", len(asked))


@pytest.fixture
async def maps_runtime(database_url: str, tmp_path: Path, fake_web: LoopbackWeb,
                       search_server: SearchApiServer) -> AsyncIterator[tuple[Runtime, SearchApiServer]]:
    serper = search_server.reset(provider="serper", listings=[
        Listing("RoboArm GmbH", "Leopoldstr. 1, 80802 München, Germany", "Robot manufacturer",
                phone="+49 89 123456", website="http://www.roboarm.com/"),
        Listing("WeldBots", "Hafenstr. 2, 20457 Hamburg, Germany", "Industrial equipment supplier",
                website="http://weldbots.de/"),
        Listing("Roboter-Imbiss", "Marktplatz 3, 80331 München, Germany", "Snack bar"),  # no website
    ])
    for host in OWN_SITES:
        fake_web.add_site(company_site(host, host.split(".")[0].title(), industry="industrial robots",
                                       country="Germany"))
    async with working(database_url, tmp_path, fake_web, [], search_provider="serper", search_url=serper.base_url,
                       search_api_key=serper.key, search_interval_s=0.0) as runtime:
        yield runtime, serper


async def test_maps_lists_local_businesses_with_their_address_and_phone(
    maps_runtime: tuple[Runtime, SearchApiServer]
) -> None:
    runtime, serper = maps_runtime
    assert set(runtime.sources) == {"extruct_db", "web_search", "linkedin", "maps"}
    task_id = await run_to_end(runtime, NewTask(query=QUERY, desired_num_results=25, auto_data_sources=False,
                                                data_sources=["maps"]))
    caller = await accounts.local_caller(runtime.sessions)
    page = await runtime.service.results(caller, task_id, offset=0, limit=50)
    assert page.task.status == "done", page.task.error
    assert {r.domain for r in page.results} == {"roboarm.com", "weldbots.de"}, "a listing without a site is no one"
    roboarm = next(r for r in page.results if r.domain == "roboarm.com")
    assert roboarm.profile is not None and roboarm.profile["phone"] == "+49 89 123456"
    assert roboarm.profile["address"].startswith("Leopoldstr. 1") and roboarm.profile["country"] == "Germany"
    assert {r.path for r in serper.requests} == {"/places"}
