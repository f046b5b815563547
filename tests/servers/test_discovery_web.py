"""The generated web that `bench.web_discovery` measures against: its truth is reachable and its engine
ranks as a search engine does."""

from __future__ import annotations

from firmscout.domains import registered_domain
from tests.servers.discovery_web import MAKERS_PER_QUERY, TOPICS, discovery_web


def test_the_same_seed_makes_the_same_web() -> None:
    first, again = discovery_web(3), discovery_web(3)
    assert first.truth == again.truth and [d.doc for d in first.index] == [d.doc for d in again.index]
    assert discovery_web(4).truth != first.truth


def test_each_query_has_its_makers_as_truth_and_some_only_reachable_through_other_pages() -> None:
    web = discovery_web()
    indexed = {registered_domain(d.doc.url) for d in web.index}
    for topic in TOPICS:
        truth = web.truth[topic.query]
        assert len(truth) == MAKERS_PER_QUERY
        assert all(web.firms[d].country == topic.country for d in truth)
        assert truth - indexed, "a third of the makers have no indexed homepage"


def test_most_makers_are_linked_from_lists_directories_or_profiles() -> None:
    web = discovery_web()
    linked = {registered_domain(url) for site in web.sites.values() for page in site.pages.values()
              for url in _links(page.body.decode())}
    for truth in web.truth.values():
        assert len(truth & linked) >= len(truth) * 0.6, "lists, directories and profiles name most makers"


def test_the_engine_ranks_pages_by_the_query_words_and_honours_site() -> None:
    web = discovery_web()
    query = TOPICS[0].query
    top = web.search(query)[:10]
    assert top and all(any(word in f"{d.title} {d.snippet}".lower() for word in ("robot", "germany")) for d in top)
    profiles = web.search(f"site:linkedin.com/company {query}")
    assert profiles and all(d.url.startswith("http://www.linkedin.com/company/") for d in profiles)
    assert web.search("zzzz nothing matches") == []


def _links(html: str) -> list[str]:
    return [part.split('"', 1)[0] for part in html.split('href="')[1:]]


def test_some_makers_are_hard_to_read() -> None:
    web = discovery_web()
    makers = [d for truth in web.truth.values() for d in truth]
    homes = {d: web.sites[f"www.{d}"].pages["/"] for d in makers}
    down = [d for d, page in homes.items() if page.status == 503]
    other_words = [d for d, page in homes.items() if page.status == 200 and
                   TOPICS[web.firms[d].topic].industry.encode() not in page.body]
    assert 0.05 < len(down) / len(makers) < 0.2
    assert 0.05 < len(other_words) / len(makers) < 0.35, "a fifth never use the industry's usual name"
