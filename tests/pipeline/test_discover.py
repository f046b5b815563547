"""Candidate rows made from a source's page (pure)."""

from __future__ import annotations

from dataclasses import replace

from firmscout.entities import CompanyProfile, SourceHit
from firmscout.pipeline.stages import discover, enrich
from firmscout.web.extract import Fact
from firmscout.web.site import WebsiteProfile


def _hit(domain: str, profile: CompanyProfile | None) -> SourceHit:
    return SourceHit(domain=domain, name="Banco", source="extruct_db", url=f"https://{domain}",
                     snippet="Retail bank", profile=profile)


class TestCandidateRows:
    def test_a_hit_with_a_profile_stores_only_the_profile(self) -> None:
        profile = CompanyProfile(domain="banco.es", name="Banco", description="Retail bank", website="banco.es")
        [row] = discover.candidate_rows([_hit("banco.es", profile)], frozenset())
        assert row["hit"] == {} and row["profile"] == profile.to_dict()
        assert enrich.profile_from_hit("banco.es", row["hit"], row["profile"]) == profile

    def test_a_hit_without_a_profile_keeps_what_enrichment_builds_one_from(self) -> None:
        [row] = discover.candidate_rows([_hit("banco.es", None)], frozenset())
        assert row["hit"] == {"name": "Banco", "url": "https://banco.es", "snippet": "Retail bank"}
        profile = enrich.profile_from_hit("banco.es", row["hit"], row["profile"])
        assert (profile.name, profile.description, profile.sources) == ("Banco", "Retail bank", ("https://banco.es",))

    def test_the_sites_own_name_replaces_a_search_results_title(self) -> None:
        guessed = enrich.profile_from_hit("minevi.de", {"name": "Industrial Robots in Germany"}, None)
        site = WebsiteProfile(domain="minevi.de", pages=(), name=Fact("Minevi Association", "http://minevi.de/"))
        assert enrich.with_website(guessed, site).name == "Minevi Association"
        stored = CompanyProfile(domain="banco.es", name="Banco Santander", website="banco.es")
        assert enrich.with_website(stored, replace(site, domain="banco.es")).name == "Banco Santander", \
            "a database record's name stays"

    def test_excluded_and_repeated_domains_are_dropped(self) -> None:
        rows = discover.candidate_rows([_hit("a.es", None), _hit("b.es", None), _hit("a.es", None)],
                                       frozenset({"b.es"}))
        assert [row["domain"] for row in rows] == ["a.es"]
