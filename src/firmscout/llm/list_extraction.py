"""The companies a list page names, read by an LLM and checked against the page.

The model reads the page's text, headings and outbound links and replies with names and websites. Neither is
trusted: a name must occur in the page's own words and a website must be a link the page has (or on the same
registered domain), so neither a model nor a page talking to it can add a company or a site the page does not
name and link.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from firmscout.domains import registered_domain
from firmscout.llm.base import LLM, Usage
from firmscout.llm.evidence import normalise
from firmscout.llm.list_prompts import SCHEMA, SCHEMA_NAME, list_messages
from firmscout.web.extract import Link, PageFacts

log = logging.getLogger(__name__)

# Longer is a sentence, not a name.
MAX_NAME_CHARS = 200


def page_words(facts: PageFacts) -> list[str]:
    """Everything the page shows a reader, normalised as names are compared: title, headings, text, link texts."""
    texts = [facts.title, *facts.headings, facts.text, *(link.text for link in facts.links)]
    return [normalise(text) for text in texts if text]


def named_on_page(name: str, words: Sequence[str]) -> bool:
    """Whether `name` occurs in one of the page's `words` (`page_words`) as whole words, case and spacing aside."""
    wanted = normalise(name)
    if not wanted:
        return False
    # Whole words: "Arm" is not named by "Alarm".
    pattern = re.compile(rf"(?<!\w){re.escape(wanted)}(?!\w)")
    return any(pattern.search(text) for text in words)


def linked_url(website: str, links: Sequence[Link]) -> str | None:
    """The page's link for a website the model gave: the same URL, else the first link on its registered domain
    (the model may drop a `www.` or a path); None when the page links no such site."""
    wanted = website.strip()
    if any(link.url == wanted for link in links):
        return wanted
    domain = registered_domain(wanted)
    return next((link.url for link in links if domain and registered_domain(link.url) == domain), None)


def checked_companies(reply: dict[str, Any], facts: PageFacts, links: Sequence[Link]) -> list[Link]:
    """The reply's companies the page bears out, as links (URL: the page's link to the site, text: the name),
    one per registered domain: the name occurs on the page and the website is one of `links`. The rest is
    dropped. Checked here whatever the adapter checked: any `LLM` may stand behind the reader."""
    rows = reply.get("companies")
    rows = [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []
    words = page_words(facts)
    kept: dict[str, Link] = {}
    for row in rows:
        name, website = row.get("name"), row.get("website")
        if not (isinstance(name, str) and isinstance(website, str)):
            continue
        name = " ".join(name.split())
        url = linked_url(website, links)
        if url is not None and len(name) <= MAX_NAME_CHARS and named_on_page(name, words):
            kept.setdefault(registered_domain(url) or url, Link(url=url, text=name))
    if dropped := len(rows) - len(kept):
        log.info("list page %s: %d of the model's %d companies dropped (repeated, not named on the page, or "
                 "their site not linked)", facts.url, dropped, len(rows))
    return list(kept.values())


class LLMListReader:
    """`ListReader` (`sources.web_search`) over any `LLM`: one request per page, its reply checked by
    `checked_companies`. Raises `LLMError` as the LLM does."""

    def __init__(self, llm: LLM) -> None:
        self._llm = llm

    async def companies(self, facts: PageFacts, links: Sequence[Link]) -> tuple[list[Link], Usage]:
        """The companies `facts`' page names, each with its site among `links` (the page's outbound links that
        may be candidates), and the tokens the request cost."""
        reply, usage = await self._llm.complete_json(list_messages(facts, links), SCHEMA, SCHEMA_NAME)
        return checked_companies(reply, facts, links), usage
