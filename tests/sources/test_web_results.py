"""What a web search result is: a company's site, a list page, a profile, or nothing to take."""

from __future__ import annotations

from firmscout.sources.web_results import Kind, classify, companies_named, known_kind, website_on_profile
from firmscout.web.extract import Link, PageFacts


def _page(url: str, links: list[tuple[str, str]]) -> PageFacts:
    return PageFacts(url=url, title=None, name=None, description=None, country=None, city=None, founded_year=None,
                     employees=None, same_as=(), linkedin_url=None, text=None, headings=(),
                     links=tuple(Link(u, t) for u, t in links))


class TestClassify:
    def test_a_companys_own_site_is_a_candidate(self) -> None:
        assert classify("https://www.acme-robotics.com/products", "Acme Robotics | Industrial arms") is Kind.COMPANY

    def test_social_networks_job_boards_and_search_engines_are_never_candidates(self) -> None:
        for url in ("https://www.facebook.com/acme", "https://www.indeed.com/cmp/acme", "https://bit.ly/x",
                    "https://apps.apple.com/app/acme", "https://www.google.com/search?q=acme"):
            assert classify(url, "Acme") is Kind.NEVER, url

    def test_profiles_and_lists_by_the_shipped_list(self) -> None:
        assert classify("https://www.linkedin.com/company/acme", "Acme | LinkedIn") is Kind.PROFILE
        assert classify("https://en.wikipedia.org/wiki/Acme", "Acme - Wikipedia") is Kind.PROFILE
        assert classify("https://www.g2.com/categories/crm", "Best CRM Software") is Kind.LIST
        assert known_kind("https://techcrunch.com/2024/01/01/acme") is Kind.LIST

    def test_an_unknown_site_ranking_companies_is_a_list(self) -> None:
        assert classify("https://blog.example.com/top-robotics", "Top 10 robotics companies in Japan") is Kind.LIST
        assert classify("https://www.acme-robotics.com/", "Acme Robotics: the best robots") is Kind.COMPANY

    def test_a_url_without_a_registered_domain_is_nothing(self) -> None:
        assert classify("http://10.0.0.1/", "Router") is Kind.NEVER


LINKS = [("https://www.alpha.com/", "Alpha Robotics"), ("https://beta.io/about", "Beta"),
         ("https://gamma.co.uk/", "Gamma Ltd"), ("https://delta.de/", ""), ("https://epsilon.fr/", "Epsilon"),
         ("https://list.example.com/page2", "Next"), ("https://twitter.com/list", "Follow us"),
         ("https://www.alpha.com/contact", "Contact")]


class TestListPages:
    def test_the_companies_a_list_links_to_one_per_domain(self) -> None:
        named = companies_named(_page("https://list.example.com/top-robotics", LINKS))
        assert [(n.domain, n.name) for n in named] == [
            ("alpha.com", "Alpha Robotics"), ("beta.io", "Beta"), ("gamma.co.uk", "Gamma Ltd"), ("delta.de", ""),
            ("epsilon.fr", "Epsilon")]

    def test_an_article_with_few_outbound_links_names_no_list(self) -> None:
        assert companies_named(_page("https://news.example.com/a", LINKS[:3])) == []

    def test_a_profile_links_the_official_website(self) -> None:
        page = _page("https://www.crunchbase.com/organization/acme",
                     [("https://www.crunchbase.com/search", "Search"), ("https://twitter.com/acme", "Twitter"),
                      ("https://www.acme-robotics.com/", "acme-robotics.com")])
        assert website_on_profile(page) == "https://www.acme-robotics.com/"

