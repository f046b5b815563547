"""Words: normalisation, stopwords and the synonym table shared by the query parser and the grader.

Both sides of every comparison go through `words()`, so a query's "banks" and a database label's
"Banks" meet as "bank" however crude the singularisation is. The normaliser itself lives in
`firmscout.geography`, because place names must be normalised the same way and sit in a lower layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
        # Head nouns: they say what kind of organisation is wanted, never what it does ("defense contractors"
        # are defense companies; requiring the word "contractor" found 2 of them).
        "contractor",
        "subcontractor",
        "operator",
        "builder",
        "house",
        "outfit",
        "shop",
        "agency",
        "specialist",
        "leader",
        "giant",
        "incumbent",
        "conglomerate",
        "holding",
        "venture",
    }
)

# Product nouns that name a form rather than a field: "payroll software" is a payroll product, "AI tools" an
# AI product. They are dropped beside a real topic; alone before a buyer ("software for restaurants") they
# become SOFTWARE_PRODUCT, and alone without one ("German software companies") they stay the topic.
PRODUCT_HEADS = frozenset(
    {"software", "app", "application", "tool", "tooling", "platform", "solution", "system", "saas", "product",
     "service", "program", "suite"}
)
SOFTWARE_PRODUCT = "software product"

# The topic mini-language of `Constraints.topics` (plain strings, so plans stored before it still load):
# "a | b" is one topic met by either alternative ("automobile and auto parts manufacturers"), and
# "for y" is the buyer or use of a product ("payroll software for small businesses" → "payroll",
# "for small business"), found in what the company says about its customers, never in its own labels.
ALTERNATIVE_SEP = " | "
BUYER_PREFIX = "for "

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
        "transport",
        "transportation",
        "supply chain",
        "delivery",
        "courier",
        "air freight and logistics",
        "<trucking",
        "<shipping",
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
    ("steel", "steelmaker"),
    ("mining", "metals and mining", "mineral", "mine", "miner", "mineral resources"),
    (
        "construction",
        "construction and engineering",
        "homebuilding",
        "construction material",
        "engineering and construction",
    ),
    ("food", "food processing", "food and beverage", "food product", "packaged food"),
    ("beverage", "drink", "<brewer", "<brewery", "drink industry", "<spirits", "<distiller", "<winery"),
    ("healthcare", "health care", "health tech", "medical", "digital health", "health"),
    ("medical device", "medtech", "medical equipment", "medical technology", "health care equipment"),
    ("cybersecurity", "cyber security", "security", "infosec", "devsecops"),
    ("hr", "human resources", "hr tech", "recruiting", "payroll"),
    ("education", "edtech", "e learning", "elearning", "learning"),
    ("crypto", "cryptocurrency", "blockchain", "web3", "crypto web3", "defi"),
    ("gaming", "game", "video game", "esports"),
    # Not "automation": most of it is software (workflows, RPA), and robots are what is asked.
    ("robotics", "robot", "industrial automation"),
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
    # Multi-word industries: kept whole so that a label naming a part ("Industrials", "Semiconductors")
    # is not taken for the whole.
    (
        "semiconductor equipment",
        "semiconductor equipment and testing",
        "semiconductor equipment and material",
        "wafer fabrication equipment",
        "chip making equipment",
        "chipmaking equipment",
        "lithography",
        "wafer processing equipment",
    ),
    ("industrial robot", "industrial robotics", "robotic arm", "factory automation", "<robot"),
    (
        "auto part",
        "auto component",
        "automotive part",
        "automotive component",
        "auto parts and equipment",
        "automotive supplier",
        "car part",
        "vehicle component",
    ),
    ("automobile", "automobiles", "automaker", "carmaker", "car manufacturer", "motor vehicle", "passenger vehicle",
     "auto and truck manufacturer", "automotive"),
    ("defense contractor", "defense", "defence", "aerospace and defense", "military"),
    ("payroll", "payroll software", "payroll processing", "salary payment"),
    ("small business", "smb", "sme", "small and medium", "small and medium sized business", "small businesses",
     "small and midsize business", "small medium business", "<merchant"),
    ("restaurant tech", "restaurant technology", "restaurant"),
    ("accounting", "bookkeeping", "accountant", "accounting software"),
    ("telehealth", "telemedicine", "virtual care", "remote care", "online doctor"),
    ("crm", "customer relationship management", "sales software", "sales crm"),
    ("solar", "solar energy", "solar panel", "photovoltaic", "solar power", "solar module"),
    ("steel", "steelmaker", "steel producer", "steel product", "iron and steel"),
    ("lithium", "lithium mining", "battery metal"),
    ("fertilizer", "fertiliser", "agricultural chemical", "potash", "nitrogen"),
    ("brewery", "brewer", "beer", "brewing"),
    ("craft brewery", "craft beer", "craft brewer", "craft brewing", "microbrewery", "brewpub"),
    ("3d printing", "3d printer", "3d print", "3d printed", "additive manufacturing"),
    ("spirits", "spirit", "distiller", "distillery", "liquor", "whisky", "whiskey", "vodka"),
    ("wine", "winery", "winemaker", "vineyard", "champagne", "sparkling wine"),
    ("trucking", "truckload", "freight trucking", "truck transportation", "road freight", "trucker", "truck driver",
     "truck fleet"),
    ("airline", "air carrier", "passenger airline", "air transport"),
    ("database", "databases", "data store", "<sql"),
    ("lawyer", "law firm", "legal", "attorney", "legal team", "legaltech"),
    ("pet", "pets", "<dog", "<cat", "pet owner", "veterinary", "veterinarian", "vet clinic", "animal health"),
    # Narrow throughout: any of them shows a software product, but "software" alone must not widen to "online".
    (SOFTWARE_PRODUCT, *(f"<{term}" for term in ("software", "saas", "app", "platform", "tool", "api", "cloud",
                                                "online", "ai", "automation", "digital", "technology", "tech",
                                                "marketplace", "b2b"))),
)


def _narrow(row: tuple[str, ...]) -> set[int]:
    """The entries of a row narrower than its concept: marked "<", or the concept's own words after a
    modifier ("water utility" is a kind of utility, as "generative ai" is of ai)."""
    head = words(row[0])
    return {
        i for i, term in enumerate(row)
        if term.startswith("<") or (len(form := words(term)) > len(head) and form[-len(head):] == head)
    }


def _build_index() -> tuple[dict[tuple[str, ...], tuple[tuple[str, ...], ...]], dict[tuple[str, ...], tuple[str, ...]]]:
    forms_index: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    text_index: dict[tuple[str, ...], list[str]] = {}
    for row in _SYNONYM_ROWS:
        # A narrower term is found by asking for its row's terms, but asking for it does not widen to the
        # whole row ("bank" finds neobanks; "neobank" must not find every lender, nor "water utility" power).
        narrow = _narrow(row)
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


def _build_wider() -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    # A "<term" is a kind of its row's concept: trucking is logistics, a neobank is a bank.
    wider: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for row in _SYNONYM_ROWS:
        narrow = _narrow(row)
        broad = [words(term) for i, term in enumerate(row) if i not in narrow]
        for term in (t for t in row if t.startswith("<")):
            bucket = wider.setdefault(words(term[1:]), [])
            bucket.extend(f for f in broad if f not in bucket)
    return {key: tuple(value) for key, value in wider.items()}


# Narrow term → the wider fields it belongs to, as normalised word tuples.
WIDER = _build_wider()

# Multi-word terms the parser keeps whole ("customer support" is one topic, not two).
PHRASES = frozenset(key for key in SYNONYMS if len(key) > 1)
MAX_PHRASE = max(len(p) for p in PHRASES)


def synonym_forms(term: str) -> tuple[tuple[str, ...], ...]:
    """Related terms for a topic as normalised word tuples (for matching); empty when unknown."""
    return SYNONYMS.get(words(term), ())


def synonyms(term: str) -> tuple[str, ...]:
    """Related terms for a topic as spelled in the synonym table (for full-text search)."""
    return _SYNONYM_TEXT.get(words(term), ())


@dataclass(frozen=True)
class Qualifier:
    """Something a query asks of a company that no structured field records (funding stage, backer, hiring,
    remote work): graded from what the company's description, tags or website say, "unknown" otherwise."""

    name: str  # as criteria name it: "Series A", "Y Combinator-backed"
    key: str  # the inferred criterion's key
    sentence: str  # the inferred criterion's text; the query parser reads it back to this qualifier
    query: re.Pattern[str]  # how a query says it
    evidence: re.Pattern[str]  # what confirms it in a description, tags or website text
    # Company statuses that contradict it: a listed company is past its venture rounds.
    contradicted_by: frozenset[str] = frozenset()
    # A typical upper headcount ("startups": 200); a known headcount far above it contradicts the qualifier.
    max_employees: int | None = None


