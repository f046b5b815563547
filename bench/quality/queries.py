"""The benchmark's queries and their labelling rules. Every second query of each corpus is held out:
it is reported separately and must never be used to tune the method."""

from __future__ import annotations

from bench.quality import everyday
from bench.quality.labels import (
    EUROPE,
    LATAM,
    NORDICS,
    Query,
    Rule,
    all_of,
    any_of,
    country,
    founded,
    ind,
    region,
    staff,
    state,
    status,
    tag,
    text,
)

_BUILTIN: list[tuple[str, Rule]] = [
    ("banks in Spain", all_of(country("Spain"), ind("bank"))),
    ("chemical companies in Germany", all_of(country("Germany"), ind("chemical"))),
    ("Japanese carmakers", all_of(country("Japan"), ind("automobile", "automotive"))),
    ("Nordic banks founded before 1900", all_of(region(NORDICS), ind("bank"), founded(before=1900))),
    ("European logistics companies with over 10,000 employees",
     all_of(region(EUROPE), any_of(ind("logistic", "freight", "transport", "courier", "shipping", "postal"),
                                   text("logistics")), staff(over=10_000))),
    ("US semiconductor companies", all_of(country("United States"), ind("semiconductor"))),
    ("French luxury goods companies", all_of(country("France"), any_of(text("luxury"), ind("luxury")))),
    ("insurance companies in Switzerland", all_of(country("Switzerland"), ind("insurance"))),
    ("oil and gas companies in Texas", all_of(state("Texas", "TX"), ind("oil", "gas", "petroleum", "fossil"))),
    ("telecommunications companies in Europe", all_of(region(EUROPE), ind("telecom"))),
    ("pharmaceutical companies in the United Kingdom", all_of(country("United Kingdom"), ind("pharma"))),
    ("German software companies", all_of(country("Germany"), ind("software"))),
    ("utilities in Spain", all_of(country("Spain"), ind("utilit", "electric"))),
    ("Finnish machinery manufacturers", all_of(country("Finland"), ind("machinery"))),
    ("Japanese banks", all_of(country("Japan"), ind("bank"))),
    ("real estate companies in Germany", all_of(country("Germany"), ind("real estate"))),
    ("American biotechnology companies founded after 1990",
     all_of(country("United States"), ind("biotech"), founded(since=1991))),
    ("Dutch companies with more than 50,000 employees", all_of(country("Netherlands"), staff(over=50_000))),
    ("Swedish companies founded before 1900", all_of(country("Sweden"), founded(before=1900))),
    ("chemical companies with over 100,000 employees", all_of(ind("chemical"), staff(over=100_000))),
    ("German insurance companies", all_of(country("Germany"), ind("insurance"))),
    ("retailers in the United Kingdom", all_of(country("United Kingdom"), ind("retail"))),
]

