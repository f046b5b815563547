"""The local method: criteria inference and grading from structured company data, without an LLM.

Pure functions only (no I/O): `parse_query` reads a query, `infer_criteria`/`plan_for_criteria` make
a plan, `grade_company` grades a profile, and `ranking` decides high-fit, relevance and the pre-filter.
"""

from firmscout.geography import lexicon
from firmscout.pipeline.local.criteria import infer_criteria, plan_for_criteria
from firmscout.pipeline.local.grader import grade_company
from firmscout.pipeline.local.query_parser import ParsedQuery, parse_query
from firmscout.pipeline.local.ranking import is_high_fit, passes_prefilter, relevance


def warm_up() -> None:
    """Build the lazily loaded tables now (pycountry's database and the place lexicon), so a worker's first
    task does not pay for them."""
    lexicon()
    parse_query("banks in Spain founded before 1900 with over 1,000 employees")


__all__ = [
    "ParsedQuery",
    "grade_company",
    "infer_criteria",
    "is_high_fit",
    "parse_query",
    "passes_prefilter",
    "plan_for_criteria",
    "relevance",
    "warm_up",
]
