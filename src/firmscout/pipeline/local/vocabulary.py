"""Words: normalisation, stopwords and the synonym table shared by the query parser and the grader.

Both sides of every comparison go through `words()`, so a query's "banks" and a database label's
"Banks" meet as "bank" however crude the singularisation is. The normaliser itself lives in
`firmscout.geography`, because place names must be normalised the same way and sit in a lower layer.
"""

from __future__ import annotations

from firmscout.geography import fold as fold
from firmscout.geography import singular as singular
from firmscout.geography import words as words


def _split(text: str) -> list[str]:
    return text.split()


# Function words and discovery boilerplate: they never describe what a company does.
STOPWORDS = frozenset(
    _split(
        """a an the and or of in on at by for from to with without into onto within across around near that
        which who whose whom what where when how than as like such e g eg i.e etc via per is are be been
        being was were has have had do doe does it its it's their they them this these those we our us you
        your me my i all any some other another more most less least very also only just find list show give
        get search looking look want need please top best leading major main primary key notable known well
        good great new many several various different based headquartered headquarter located hq operating
        operate operates active company companys firm corporation corp inc ltd llc gmbh plc org organisation
        organization business enterprise player vendor provider maker producer supplier manufacturer brand
        service solution platform product tool offering provide provides providing offer offers sell selling
        build building develop developing make making run running work working focus focused focusing
        specialise specialize specialising specializing specialised specialized engaged engage serving serve
        serves related relevant example mainly primarily mostly core match industry criterion operation
        activity sector field area market would could should can will may might must shall not no yes
        so if then there here one ones thing kind type sort whatever whichever"""
    )
)

# Nouns that only name "a company" and carry no topic; kept apart so the parser can tell them from
# real topics when it trims the focus phrase ("open-source observability tools").
GENERIC_NOUNS = frozenset(
    {
        "company",
        "companie",
        "firm",
        "business",
        "enterprise",
        "player",
        "vendor",
        "provider",
        "maker",
        "producer",
        "supplier",
        "manufacturer",
        "brand",
        "service",
        "solution",
        "platform",
        "product",
        "tool",
        "offering",
        "corporation",
        "organisation",
        "organization",
        "startup",
        "start",
        "up",
        "scaleup",
        "group",
        "entity",
        "one",
    }
)

