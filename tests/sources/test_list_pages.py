"""The companies a list page names, as the `web_search` source takes them: from a list reader (an LLM) when
it has one, its sites checked against the shipped list, else from the page's links and their anchor text."""

from __future__ import annotations

from collections.abc import Sequence

from firmscout.entities import TokenUsage
from firmscout.errors import LLMError
from firmscout.sources.web_results import Named
from firmscout.sources.web_search import companies_listed
from firmscout.web.extract import Link, PageFacts

PAGE_URL = "http://robotblog.com/top-robot-companies"
ENTRIES = [Link(f"http://{host}/", "Visit website") for host in
           ("acme-robotics.com", "borgautomation.de", "cobaltarms.com", "deltadyn.com", "epsilonbots.fr")]
NOISE = [Link("https://twitter.com/robotblog", "Follow us"), Link("http://robotblog.com/about", "About"),
         Link("http://www.linkedin.com/company/acme", "Acme on LinkedIn")]


def _page(links: Sequence[Link]) -> PageFacts:
    return PageFacts(url=PAGE_URL, title="Top 5 robot companies", name=None, description=None, country=None,
                     city=None, founded_year=None, employees=None, same_as=(), linkedin_url=None,
                     text="Acme Robotics. Borg Automation.", headings=(), links=tuple(links))


class ScriptedReader:
    def __init__(self, companies: list[Link] | None = None, error: LLMError | None = None) -> None:
        self.result = companies or []
        self.error = error
        self.offered: list[Link] = []

    async def companies(self, facts: PageFacts, links: Sequence[Link]) -> tuple[list[Link], TokenUsage]:
        self.offered = list(links)
        if self.error is not None:
            raise self.error
        return self.result, TokenUsage(120, 30)


async def test_without_a_reader_the_links_anchor_texts_name_the_companies() -> None:
    named, usage = await companies_listed(_page([*ENTRIES, *NOISE]), None)
    assert [n.domain for n in named] == ["acme-robotics.com", "borgautomation.de", "cobaltarms.com",
                                         "deltadyn.com", "epsilonbots.fr"]
    assert {n.name for n in named} == {""}, "'Visit website' names nothing"
    assert usage == TokenUsage()


async def test_the_reader_names_the_companies_and_its_tokens_are_counted() -> None:
    reader = ScriptedReader([Link("http://acme-robotics.com/", "Acme Robotics"),
                             Link("http://borgautomation.de/", "Borg Automation")])
    named, usage = await companies_listed(_page([*ENTRIES, *NOISE]), reader)
    assert named == [Named("acme-robotics.com", "Acme Robotics", "http://acme-robotics.com/"),
                     Named("borgautomation.de", "Borg Automation", "http://borgautomation.de/")]
    assert usage == TokenUsage(120, 30)


async def test_the_reader_is_offered_only_links_that_may_be_candidates() -> None:
    reader = ScriptedReader()
    await companies_listed(_page([*ENTRIES, *NOISE]), reader)
    assert reader.offered == ENTRIES, "no social network, profile or link to the page's own site"


async def test_a_social_network_link_from_the_reader_is_dropped() -> None:
    reader = ScriptedReader([Link("https://twitter.com/acme", "Acme Robotics"),
                             Link("http://www.linkedin.com/company/acme", "Acme Robotics"),
                             Link("http://robotblog.com/acme", "Acme Robotics"),
                             Link("http://borgautomation.de/", "Borg Automation")])
    named, _ = await companies_listed(_page([*ENTRIES, *NOISE]), reader)
    assert [n.domain for n in named] == ["borgautomation.de"]


async def test_fewer_than_five_linked_companies_still_count_with_a_reader() -> None:
    reader = ScriptedReader([Link("http://acme-robotics.com/", "Acme Robotics")])
    assert await companies_listed(_page(ENTRIES[:1]), None) == ([], TokenUsage())
    named, _ = await companies_listed(_page(ENTRIES[:1]), reader)
    assert [n.name for n in named] == ["Acme Robotics"]


async def test_when_the_llm_fails_the_anchor_texts_are_taken() -> None:
    reader = ScriptedReader(error=LLMError("LLM endpoint failed 4 times (last: HTTP 503)", transient=True))
    named, usage = await companies_listed(_page([*ENTRIES, *NOISE]), reader)
    assert len(named) == len(ENTRIES) and usage == TokenUsage()


async def test_a_page_linking_no_possible_candidate_is_not_sent_to_the_llm() -> None:
    reader = ScriptedReader(error=LLMError("must not be asked"))
    assert await companies_listed(_page(NOISE), reader) == ([], TokenUsage())
    assert reader.offered == []
