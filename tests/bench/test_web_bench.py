"""bench.web's scoring against the generated web's truth, its target verdicts and its block (pure)."""

from __future__ import annotations

from bench.common import check_block
from bench.web import Match, Mode, Read, match, section, verdicts
from firmscout.web.extract import Fact
from firmscout.web.pages import PageOutcome
from firmscout.web.site import WebsiteProfile
from tests.servers.web import GeneratedCompany, generated_web

TRUTH = GeneratedCompany(index=0, host="kalomi-robotics.example", name="Kalomi Robotics GmbH", country="United Kingdom",
                         founded=1999, employees=120, industry="robotics", about_path="/about", graph=False)


def _profile(*, fetched: bool = True, **facts: object) -> WebsiteProfile:
    url = f"http://{TRUTH.host}/"
    page = PageOutcome(TRUTH.host, None, error="timeout") if not facts else \
        PageOutcome(TRUTH.host, None, cached=not fetched, bytes=2000 if fetched else 0)
    return WebsiteProfile(TRUTH.host, (page,), **{k: Fact(v, url) for k, v in facts.items()})  # type: ignore[arg-type]


def _mode(name: str, per_minute: float, *, requests: int = 600, in_flight: int = 64) -> Mode:
    reads = [Read.of(_profile(name=TRUTH.name), TRUTH, 1.0) for _ in range(100)]
    return Mode(name, "settings", reads, wall_s=100 / per_minute * 60, requests=requests, peak_in_flight=in_flight,
                peak_rss_mib=150.0, cpu_s=5.0, proxy_cpu_s=0.5)


class TestMatch:
    def test_facts_equal_to_the_truth(self) -> None:
        profile = _profile(name="  kalomi  robotics gmbh", country="UK", founded_year=1999, employees=120)
        assert match(profile, TRUTH) == Match(name=True, country=True, founded=True, employees=True)

    def test_wrong_or_missing_facts_are_misses(self) -> None:
        profile = _profile(name="Kalomi Robotics", country="Germany", founded_year="1999")
        assert match(profile, TRUTH) == Match(name=False, country=False, founded=False, employees=False)

    def test_an_unread_homepage_matches_nothing(self) -> None:
        assert match(_profile(), TRUTH) == Match(False, False, False, False)

    def test_the_generated_truth_matches_itself(self) -> None:
        truth = generated_web(50, seed=3).company(7)
        profile = WebsiteProfile(truth.host, (), name=Fact(truth.name, ""), country=Fact(truth.country, ""),
                                 founded_year=Fact(truth.founded, ""), employees=Fact(truth.employees, ""))
        assert match(profile, truth) == Match(True, True, True, True)


class TestVerdicts:
    def test_all_met(self) -> None:
        text = verdicts(_mode("polite", 800), _mode("off", 900), _mode("rerun", 9000, requests=0), 180.0)
        assert "NOT met" not in text and "rerun fetches nothing (0 requests" in text

    def test_each_miss_is_named_with_its_figure(self) -> None:
        rerun = _mode("rerun", 9000, requests=3)
        text = verdicts(_mode("polite", 50), _mode("off", 900), rerun, 612.0)
        missed = text.split("NOT met: ", 1)[1]
        assert "polite (50)" in missed and "(612 MiB)" in missed and "3 requests" in missed
        assert "politeness off (900)" in text.split("NOT met", 1)[0]


class TestSection:
    def test_a_block_without_headings_or_dates(self) -> None:
        polite, fast, rerun = _mode("polite", 800), _mode("politeness off", 900), _mode("rerun", 9000, requests=0)
        text = section([polite, fast, rerun], sites=5000, seed=0, concurrency=64, start_mib=100.0, peak_mib=180.0,
                       proxy_peak_mib=100.0, verdict=verdicts(polite, fast, rerun, 180.0))
        check_block(text)
        rows = [line for line in text.splitlines() if line.startswith("| polite |")]
        assert len(rows) == 1 and "| **800** |" in rows[0] and "| 100.0 % |" in rows[0]
        assert rows[0].count("|") == text.splitlines()[2].count("|")
