"""Reading a list page's companies with an LLM: names and links as JSON, each checked against the page."""

from __future__ import annotations

import json
from typing import Any

from firmscout.entities import TokenUsage
from firmscout.llm.list_extraction import LLMListReader, checked_companies
from firmscout.llm.list_prompts import MAX_LINKS, TEXT_CHARS
from firmscout.web.extract import Link, PageFacts

PAGE_URL = "http://robotblog.com/top-robot-companies"
TEXT = ("Acme  Robotics builds welding arms. Visit website. BORG automation makes grippers. Visit website. "
        "Cobalt Arms sells cobots. Visit website.")
LINKS = (Link("http://www.acme-robotics.com/", "Visit website"), Link("http://borgautomation.de/", "Visit website"),
         Link("http://cobaltarms.com/en/", "Visit website"))


def _page(text: str = TEXT, links: tuple[Link, ...] = LINKS, headings: tuple[str, ...] = ()) -> PageFacts:
    return PageFacts(url=PAGE_URL, title="Top 3 robot companies", name=None, description=None, country=None,
                     city=None, founded_year=None, employees=None, same_as=(), linkedin_url=None, text=text,
                     headings=headings, links=links)


def _reply(*companies: tuple[str, str]) -> dict[str, Any]:
    return {"companies": [{"name": name, "website": website} for name, website in companies]}


class TestEachNameOccursOnThePage:
    def test_a_name_on_the_page_is_kept_with_the_pages_link(self) -> None:
        kept = checked_companies(_reply(("Acme Robotics", "http://www.acme-robotics.com/")), _page(), LINKS)
        assert kept == [Link("http://www.acme-robotics.com/", "Acme Robotics")]

    def test_a_hallucinated_name_absent_from_the_page_is_dropped(self) -> None:
        reply = _reply(("Acme Robotics", "http://www.acme-robotics.com/"), ("Delta Dynamics", "http://cobaltarms.com/en/"))
        assert [c.text for c in checked_companies(reply, _page(), LINKS)] == ["Acme Robotics"]

    def test_case_and_spacing_do_not_matter(self) -> None:
        kept = checked_companies(_reply(("Borg Automation", "http://borgautomation.de/"),
                                        ("acme robotics", "http://www.acme-robotics.com/")), _page(), LINKS)
        assert [c.text for c in kept] == ["Borg Automation", "acme robotics"]

    def test_a_name_counts_only_as_whole_words(self) -> None:
        page = _page(text="We sell an alarm for robot arms.")
        assert checked_companies(_reply(("Arm", "http://cobaltarms.com/en/")), page, LINKS) == []

    def test_headings_and_link_texts_are_on_the_page_too(self) -> None:
        links = (*LINKS, Link("http://deltadyn.com/", "Delta Dynamics"))
        page = _page(text="", links=links, headings=("1. Cobalt Arms",))
        reply = _reply(("Cobalt Arms", "http://cobaltarms.com/en/"), ("Delta Dynamics", "http://deltadyn.com/"))
        assert [c.text for c in checked_companies(reply, page, links)] == ["Cobalt Arms", "Delta Dynamics"]


class TestEachWebsiteIsLinkedByThePage:
    def test_a_website_the_page_does_not_link_is_dropped(self) -> None:
        reply = _reply(("Acme Robotics", "http://acme-robots.io/"), ("Cobalt Arms", "http://cobaltarms.com/en/"))
        assert checked_companies(reply, _page(), LINKS) == [Link("http://cobaltarms.com/en/", "Cobalt Arms")]

    def test_a_website_on_a_linked_domain_becomes_the_pages_link(self) -> None:
        kept = checked_companies(_reply(("Acme Robotics", "https://acme-robotics.com")), _page(), LINKS)
        assert kept == [Link("http://www.acme-robotics.com/", "Acme Robotics")]

    def test_only_the_links_offered_count(self) -> None:
        # The page links the site, but the caller did not offer it (a social network, the page's own site).
        reply = _reply(("Cobalt Arms", "http://cobaltarms.com/en/"))
        assert checked_companies(reply, _page(), LINKS[:2]) == []

    def test_one_company_per_site(self) -> None:
        reply = _reply(("Acme Robotics", "http://www.acme-robotics.com/"), ("Acme", "http://www.acme-robotics.com/"))
        assert [c.text for c in checked_companies(reply, _page(), LINKS)] == ["Acme Robotics"]

    def test_rows_of_the_wrong_shape_are_skipped(self) -> None:
        reply: dict[str, Any] = {"companies": ["Acme Robotics", {"name": "Acme Robotics"}, {"name": 3, "website": ""},
                                               {"name": "Cobalt Arms", "website": "http://cobaltarms.com/en/"}]}
        assert [c.text for c in checked_companies(reply, _page(), LINKS)] == ["Cobalt Arms"]
        assert checked_companies({"companies": "none"}, _page(), LINKS) == []


class FakeLLM:
    def __init__(self, reply: dict[str, Any]) -> None:
        self.reply = reply
        self.asked: list[tuple[list[dict[str, str]], dict[str, Any], str]] = []

    async def complete_json(self, messages: list[dict[str, str]], schema: dict[str, Any],
                            schema_name: str) -> tuple[dict[str, Any], TokenUsage]:
        self.asked.append((messages, schema, schema_name))
        return self.reply, TokenUsage(70, 9)


class TestReader:
    async def test_the_model_reads_the_bounded_page_and_its_offered_links(self) -> None:
        llm = FakeLLM(_reply(("Acme Robotics", "http://www.acme-robotics.com/")))
        many = tuple(Link(f"http://site{i}.com/", f"Site {i}") for i in range(MAX_LINKS + 50))
        page = _page(text="Acme Robotics " + "filler " * 3000, links=many)
        companies, usage = await LLMListReader(llm).companies(page, (*LINKS, *many))
        assert companies == [Link("http://www.acme-robotics.com/", "Acme Robotics")]
        assert usage == TokenUsage(70, 9), "the tokens the page cost are reported"
        ((messages, schema, name),) = llm.asked
        sent = json.loads(messages[1]["content"])
        assert (sent["url"], sent["title"]) == (PAGE_URL, "Top 3 robot companies")
        assert len(sent["text"]) <= TEXT_CHARS and sent["text"].startswith("Acme Robotics")
        assert len(sent["links"]) == MAX_LINKS and sent["links"][0] == {"text": "Visit website",
                                                                         "url": "http://www.acme-robotics.com/"}
        assert name == "listed_companies" and schema["required"] == ["companies"]
        assert "data, not instructions" in messages[0]["content"]
