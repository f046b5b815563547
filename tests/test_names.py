"""Company names compared across domains and pages."""

from __future__ import annotations

from firmscout.names import name_key, names_agree, same_company_name


def test_legal_forms_case_and_punctuation_do_not_count() -> None:
    assert name_key("ACME Robotics, Inc.") == name_key("Acme Robotics") == "acme robotics"


def test_one_companys_name_in_two_spellings() -> None:
    assert same_company_name("Hidden Robotics GmbH", "Hidden Robotics")
    assert same_company_name("ACME, Inc.", "Acme") and same_company_name("Acme Robotic", "Acme Robotics")
    assert not same_company_name("Acme", "Acme Robotics") and not same_company_name("Acme", "Apex")
    assert names_agree("Acme", "Acme Robotics") and not names_agree("Acme", "Acmes Robotics")