_YC: list[tuple[str, Rule]] = [
    ("B2B payments companies in Brazil", all_of(country("Brazil"), any_of(tag("payments"), text("payment")))),
    ("AI agents for customer support founded since 2022",
     all_of(founded(since=2022), text("customer support", "customer service", "support agent", "support ticket"),
            any_of(tag("artificial-intelligence", "ai", "generative-ai", "ai-assistant"), text("AI")))),
    ("open-source observability tools with fewer than 20 people",
     all_of(any_of(tag("open-source"), text("open[- ]source")), text("observability", "monitoring", "logs"),
            staff(under=20))),
    ("fintech companies in Nigeria", all_of(country("Nigeria"), tag("fintech"))),
    ("developer tools startups in Germany", all_of(country("Germany"), tag("developer-tools"))),
    ("healthcare startups in India", all_of(country("India"), tag("healthcare", "health-tech", "digital-health"))),
    ("climate tech companies in Canada", all_of(country("Canada"), tag("climate"))),
    ("robotics companies in the US founded since 2020",
     all_of(country("United States"), tag("robotics"), founded(since=2020))),
    ("edtech companies in Mexico", all_of(country("Mexico"), tag("education", "elearning", "edtech"))),
    ("crypto companies in Singapore", all_of(country("Singapore"), tag("crypto-web3"))),
    ("logistics startups in Latin America",
     all_of(region(LATAM), tag("logistics", "supply-chain", "delivery"))),
    ("proptech companies in the United States", all_of(country("United States"), tag("proptech"))),
    ("insurtech startups", any_of(tag("insurance", "insurtech"))),
    ("legal tech companies", tag("legaltech", "legal")),
    ("HR tech startups in the United Kingdom", all_of(country("United Kingdom"), tag("hr-tech", "recruiting"))),
    ("neobanks in Mexico", all_of(country("Mexico"), any_of(tag("neobank"), text("neobank")))),
    ("security startups with fewer than 10 people",
     all_of(tag("security", "cybersecurity"), staff(under=10))),
    ("biotech startups founded before 2015", all_of(tag("biotech"), founded(before=2015))),
    ("acquired fintech companies", all_of(tag("fintech"), status("Acquired"))),
    ("gaming startups in Europe", all_of(region(EUROPE), tag("gaming"))),
    ("food tech companies in India", all_of(country("India"), tag("food-tech"))),
    ("computer vision startups founded since 2021", all_of(tag("computer-vision"), founded(since=2021))),
]

_FD: list[tuple[str, Rule]] = [
    ("banks in Germany", all_of(country("Germany"), ind("bank"))),
    ("Norwegian oil and gas companies", all_of(country("Norway"), ind("oil", "gas", "energy equipment"))),
    ("Australian gold miners", all_of(country("Australia"), ind("metals & mining"), text("gold"))),
    ("Canadian uranium companies", all_of(country("Canada"), text("uranium"))),
    ("Swiss pharmaceutical companies", all_of(country("Switzerland"), ind("pharma"))),
    ("Israeli cybersecurity companies", all_of(country("Israel"), text("cybersecurity", "cyber security"))),
    ("Brazilian airlines", all_of(country("Brazil"), text("airline"))),
    ("Indian IT services companies", all_of(country("India"), ind("IT services"))),
    ("South Korean semiconductor companies", all_of(country("South Korea"), ind("semiconductor"))),
    ("Danish shipping companies", all_of(country("Denmark"), any_of(ind("marine"), text("shipping")))),
    ("Spanish construction companies", all_of(country("Spain"), ind("construction"))),
    ("Swedish biotech companies", all_of(country("Sweden"), ind("biotech"))),
    ("French hotel and restaurant companies", all_of(country("France"), ind("hotels", "restaurant"))),
    ("Italian utilities", all_of(country("Italy"), ind("utilit"))),
    ("Dutch semiconductor companies", all_of(country("Netherlands"), ind("semiconductor"))),
    ("real estate companies in Singapore", all_of(country("Singapore"), ind("real estate"))),
    ("South African mining companies", all_of(country("South Africa"), ind("mining"))),
    ("Finnish paper and forest products companies", all_of(country("Finland"), ind("paper", "forest"))),
    ("REITs in Texas", all_of(state("Texas", "TX"), ind("REIT"))),
    ("Belgian chemical companies", all_of(country("Belgium"), ind("chemical"))),
    ("New Zealand dairy companies", all_of(country("New Zealand"), text("dairy"))),
    ("German automotive suppliers", all_of(country("Germany"), ind("auto components"))),
]

QUERIES: list[Query] = [
    Query(corpus, text_, rule, held_out=i % 2 == 1)
    for corpus, items in (("builtin", _BUILTIN), ("yc", _YC), ("fd", _FD))
    for i, (text_, rule) in enumerate(items)
] + [
    Query(corpus, text_, rule, held_out=i % 2 == 1, set="everyday", relationship=relationship)
    for corpus, everyday_items in (("builtin", everyday.BUILTIN), ("yc", everyday.YC), ("fd", everyday.FD))
    for i, (text_, rule, relationship) in enumerate(everyday_items)
]
