"""What a page says about a company: JSON-LD first, then meta tags and the title; main text, headings, links."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmscout.web.extract import TEXT_CAP, Fact, Link, PageFacts, internal_pages, page_facts, plain_text

PAGES = Path(__file__).parent / "pages"


def fixture(name: str, url: str) -> PageFacts:
    return page_facts((PAGES / name).read_text(encoding="utf-8"), url)


def jsonld_page(*blocks: Any, head: str = "", body: str = "") -> str:
    scripts = "".join(
        f'<script type="application/ld+json">{b if isinstance(b, str) else json.dumps(b)}</script>' for b in blocks
    )
    return f"<!DOCTYPE html><html><head>{head}{scripts}</head><body>{body}</body></html>"


def organization(**fields: Any) -> dict[str, Any]:
    return {"@context": "https://schema.org", "@type": "Organization", "name": "Acme", **fields}


def anchors_page(*anchors: tuple[str, str]) -> str:
    return "<html><body>" + "".join(f'<a href="{href}">{text}</a>' for href, text in anchors) + "</body></html>"


def facts_of(page: PageFacts) -> list[Fact]:
    found = (page.name, page.description, page.country, page.city, page.founded_year, page.employees)
    return [f for f in found if f is not None]


class TestOrganizationJsonLd:
    def test_organization_gives_name_description_founding_year_and_employees(self) -> None:
        page = fixture("organization.html", "https://www.acme.com/")

        assert page.title == "Acme Robotics – Industrial robots for small factories"
        assert page.name == Fact("Acme Robotics GmbH", "https://www.acme.com/")  # over og:site_name and <title>
        assert page.description == Fact(
            "Acme Robotics builds collaborative robot arms for small and mid-sized factories.", "https://www.acme.com/"
        )
        assert page.founded_year == Fact(2009, "https://www.acme.com/")  # foundingDate "2009-03-01"
        assert page.employees == Fact(350, "https://www.acme.com/")  # QuantitativeValue 200-500 → midpoint
        assert page.same_as == ("https://www.linkedin.com/company/acme-robotics/", "https://twitter.com/acmerobotics")

    def test_graph_with_a_website_and_an_organization_reads_the_organization(self) -> None:
        page = fixture("graph.html", "https://globex.example.com/")

        assert page.name is not None and page.name.value == "Globex Corporation"  # not the WebSite's name
        assert page.description is not None and page.description.value == "Globex makes industrial adhesives."
        assert page.founded_year is not None and page.founded_year.value == 1989
        # The address is an @id reference to another node of the graph.
        assert page.country == Fact("United States", "https://globex.example.com/")
        assert page.city == Fact("Springfield", "https://globex.example.com/")

    def test_type_as_a_list_counts_when_it_names_organization(self) -> None:
        page = fixture("type_list.html", "https://initrode.example/")

        assert page.name is not None and page.name.value == "Initrode AB"
        assert page.employees is not None and page.employees.value == 120  # QuantitativeValue value

    @pytest.mark.parametrize("type_", ["Corporation", "https://schema.org/Organization", "schema:LocalBusiness"])
    def test_subtypes_and_full_type_iris_count(self, type_: str) -> None:
        page = page_facts(jsonld_page(organization(**{"@type": type_})), "https://acme.com/")

        assert page.name == Fact("Acme", "https://acme.com/")

    def test_an_organization_nested_in_a_webpage_is_found(self) -> None:
        webpage = {"@type": "WebPage", "name": "Home", "publisher": organization(name="Acme Inc.")}

        page = page_facts(jsonld_page(webpage), "https://acme.com/")

        assert page.name is not None and page.name.value == "Acme Inc."

    def test_the_organization_on_the_pages_own_domain_wins(self) -> None:
        partner = organization(name="Partner Co", url="https://partner.example/")
        owner = organization(name="Acme Inc.", url="https://www.acme.com/")

        page = page_facts(jsonld_page([partner, owner]), "https://acme.com/about")

        assert page.name is not None and page.name.value == "Acme Inc."

    def test_every_fact_carries_the_page_url(self) -> None:
        for name, url in [
            ("organization.html", "https://www.acme.com/"),
            ("graph.html", "https://globex.example.com/"),
            ("local_business.html", "https://baeckerei-mueller.example/"),
        ]:
            page = fixture(name, url)
            assert facts_of(page)
            assert {f.url for f in facts_of(page)} == {url}


class TestAddress:
    def test_local_business_with_postal_address_and_iso_country_code(self) -> None:
        page = fixture("local_business.html", "https://baeckerei-mueller.example/")

        assert page.name is not None and page.name.value == "Bäckerei Müller & Söhne"  # HTML entity unescaped
        assert page.country is not None and page.country.value == "Germany"  # "DE"
        assert page.city is not None and page.city.value == "München"
        assert page.employees is not None and page.employees.value == 14

    @pytest.mark.parametrize(
        ("address_country", "expected"),
        [
            ("DE", "Germany"),
            ("Germany", "Germany"),
            ("USA", "United States"),
            ("GBR", "United Kingdom"),
            ({"@type": "Country", "name": "KR"}, "South Korea"),
            ({"@type": "Country", "name": "Spain"}, "Spain"),
            ("Atlantis", None),
            (42, None),
        ],
    )
    def test_country_as_code_or_name_becomes_the_english_short_name(self, address_country: Any, expected: str) -> None:
        address = {"@type": "PostalAddress", "addressCountry": address_country}

        page = page_facts(jsonld_page(organization(address=address)), "https://acme.com/")

        assert (page.country.value if page.country else None) == expected

    def test_first_usable_address_of_a_list(self) -> None:
        lyon = {"@type": "PostalAddress", "addressLocality": "Lyon", "addressCountry": "FR"}
        addresses = ["Main Street 1, Berlin", lyon]

        page = page_facts(jsonld_page(organization(address=addresses)), "https://acme.com/")

        assert page.city is not None and page.city.value == "Lyon"
        assert page.country is not None and page.country.value == "France"


class TestNumbers:
    @pytest.mark.parametrize(
        ("founding_date", "expected"),
        [
            ("2009-03-01", 2009),
            ("2009", 2009),
            (1998, 1998),
            ("March 2009", 2009),
            ("unknown", None),
            ("2999-01-01", None),
            (True, None),
            (None, None),
        ],
    )
    def test_founding_year(self, founding_date: Any, expected: int | None) -> None:
        page = page_facts(jsonld_page(organization(foundingDate=founding_date)), "https://acme.com/")

        assert (page.founded_year.value if page.founded_year else None) == expected

    @pytest.mark.parametrize(
        ("employees", "expected"),
        [
            (250, 250),
            ("1,200", 1200),
            ("51-200", 125),
            ({"@type": "QuantitativeValue", "value": 120}, 120),
            ({"@type": "QuantitativeValue", "value": "80"}, 80),
            ({"@type": "QuantitativeValue", "minValue": 11, "maxValue": 50}, 30),
            ({"@type": "QuantitativeValue", "minValue": 10000}, 10000),
            (0, None),
            (-5, None),
            ("lots", None),
            (True, None),
            (float("inf"), None),  # json.dumps writes Infinity, which json.loads accepts
            ("9" * 400, None),
            ([1, 2], None),
        ],
    )
    def test_number_of_employees(self, employees: Any, expected: int | None) -> None:
        page = page_facts(jsonld_page(organization(numberOfEmployees=employees)), "https://acme.com/")

        assert (page.employees.value if page.employees else None) == expected


class TestMetaFallbacks:
    def test_meta_only_page_uses_og_site_name_and_meta_description(self) -> None:
        page = fixture("meta_only.html", "https://initech.example/")

        assert page.name == Fact("Initech", "https://initech.example/")
        # name="Description" in any case, and it beats og:description.
        assert page.description == Fact(
            "Initech builds TPS report software for enterprises.", "https://initech.example/"
        )
        assert page.country is None and page.founded_year is None and page.employees is None
        assert page.same_as == ()

    def test_og_description_when_there_is_no_meta_description(self) -> None:
        head = '<meta property="og:description" content="Widgets for everyone.">'

        page = page_facts(jsonld_page(head=head), "https://acme.com/")

        assert page.description == Fact("Widgets for everyone.", "https://acme.com/")

    @pytest.mark.parametrize(
        ("title", "url", "expected"),
        [
            ("About us | Acme", "https://www.acme.com/about", "Acme"),
            ("Acme – Industrial robots", "https://acme.com/", "Acme"),
            ("Home - Wayne Enterprises", "https://wayne.example/", "Wayne Enterprises"),
            ("Coca-Cola Company", "https://example.org/", "Coca-Cola Company"),
        ],
    )
    def test_cleaned_title_when_nothing_else_names_the_company(self, title: str, url: str, expected: str) -> None:
        page = page_facts(f"<html><head><title>{title}</title></head></html>", url)

        assert page.name == Fact(expected, url)
        assert page.title == title


class TestThinAndBrokenPages:
    def test_thin_javascript_page_has_no_main_text(self) -> None:
        page = fixture("thin_js.html", "https://hooli.example/")

        assert page.text is None or len(page.text) < 100
        assert page.name == Fact("Hooli", "https://hooli.example/")
        assert page.links == ()
        assert page.headings == ()

    def test_empty_page_gives_empty_facts(self) -> None:
        page = page_facts("", "https://acme.com/")

        assert page == PageFacts(
            url="https://acme.com/",
            title=None,
            name=None,
            description=None,
            country=None,
            city=None,
            founded_year=None,
            employees=None,
            same_as=(),
            linkedin_url=None,
            text=None,
            headings=(),
            links=(),
        )

    @pytest.mark.parametrize(
        "html",
        [
            "<html",
            "<<<>>>",
            "\x00<p>nul</p>",
            "\ud800<p>lone surrogate</p>",
            "<div>" * 20_000 + "deep",
            '<?xml version="1.0" encoding="utf-8"?><html><body><p>declared</p></body></html>',
            "<title>unclosed <a href='/about'>About",
            "<a href='http://[::1'>bad ipv6</a><a href='http://acme.com:99999/'>bad port</a>",
        ],
    )
    def test_broken_html_does_not_raise(self, html: str) -> None:
        page = page_facts(html, "https://acme.com/")

        assert page.url == "https://acme.com/"

    @settings(max_examples=60, deadline=None)
    @given(st.text(max_size=300))
    def test_any_text_does_not_raise(self, html: str) -> None:
        page_facts(html, "https://acme.com/")


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=10)
    | st.sampled_from(["Organization", "@graph", "@type", "@id", "address", "2009"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "@type",
                    "@graph",
                    "@id",
                    "name",
                    "address",
                    "addressCountry",
                    "numberOfEmployees",
                    "minValue",
                    "value",
                    "foundingDate",
                    "sameAs",
                    "@value",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


class TestMalformedJsonLd:
    def test_malformed_block_next_to_a_good_one(self) -> None:
        page = fixture("malformed_jsonld.html", "https://vandelay.example/")

        # The invalid block's "Broken Corp" is skipped; the name comes from the good block, not the title.
        assert page.name == Fact("Vandelay Industries", "https://vandelay.example/")
        # Its address is a string, its foundingDate and head count are junk, its sameAs is not a list.
        assert page.country is None and page.city is None
        assert page.founded_year is None and page.employees is None
        assert page.same_as == ()

    @pytest.mark.parametrize(
        "block",
        [
            "",
            "null",
            "{'single': 'quotes'}",
            "[[[[]]]]",
            '{"@graph": "not a list"}',
            '{"@graph": [1, "two", [3]]}',
            '{"@type": {"nested": "dict"}, "name": "x"}',
            '{"@type": "Organization", "name": {"@value": 5}, "address": {"@id": 7}, "sameAs": [null, 3]}',
            '{"@type": "Organization", "address": {"@id": "#self"}, "@id": "#self"}',
            '{"@type": "Organization", "address": [{"@id": ["unhashable"]}, {"@id": {"x": 1}}], "sameAs": {"@id": 1}}',
            "[" * 100_000,
            '{"a": ' * 900 + "1" + "}" * 900,
            '{"@type": "Organization", "name": [' + "[" * 900 + '"deep"' + "]" * 900 + "]}",
            "<!-- " + json.dumps(organization(name="Commented")) + " -->",
        ],
    )
    def test_junk_json_ld_never_raises(self, block: str) -> None:
        page = page_facts(jsonld_page(block), "https://acme.com/")

        assert page.url == "https://acme.com/"

    @settings(max_examples=150, deadline=None)
    @given(JSON)
    def test_any_json_value_never_raises(self, value: Any) -> None:
        block = json.dumps(value).replace("</", "<\\/")

        page_facts(jsonld_page(block), "https://acme.com/")

    def test_html_comment_wrapper_around_a_block_is_tolerated(self) -> None:
        page = page_facts(jsonld_page("<!--" + json.dumps(organization(name="Commented")) + "-->"), "https://a.com/")

        assert page.name is not None and page.name.value == "Commented"


class TestText:
    def test_main_text_is_whitespace_collapsed_and_leaves_out_navigation(self) -> None:
        page = fixture("organization.html", "https://www.acme.com/")

        assert page.text is not None
        assert page.text.startswith("Robot arms that small factories can afford Acme Robotics designs")
        assert "food packaging lines." in page.text
        assert "\n" not in page.text and "  " not in page.text
        assert "Log in" not in page.text

    def test_main_text_is_capped(self) -> None:
        article = "<p>" + "Acme builds robots for factories. " * 2_000 + "</p>"
        html = f"<html><body><article><h1>Acme</h1>{article * 2}</article></body></html>"

        page = page_facts(html, "https://acme.com/")

        assert page.text is not None and len(page.text) <= TEXT_CAP
        assert page.text.endswith("factories.")  # cut at a word boundary

    def test_plain_text_pages_are_collapsed_and_capped_the_same_way(self) -> None:
        assert plain_text("  Acme\n\n builds\trobots  ") == "Acme builds robots"
        assert plain_text("") == ""
        assert len(plain_text("word " * 10_000)) <= TEXT_CAP


class TestHeadings:
    def test_h1_to_h3_in_document_order_without_duplicates(self) -> None:
        page = fixture("organization.html", "https://www.acme.com/")

        assert page.headings == ("Robot arms that small factories can afford", "What we make", "Who we serve")

    def test_at_most_twenty(self) -> None:
        body = "".join(f"<h2>Section {i}</h2><h4>ignored {i}</h4>" for i in range(30))

        page = page_facts(jsonld_page(body=body), "https://acme.com/")

        assert page.headings == tuple(f"Section {i}" for i in range(20))


class TestLinks:
    def test_relative_links_resolve_against_base_href(self) -> None:
        page = fixture("links.html", "https://umbrella.example/landing/index.html")

        assert page.links == (
            Link("https://www.umbrella.example/en/about", "About"),
            Link("https://www.umbrella.example/contact", "Contact"),  # fragment dropped, duplicate merged
            Link("https://www.umbrella.example/products/?ref=nav", "Our products"),
            Link("https://cdn.umbrella.example/brochure.pdf", "Brochure"),  # scheme-relative
            Link("https://www.umbrella.example/en/", "Skip"),  # "#section" is the base page itself
        )  # mailto:, javascript:, tel:, a broken host and an anchor without href are dropped

    def test_relative_links_resolve_against_the_page_url_without_base(self) -> None:
        html = anchors_page(("../products", "Products"), ("jobs", "Jobs"), ("HTTPS://WWW.Acme.COM/A", "Upper"))

        page = page_facts(html, "https://acme.com/company/team")

        assert [link.url for link in page.links] == [
            "https://acme.com/products",
            "https://acme.com/company/jobs",
            "https://www.acme.com/A",  # scheme and host lower-cased, path kept
        ]

    def test_icon_links_are_labelled_by_aria_label_or_image_alt(self) -> None:
        html = (
            '<a href="/a" aria-label="About Acme"><svg></svg></a><a href="/"><img src="/logo.png" alt="Acme home"></a>'
        )

        page = page_facts(html, "https://acme.com/")

        assert page.links == (Link("https://acme.com/a", "About Acme"), Link("https://acme.com/", "Acme home"))


class TestLinkedIn:
    def test_from_same_as(self) -> None:
        page = fixture("organization.html", "https://www.acme.com/")

        assert page.linkedin_url == "https://www.linkedin.com/company/acme-robotics"

    def test_from_an_anchor(self) -> None:
        page = fixture("meta_only.html", "https://initech.example/")

        # Sub-page and tracking query dropped; the personal /in/ profile beside it is not the company.
        assert page.linkedin_url == "https://www.linkedin.com/company/initech"

    def test_same_as_wins_over_an_anchor(self) -> None:
        html = jsonld_page(
            organization(sameAs="https://de.linkedin.com/company/acme-de"),
            body='<a href="https://www.linkedin.com/company/someone-else">LinkedIn</a>',
        )

        assert page_facts(html, "https://acme.com/").linkedin_url == "https://www.linkedin.com/company/acme-de"

    def test_personal_profiles_and_other_sites_are_not_company_pages(self) -> None:
        html = anchors_page(
            ("https://www.linkedin.com/in/jane/", "Jane"),
            ("https://notlinkedin.com/company/acme", "Fake"),
            ("https://www.linkedin.com/company", "No slug"),
        )

        assert page_facts(html, "https://acme.com/").linkedin_url is None


class TestInternalPages:
    def test_about_and_products_over_login_privacy_posts_files_and_other_sites(self) -> None:
        page = fixture("organization.html", "https://www.acme.com/")

        # The apex acme.com/about-us counts as the same site as www.acme.com.
        assert internal_pages(page) == [
            "https://acme.com/about-us/",
            "https://www.acme.com/products",
            "https://www.acme.com/contact",
        ]
        assert internal_pages(page, limit=2) == ["https://acme.com/about-us/", "https://www.acme.com/products"]
        assert internal_pages(page, limit=0) == []

    @pytest.mark.parametrize(
        ("href", "text"),
        [
            ("/login", "Log in"),
            ("/account/sign-in", "Sign in"),
            ("/cart", "Cart"),
            ("/privacy", "Privacy"),
            ("/legal/terms-of-service", "Terms"),
            ("/careers", "Careers"),
            ("/about/careers", "Join us"),
            ("/blog/2023/post", "How we doubled throughput"),
            ("/blog", "Blog"),
            ("/2023/05/our-new-product", "Our new product"),
            ("/file.pdf", "Company profile"),
            ("/images/about.jpg", "About"),
            ("https://partner.example/about", "About our partner"),
            ("https://www.acme.com/#about", "About"),  # the page itself
        ],
    )
    def test_never_chosen(self, href: str, text: str) -> None:
        page = page_facts(anchors_page((href, text), ("/products", "Products")), "https://www.acme.com/")

        assert internal_pages(page) == ["https://www.acme.com/products"]

    def test_never_the_page_itself_however_it_is_linked(self) -> None:
        html = anchors_page(("https://www.acme.com/about-us/", "About"), ("/contact", "Contact"))

        page = page_facts(html, "https://acme.com/about-us")

        assert internal_pages(page) == ["https://acme.com/contact"]

    def test_link_text_counts_when_the_path_says_nothing(self) -> None:
        html = anchors_page(("/p/123", "Who we are"), ("/p/456", "Our solutions"), ("/p/789", "Pricing"))

        page = page_facts(html, "https://acme.com/")

        assert internal_pages(page) == ["https://acme.com/p/123", "https://acme.com/p/456"]

    def test_one_page_of_each_kind_before_a_second_of_any(self) -> None:
        html = anchors_page(
            ("/about", "About"),
            ("/company/history", "History"),
            ("/who-we-are", "Who we are"),
            ("/services", "Services"),
            ("/contact-us", "Contact us"),
        )

        page = page_facts(html, "https://acme.com/")

        assert internal_pages(page, limit=2) == ["https://acme.com/about", "https://acme.com/services"]
        assert internal_pages(page, limit=3) == [
            "https://acme.com/about",
            "https://acme.com/services",
            "https://acme.com/contact-us",
        ]
        assert internal_pages(page, limit=4) == [
            "https://acme.com/about",
            "https://acme.com/who-we-are",
            "https://acme.com/services",
            "https://acme.com/contact-us",
        ]
