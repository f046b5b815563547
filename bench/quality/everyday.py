"""The everyday query set: queries in the phrasing people type (products for a buyer, "A and B", head nouns
such as "contractors" or "makers", cities, qualifiers the data cannot answer, relationships), each with its
truth written from the records. Every second query of each corpus is held out, as in `queries.py`.

How the truth was judged, where a reader could doubt it:
- A qualifier no field records ("Series A", "remote-first", "hiring", "YC-backed" in a YC-only corpus) does
  not narrow the truth: a correct answer keeps the companies the data cannot rule out, so the truth is the
  rest of the query. Listed companies are never "startups" at a funding stage, so the YC "Public" ones are out.
- A city means that city as the record spells it, not its state or country.
- "competitors of X" / "similar to X" (marked `relationship`) are judged as "the same core product":
  payments for Stripe and Visa, chips for Nvidia, defense for Lockheed Martin, workspace/notes tools for Notion.
"""

from __future__ import annotations

from bench.quality.labels import (
    EUROPE,
    LATAM,
    Rule,
    all_of,
    any_of,
    city,
    country,
    ind,
    lead,
    not_,
    region,
    staff,
    status,
    tag,
    text,
)

HEALTH_TAGS = ("healthcare", "health-tech", "digital-health", "healthcare-it", "telehealth", "telemedicine",
               "medical-devices", "health-insurance", "mental-health", "consumer-health-services")
SMALL_BUSINESS = text("small business", "smb", "sme", "small and medium", "small- and medium", "small-business",
                      "small and mid", "local business", "mom-and-pop", "freelancer")
STARTUP = not_(status("Public"))

# (query, truth, relationship)
BUILTIN: list[tuple[str, Rule, bool]] = [
    ("semiconductor equipment makers", ind(r"^semiconductor equipment"), False),
    ("defense contractors in the United States", all_of(country("United States"), ind("defen")), False),
    ("Japanese automobile and auto parts manufacturers",
     all_of(country("Japan"), ind("automo", "auto parts", r"auto, truck")), False),
    ("banks in London", all_of(city("London"), ind(r"\bbank")), False),
    ("competitors of Visa", ind("payment", "transaction"), True),
    ("tobacco companies", ind(r"^tobacco$", "cigar"), False),
    ("steelmakers in Europe", all_of(region(EUROPE), ind("steel")), False),
    ("companies in Tokyo with over 50,000 employees", all_of(city("Tokyo"), staff(over=50_000)), False),
    ("airlines and airports in Europe", all_of(region(EUROPE), ind("airline", "airport", "air transport")), False),
    ("beer and spirits makers",
     all_of(ind("brewers", "distill", r"(?<!non-)alcoholic beverage", "spirits", "wineries"), not_(ind("restaurant"))),
     False),
    ("oil and gas producers in Houston", all_of(city("Houston"), ind("oil", r"\bgas\b", "petroleum")), False),
    ("medical device makers in the United States",
     all_of(country("United States"), ind("medical (device|equipment|appliance|instrument|technology)",
                                           "health care equipment", "medtech")), False),
    ("companies similar to Nvidia", ind(r"^semiconductors?$"), True),
    ("payment processors in Europe", all_of(region(EUROPE), ind("payment", "transaction")), False),
]