def _qualifier(name: str, key: str, sentence: str, query: str, evidence: str, *contradicted_by: str,
               max_employees: int | None = None) -> Qualifier:
    return Qualifier(name, key, sentence, re.compile(query, re.I), re.compile(evidence, re.I),
                     frozenset(contradicted_by), max_employees)


# The head noun "startups" implies a size, but softly: directories often leave the headcount out, and a
# 250-person company is still a startup to most people who ask. So it is a qualifier (unknown is not held
# against a company), not a size bound (unknown grades 2, and the bound filters the search).
STARTUP = "startup"
STARTUP_EMPLOYEES = 200


_VENTURE = ("public", "inactive")
QUALIFIERS: tuple[Qualifier, ...] = (
    *(
        _qualifier(
            f"Series {letter.upper()}", "funding_stage", f"The company has raised a Series {letter.upper()} round.",
            rf"\bseries[- ]{letter}\b(?:[- ](?:funded|stage|backed|round))?", rf"\bseries[- ]{letter}\b", *_VENTURE,
        )
        for letter in "abcde"
    ),
    _qualifier("seed-stage", "funding_stage", "The company is at the seed stage (pre-seed or seed funding).",
               r"\b(?:pre[- ]?)?seed[- ](?:stage|funded|round)\b|\bpre[- ]?seed\b|\bseed[- ]stage\b",
               r"\b(?:pre[- ]?)?seed (?:round|funding|stage|investment)\b|\bpre[- ]?seed\b", *_VENTURE),
    _qualifier(STARTUP, "startup", "The company is a startup: a young, venture-scale company, not an established one.",
               r"\bstart[- ]?ups?\b",
               r"\bstart[- ]?ups?\b|\by ?combinator\b|\bventure[- ]backed\b|\bseed (?:round|funding)\b|"
               r"\bseries[- ][a-c]\b", "public", max_employees=STARTUP_EMPLOYEES),
    _qualifier("early-stage", "funding_stage", "The company is early-stage (its first venture rounds).",
               r"\bearly[- ]stage\b", r"\bearly[- ]stage\b|\bseed (?:round|funding)\b|\bseries[- ]a\b", *_VENTURE),
    _qualifier("venture-backed", "funding_stage", "The company is venture-backed (has raised venture capital).",
               r"\b(?:venture|vc)[- ](?:backed|funded)\b",
               r"\bbacked by\b|\bventure[- ](?:backed|capital)\b|\braised\b|\bseries[- ][a-f]\b|\bseed round\b|"
               r"\by ?combinator\b"),
    _qualifier("Y Combinator-backed", "investor", "The company is backed by Y Combinator (a YC company).",
               r"\b(?:backed by |funded by )?(?:y[- ]?combinator|yc)(?:[- ](?:backed|funded|alumni|batch))?\b",
               r"\by ?combinator\b|\byc\b|\((?:yc )?[swfx]\d{2}\)"),
    _qualifier("bootstrapped", "funding_stage", "The company is bootstrapped (self-funded, no venture capital).",
               r"\bbootstrapped\b|\bself[- ]funded\b", r"\bbootstrapped\b|\bself[- ]funded\b"),
    _qualifier("hiring", "hiring", "The company is currently hiring.",
               r"\b(?:that|which|who)\s+(?:are|is)\s+(?:currently\s+|actively\s+)?hiring\b|"
               r"\b(?:currently|actively|now)\s+hiring\b|\bhiring\s*$",
               r"\bwe(?:'re| are) hiring\b|\bnow hiring\b|\bjoin (?:our|the) team\b|\bopen (?:roles|positions)\b|"
               r"\bcareers?\b|\bhiring\b", "inactive", "acquired"),
    _qualifier("remote-first", "remote_work", "The company works remotely (a remote-first or distributed team).",
               r"\bremote[- ](?:first|friendly|only)\b|\bfully[- ]remote\b|"
               r"\b(?:distributed|remote)(?= (?:compan|startup|firm|team|employer|organi))|\bwork(?:ing)? remotely\b",
               r"\bremote[- ](?:first|friendly|only|team|company|work|workforce)\b|\bfully[- ]remote\b|"
               r"\bdistributed team\b|\bwork from anywhere\b|\bwork remotely\b"),
)

QUALIFIER_BY_SENTENCE = {q.sentence: q for q in QUALIFIERS}
QUALIFIER_KEYS = frozenset(q.key for q in QUALIFIERS)
