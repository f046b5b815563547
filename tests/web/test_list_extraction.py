"""The `web_search` source reading a ranking page with an LLM, end to end: a SearXNG-compatible search server,
the page served by the loopback web through the guarded fetcher, and a scripted OpenAI-compatible model.

The ranking names each company in a heading and links its site as "Visit website", which anchor text cannot
name; the model names them, and whatever it invents is not a candidate.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.config import WebSettings
from firmscout.entities import SearchRequest, TokenUsage
from firmscout.llm.list_extraction import LLMListReader
from firmscout.llm.openai_compatible import OpenAICompatibleLLM
from firmscout.sources.search.base import SearchProvider
from firmscout.sources.search.registry import build_provider
from firmscout.sources.web_search import WebSearchSource
from firmscout.web.fetch import Fetcher
from firmscout.web.pages import PageReader
from tests.servers.chat_completions import ChatCompletionsServer, Reply
from tests.servers.search_api import Doc, SearchApiServer
from tests.servers.web import LoopbackWeb, Site, html_page
from tests.web.test_fetch import seam

QUERY = "industrial robot makers in Germany"
RANKING_URL = "http://robotblog.com/top-robot-companies"
# Registered domains: `.example` hosts have none, so they could never be candidates.
ENTRIES = {"Acme Robotics": "acme-robotics.com", "Borg Automation": "borgautomation.de",
           "Cobalt Arms": "cobaltarms.com", "Delta Dynamics": "deltadyn.com", "Epsilon Bots": "epsilonbots.fr"}
AD = "http://cheap-printers.com/"


def _ranking_page() -> str:
    entries = "".join(f'<article><h2>{i}. {name}</h2><p>{name} builds industrial robots for car plants and '
                      f'logistics centres across Europe.</p><a href="http://{host}/">Visit website</a></article>'
                      for i, (name, host) in enumerate(ENTRIES.items(), start=1))
    return (f"<main><h1>Top 5 industrial robot companies in Germany</h1>{entries}</main>"
            f'<aside><a href="{AD}">Sponsored: printers at half price</a> '
            '<a href="https://twitter.com/robotblog">Follow us</a></aside>')


def _model_reply() -> str:
    """Every entry, plus two the model invents: a name the page never writes (on the ad's link), and a site
    the page never links."""
    companies = [{"name": name, "website": f"http://{host}/"} for name, host in ENTRIES.items()]
    companies += [{"name": "Zeta Industries", "website": AD},
                  {"name": "Acme Robotics", "website": "http://acme-robotics-shop.com/"}]
    return json.dumps({"companies": companies})


@pytest.fixture
async def provider(search_server: SearchApiServer) -> AsyncIterator[SearchProvider]:
    search_server.reset(provider="searxng", corpus=[
        Doc(RANKING_URL, "Top 5 industrial robot companies in Germany", "Our ranking of robot makers.")])
    built = build_provider(WebSettings(search_provider="searxng", search_url=search_server.base_url,
                                       search_timeout_s=5.0, search_interval_s=0.0))
    assert built is not None
    yield built
    await built.aclose()


@pytest.fixture
async def pages(fake_web: LoopbackWeb, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[PageReader]:
    fake_web.add_site(Site("robotblog.com", {"/top-robot-companies": html_page("Top 5 robot companies",
                                                                                _ranking_page())}))
    fetcher = Fetcher(WebSettings(proxy_url=fake_web.proxy_url, per_host_delay_s=0.0, deadline_s=5.0),
                      resolver=seam)
    yield PageReader(fetcher, sessions, WebSettings())
    await fetcher.aclose()


@pytest.fixture
def chat_server() -> Iterator[ChatCompletionsServer]:
    server = ChatCompletionsServer().start()
    yield server
    server.stop()


def _reader(chat: ChatCompletionsServer) -> LLMListReader:
    return LLMListReader(OpenAICompatibleLLM(base_url=chat.base_url, model="scripted-1", timeout_s=5.0,
                                             backoff_s=0.01))


async def _search(source: WebSearchSource) -> tuple[dict[str, str], TokenUsage]:
    page = await source.search(SearchRequest(query=QUERY, terms=()), None, 50)
    return {hit.domain: hit.name for hit in page.hits}, page.usage


async def test_the_llm_names_a_rankings_companies_and_what_it_invents_is_not_a_candidate(
    provider: SearchProvider, pages: PageReader, chat_server: ChatCompletionsServer
) -> None:
    chat_server.script.append(Reply(content=_model_reply()))
    found, usage = await _search(WebSearchSource(provider, pages, lists=_reader(chat_server)))
    assert found == {host: name for name, host in ENTRIES.items()}
    assert "cheap-printers.com" not in found and "acme-robotics-shop.com" not in found
    assert usage == TokenUsage(100, 20), "the tokens are the task's to count"
    ((_, asked),) = chat_server.requests
    sent = json.loads(asked["messages"][-1]["content"])
    assert sent["url"] == RANKING_URL and "Acme Robotics" in sent["text"]
    assert {link["url"] for link in sent["links"]} == {*(f"http://{h}/" for h in ENTRIES.values()), AD}


async def test_without_an_llm_the_entries_are_only_their_links(provider: SearchProvider, pages: PageReader) -> None:
    found, usage = await _search(WebSearchSource(provider, pages))
    # "Visit website" names nothing, so each entry is its domain; the sidebar's ad is taken as a company.
    assert found == {**{host: host for host in ENTRIES.values()},
                     "cheap-printers.com": "Sponsored: printers at half price"}
    assert usage == TokenUsage()


async def test_an_llm_failure_falls_back_to_the_links(
    provider: SearchProvider, pages: PageReader, chat_server: ChatCompletionsServer
) -> None:
    chat_server.script.append(Reply(status=401))  # a bad key: permanent, so not retried
    found, usage = await _search(WebSearchSource(provider, pages, lists=_reader(chat_server)))
    assert set(ENTRIES.values()) <= set(found) and usage == TokenUsage()
