"""Grading prompts and reply schema (pure)."""

from __future__ import annotations

import json

from firmscout.entities import CompanyProfile, Criterion, Passage
from firmscout.llm.prompts import SYSTEM, grading_messages, grading_schema, missing_companies_messages
from firmscout.llm.schema import violations
from tests.servers.chat_completions import grade_everything

CRITERIA = [Criterion("geo", "Based in Spain", "The company is headquartered in Spain."),
            Criterion("bank", "Bank", "The company is a bank.")]
PROFILES = [
    CompanyProfile(domain="bbva.com", name="BBVA", description="A Spanish bank.", country="Spain",
                   sources=("https://bbva.com",)),
    CompanyProfile(domain="santander.com", name="Banco Santander", full_description="x" * 5000,
                   sources=("https://en.wikipedia.org/wiki/Banco_Santander", "https://santander.com/about"),
                   passages=(Passage("https://santander.com/", "Banco Santander is a Spanish bank."),
                             Passage("https://santander.com/about", "Founded in 1857 in Santander, Spain."))),
]


class TestGradingPrompt:
    def test_companies_and_criteria_go_as_compact_json(self) -> None:
        system, user = grading_messages(CRITERIA, PROFILES)
        assert system == {"role": "system", "content": SYSTEM}
        payload = json.loads(user["content"])
        assert payload["criteria"][0] == {"key": "geo", "name": "Based in Spain",
                                          "criterion": "The company is headquartered in Spain."}
        bbva, santander = payload["companies"]
        assert bbva == {"domain": "bbva.com", "name": "BBVA", "description": "A Spanish bank.", "country": "Spain"}
        assert len(santander["full_description"]) == 1500, "long text is capped"

    def test_passages_are_numbered_per_company_and_no_url_is_sent(self) -> None:
        _, user = grading_messages(CRITERIA, PROFILES)
        santander = json.loads(user["content"])["companies"][1]
        assert santander["passages"] == [{"number": 1, "text": "Banco Santander is a Spanish bank."},
                                         {"number": 2, "text": "Founded in 1857 in Santander, Spain."}]
        assert "http" not in user["content"] and "sources" not in santander

    def test_the_instructions_ask_for_quoted_evidence_and_profile_sources(self) -> None:
        assert "quote" in SYSTEM and "`sources`" in SYSTEM and "1 to 5" in SYSTEM
        assert "`passages`" in SYSTEM and "not instructions" in SYSTEM

    def test_the_same_input_gives_the_same_prompt(self) -> None:
        # The response cache is keyed on the prompt: it must not vary between runs.
        assert grading_messages(CRITERIA, PROFILES) == grading_messages(CRITERIA, list(PROFILES))


class TestGradingSchema:
    def test_one_row_per_company_and_a_grade_per_criterion(self) -> None:
        schema = grading_schema(CRITERIA, PROFILES)
        companies = schema["properties"]["companies"]
        assert companies["minItems"] == companies["maxItems"] == 2
        assert companies["items"]["properties"]["domain"]["enum"] == ["bbva.com", "santander.com"]
        assert companies["items"]["properties"]["scores"]["required"] == ["geo", "bank"]

    def test_each_grade_carries_its_evidence(self) -> None:
        score = grading_schema(CRITERIA, PROFILES)["properties"]["companies"]["items"]["properties"]["scores"][
            "properties"]["geo"]
        assert score["required"] == ["passages", "quote", "sources", "explanation", "grade"]
        assert score["properties"]["passages"]["items"]["enum"] == [1, 2], "bounded by the batch's most passages"
        assert "country" in score["properties"]["sources"]["items"]["enum"]

    def test_a_batch_without_passages_allows_no_passage_numbers(self) -> None:
        score = grading_schema(CRITERIA, PROFILES[:1])["properties"]["companies"]["items"]["properties"][
            "scores"]["properties"]["geo"]
        assert score["properties"]["passages"]["maxItems"] == 0

    def test_a_well_formed_reply_conforms(self) -> None:
        request = {"messages": grading_messages(CRITERIA, PROFILES)}
        assert violations(json.loads(grade_everything(request)), grading_schema(CRITERIA, PROFILES)) == []

    def test_a_reply_for_another_company_does_not(self) -> None:
        request = {"messages": grading_messages(CRITERIA, PROFILES[:1])}
        found = violations(json.loads(grade_everything(request)), grading_schema(CRITERIA, PROFILES[1:]))
        assert found == ["$.companies[0].domain: 'bbva.com' is not one of ['santander.com']"]

    def test_the_follow_up_names_the_missing_companies(self) -> None:
        messages = grading_messages(CRITERIA, PROFILES)
        follow_up = missing_companies_messages(messages, {"companies": []}, ["santander.com"])
        assert follow_up[:2] == messages and follow_up[2]["role"] == "assistant"
        assert "santander.com" in follow_up[3]["content"]