YC: list[tuple[str, Rule, bool]] = [
    ("software for restaurants", any_of(tag("restaurant-tech"), lead("restaurant")), False),
    ("payroll software for small businesses", all_of(text("payroll"), SMALL_BUSINESS), False),
    ("YC-backed fintech startups", all_of(tag("fintech"), STARTUP), False),
    ("Series A healthcare startups in San Francisco", all_of(city("San Francisco"), tag(*HEALTH_TAGS), STARTUP),
     False),
    ("remote-first developer tools companies", tag("developer-tools"), False),
    ("climate tech startups in London", all_of(city("London"), tag("climate"), STARTUP), False),
    ("fintech startups in London", all_of(city("London"), tag("fintech"), STARTUP), False),
    ("AI tools for lawyers", any_of(tag("legal", "legaltech"), text("lawyer", "law firm", "attorney")), False),
    ("telehealth startups in New York",
     all_of(city("New York"), any_of(tag("telehealth", "telemedicine"), text("telehealth", "telemedicine",
                                                                              "virtual care", "virtual clinic"))),
     False),
    ("competitors of Stripe", tag("payments"), True),
    ("accounting software for small businesses", all_of(text("accounting", "bookkeeping"), SMALL_BUSINESS), False),
    ("edtech startups in Bangalore",
     all_of(city("Bengaluru", "Bangalore"), tag("education", "edtech", "elearning"), STARTUP), False),
    ("robotics startups that are hiring", all_of(tag("robotics"), STARTUP), False),
    ("companies similar to notion.so",
     all_of(tag("productivity", "collaboration", "knowledge-management"),
            text("notes", "note-taking", "docs", "wiki", "workspace", "knowledge base")), True),
    ("open-source databases", all_of(tag("open-source"), any_of(tag("databases"), text("database"))), False),
    ("apps for pet owners", lead(r"pets?\b", r"dogs?\b", r"cats?\b", "veterinar"), False),
    ("cybersecurity startups in Tel Aviv", all_of(city("Tel Aviv-Yafo", "Tel Aviv"), tag("security", "cybersecurity")),
     False),
    ("fintech startups in Lagos that are hiring", all_of(city("Lagos"), tag("fintech"), STARTUP), False),
    ("B2B marketplaces in Latin America", all_of(region(LATAM), tag("marketplace"), tag("b2b")), False),
    ("software for trucking companies", lead("truck", "fleet", "freight"), False),
]

FD: list[tuple[str, Rule, bool]] = [
    ("mining companies in Australia", all_of(country("Australia"), ind("mining")), False),
    ("manufacturers of industrial robots in Japan",
     all_of(country("Japan"), text("industrial robot", r"robots?\b"),
            ind("machinery", "electrical equipment", "electronic equipment", "building products", "semiconductor",
                "technology hardware")), False),
    ("semiconductor equipment makers in Japan",
     all_of(country("Japan"), ind("semiconductor"),
            text("equipment", "wafer", "lithograph", "etching", "deposition", "test system", "inspection")), False),
    ("defense contractors in the United States",
     all_of(country("United States"), ind("aerospace & defense"), text("defen", "military", "armed forces")), False),
    ("Japanese automobile and auto parts manufacturers",
     all_of(country("Japan"), ind(r"^automobiles$", "auto components", "automobiles & components")), False),
    ("banks in Tokyo", all_of(city("Tokyo"), ind(r"^banks$")), False),
    ("steel producers in India", all_of(country("India"), ind("metals & mining"), text("steel")), False),
    ("shipping companies in Greece", all_of(country("Greece"), any_of(ind("marine"), lead("shipping"))), False),
    ("solar panel manufacturers in China", all_of(country("China"), lead("solar", "photovoltaic")), False),
    ("beer and wine producers in France",
     all_of(country("France"), ind("beverage", "food"),
            text("beer", "brew", "wine", "vineyard", "champagne", "cognac")), False),
    ("biotech companies in Boston", all_of(city("Boston"), ind("biotech")), False),
    ("competitors of Lockheed Martin", all_of(ind("aerospace & defense"), text("defen", "military")), True),
    ("software companies in Bangalore", all_of(city("Bengaluru", "Bangalore"), ind(r"^software$")), False),
    ("lithium miners in Australia", all_of(country("Australia"), ind("mining"), text("lithium")), False),
    ("trucking companies in the United States",
     all_of(country("United States"), ind("transportation", "road & rail"),
            text("truckload", "trucking", "motor carrier", "truck transportation")),
     False),
    ("water utilities in the United Kingdom", all_of(country("United Kingdom"), ind("water utilit")), False),
]