# Each row is one concept: the first entry is how the parser names it, the rest are what industry
# labels, tags and descriptions call it. Labels come from pytickersymbols ("Auto & Truck Manufacturers"),
# FinanceDatabase (GICS-like) and Y Combinator tags ("developer-tools", "crypto-web3").
_SYNONYM_ROWS: tuple[tuple[str, ...], ...] = (
    # "<field> tech" names a sector of startups; the tag spellings in startup directories run the words together.
    ("legal tech", "legaltech", "legal technology", "legal"),
    ("hr tech", "hr-tech", "hrtech", "human resources", "recruiting", "payroll"),
    ("food tech", "food-tech", "foodtech", "food technology"),
    ("climate tech", "climatetech", "climate", "decarbonization", "carbon removal"),
    ("insurtech", "insurance technology", "insurance"),
    ("edtech", "education technology", "education", "elearning", "e-learning"),
    ("bank", "banking", "banks", "lender", "lending", "<neobank"),
    ("neobank", "digital bank", "challenger bank"),
    ("insurance", "insurer", "reinsurance", "insurtech", "assurance"),
    (
        "carmaker",
        "automaker",
        "car maker",
        "car manufacturer",
        "automobile manufacturer",
        "automobile",
        "auto manufacturer",
        "automotive",
        "auto and truck manufacturer",
        "motor vehicle",
    ),
    ("pharmaceutical", "pharma", "drug", "drugmaker", "biopharma", "pharmaceutical industry"),
    ("biotech", "biotechnology", "life science", "therapeutic", "drug discovery"),
    ("telecommunications", "telco", "telecom", "telecommunication", "wireless", "mobile operator"),
    ("semiconductor", "chipmaker", "chip", "chip maker", "microchip", "integrated circuit"),
    ("oil", "oil and gas", "petroleum", "fossil fuel", "energy", "oil gas and consumable fuel"),
    ("natural gas", "gas utility", "oil and gas", "lng"),
    ("software", "saas", "software as a service", "enterprise software", "computer software", "application software"),
    (
        "logistics",
        "freight",
        "shipping",
        "transport",
        "transportation",
        "supply chain",
        "delivery",
        "courier",
        "air freight and logistics",
        "trucking",
    ),
    ("payment", "payments", "payment processing", "fintech", "acquiring"),
    ("fintech", "financial technology", "payment", "<neobank", "banking as a service"),
    ("ai", "artificial intelligence", "machine learning", "generative ai", "llm", "deep learning"),
    ("agent", "ai agent", "ai assistant", "assistant", "agentic", "copilot"),
    (
        "customer support",
        "customer service",
        "customer success",
        "helpdesk",
        "help desk",
        "contact center",
        "call center",
        "customer experience",
    ),
    ("observability", "monitoring", "apm", "logging", "telemetry", "tracing", "devops", "aiops"),
    ("open source", "oss", "opensource"),
    ("chemical", "chemicals", "chemistry", "specialty chemical", "commodity chemical"),
    ("retail", "retailer", "retailing", "store", "specialty retail"),
    (
        "e commerce",
        "ecommerce",
        "online retail",
        "internet retail",
        "marketplace",
        "internet and direct marketing retail",
    ),
    ("real estate", "<reit", "property", "<proptech", "immobilien", "<real estate investment trust"),
    ("reit", "real estate investment trust"),
    ("utility", "utilities", "electric utility", "multi utilities", "water utility", "gas utility"),
    ("energy", "power", "electricity", "renewable energy", "utility", "oil and gas"),
    ("renewable", "renewable energy", "solar", "wind", "clean energy", "climate", "climatetech"),
    ("airline", "aviation", "air travel", "airlines"),
    ("aerospace", "aerospace and defense", "aerospace and defence", "aviation", "space"),
    ("defense", "defence", "aerospace and defense", "military"),
    ("steel", "metal", "steelmaker"),
    ("mining", "metals and mining", "mineral", "mine", "mineral resources"),
    (
        "construction",
        "construction and engineering",
        "homebuilding",
        "construction material",
        "engineering and construction",
    ),
    ("food", "food processing", "food and beverage", "food product", "packaged food"),
    ("beverage", "drink", "brewer", "brewery", "drink industry", "spirits"),
    ("healthcare", "health care", "health tech", "medical", "digital health", "health"),
    ("medical device", "medtech", "medical equipment", "medical technology", "health care equipment"),
    ("cybersecurity", "cyber security", "security", "infosec", "devsecops"),
    ("hr", "human resources", "hr tech", "recruiting", "payroll"),
    ("education", "edtech", "e learning", "elearning", "learning"),
    ("crypto", "cryptocurrency", "blockchain", "web3", "crypto web3", "defi"),
    ("gaming", "game", "video game", "esports"),
    ("robotics", "robot", "industrial automation", "automation"),
    ("electric vehicle", "ev", "electric vehicles", "e mobility", "automotive"),
    ("shipping", "marine", "maritime", "freight", "container shipping"),
    ("hotel", "hospitality", "resort", "lodging", "hotels and entertainment services"),
    ("restaurant", "food service", "restaurants", "hotels restaurants and leisure"),
    ("media", "publishing", "broadcasting", "entertainment", "media and publishing"),
    ("consulting", "consultancy", "professional services", "it services", "advisory"),
    ("apparel", "clothing", "fashion", "textile", "garment", "textiles apparel and luxury goods"),
    ("grocery", "supermarket", "food retail", "food and staples retailing"),
    ("asset management", "investment management", "asset manager", "fund management", "wealth management"),
    ("investment bank", "investment banking", "capital markets", "brokerage"),
    ("financial services", "finance", "financial", "financials"),
    ("b2b", "business to business"),
    ("analytics", "data analytics", "business intelligence", "data visualization"),
    ("developer tool", "developer tools", "devtools", "developer platform", "api"),
    ("machinery", "industrial machinery", "machine", "heavy machinery", "machinery equipment and components"),
    ("tobacco", "cigarette"),
)


def _build_index() -> tuple[dict[tuple[str, ...], tuple[tuple[str, ...], ...]], dict[tuple[str, ...], tuple[str, ...]]]:
    forms_index: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    text_index: dict[tuple[str, ...], list[str]] = {}
    for row in _SYNONYM_ROWS:
        # "<term" is narrower than its row: asking for the row's terms finds it, but asking for it does not
        # widen to the whole row ("bank" finds neobanks; "neobank" must not find every lender).
        narrow = {i for i, term in enumerate(row) if term.startswith("<")}
        terms = [term.lstrip("<") for term in row]
        forms = [words(term) for term in terms]
        for i, form in enumerate(forms):
            if i in narrow:
                continue
            bucket = forms_index.setdefault(form, [])
            bucket.extend(f for f in forms if f != form and f not in bucket)
            spelled = text_index.setdefault(form, [])
            spelled.extend(t for t, f in zip(terms, forms, strict=True) if f != form and t not in spelled)
    return (
        {key: tuple(value) for key, value in forms_index.items()},
        {key: tuple(value) for key, value in text_index.items()},
    )


# Normalised word forms, for matching; and the same synonyms as spelled, for full-text search terms.
SYNONYMS, _SYNONYM_TEXT = _build_index()

# Multi-word terms the parser keeps whole ("customer support" is one topic, not two).
PHRASES = frozenset(key for key in SYNONYMS if len(key) > 1)
MAX_PHRASE = max(len(p) for p in PHRASES)


def synonym_forms(term: str) -> tuple[tuple[str, ...], ...]:
    """Related terms for a topic as normalised word tuples (for matching); empty when unknown."""
    return SYNONYMS.get(words(term), ())


def synonyms(term: str) -> tuple[str, ...]:
    """Related terms for a topic as spelled in the synonym table (for full-text search)."""
    return _SYNONYM_TEXT.get(words(term), ())
