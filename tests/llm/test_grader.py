"""LLMGrader over the real adapter and SDK, against the scripted Chat Completions server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmscout.entities import CompanyProfile, Criterion, Grade, Passage, Plan
from firmscout.errors import LLMError
from firmscout.llm.grader import LLMGrader
from firmscout.llm.openai_compatible import OpenAICompatibleLLM
from firmscout.pipeline.stages.plan import make_plan
from tests.servers.chat_completions import ChatCompletionsServer, Reply

CRITERIA = [Criterion("geo", "Based in Spain", "The company is headquartered in Spain."),
            Criterion("bank", "Bank", "The company is a bank.")]
PLAN: Plan = make_plan("banks in Spain", [c.to_dict() for c in CRITERIA])


def _profiles(n: int) -> list[CompanyProfile]:
    return [CompanyProfile(domain=f"c{i}.example", name=f"Company {i}", sources=(f"https://c{i}.example/about",))
            for i in range(n)]


def _grader(server: ChatCompletionsServer, batch_size: int = 3, **kwargs: object) -> LLMGrader:
    options: dict[str, object] = {"base_url": server.base_url, "model": "scripted-1", "timeout_s": 5.0,
                                  "backoff_s": 0.01}
    options.update(kwargs)
    return LLMGrader(OpenAICompatibleLLM(**options), batch_size=batch_size)  # type: ignore[arg-type]


def _row(domain: str, grade: int = 4, *, passages: tuple[int, ...] = (), quote: str | None = None,
         fields: tuple[str, ...] = ("name",)) -> dict[str, object]:
    name = f"Company {domain[1:].split('.')[0]}"
    return {"domain": domain, "scores": {c.key: {
        "passages": list(passages), "quote": name if quote is None else quote, "sources": list(fields),
        "explanation": f'"{domain}" says so', "grade": grade} for c in CRITERIA}}


class TestBatches:
    async def test_batches_go_in_parallel_and_grades_come_back_in_order(
        self, chat_server: ChatCompletionsServer
    ) -> None:
        chat_server.script += [Reply(delay_s=0.2) for _ in range(3)]
        grader = _grader(chat_server)
        profiles = _profiles(7)
        graded = await grader.grade(CRITERIA, profiles, PLAN)
        sent = [json.loads(body["messages"][1]["content"])["companies"] for _, body in chat_server.requests]
        assert sorted(len(batch) for batch in sent) == [1, 3, 3] and chat_server.max_in_flight == 3
        assert [g["geo"].explanation for g in graded.grades] == [
            f"LLM: Company {i} meets 'Based in Spain'." for i in range(7)]
        assert graded.grades[0]["bank"].sources == ("https://c0.example/about",)
        assert (graded.usage.prompt_tokens, graded.usage.completion_tokens) == (300, 60)

    async def test_a_model_cannot_cite_a_url(self, chat_server: ChatCompletionsServer) -> None:
        (profile,) = _profiles(1)
        # `sources` names profile fields: a URL there is off the schema and goes back for repair.
        chat_server.script.append(Reply(content=json.dumps(
            {"companies": [_row(profile.domain, fields=("https://invented.example",))]})))
        graded = await _grader(chat_server).grade(CRITERIA, [profile], PLAN)
        assert len(chat_server.requests) == 2
        assert "is not one of" in chat_server.requests[1][1]["messages"][-1]["content"]
        assert graded.grades[0]["geo"].sources == profile.sources


class TestIncompleteReplies:
    async def test_a_skipped_company_is_asked_for_once_more(self, chat_server: ChatCompletionsServer) -> None:
        a, b = _profiles(2)
        # Conforms to the schema (two rows, known domains) but grades `a` twice and `b` never.
        chat_server.script.append(Reply(content=json.dumps({"companies": [_row(a.domain), _row(a.domain)]})))
        graded = await _grader(chat_server).grade(CRITERIA, [a, b], PLAN)
        assert len(chat_server.requests) == 2 and graded.usage.prompt_tokens == 200
        assert b.domain in chat_server.requests[1][1]["messages"][-1]["content"]
        assert graded.grades[1]["geo"].explanation == "LLM: Company 1 meets 'Based in Spain'."

    async def test_skipped_twice_is_a_permanent_error(self, chat_server: ChatCompletionsServer) -> None:
        a, b = _profiles(2)
        twice_a = Reply(content=json.dumps({"companies": [_row(a.domain), _row(a.domain)]}))
        chat_server.script += [twice_a, twice_a]
        with pytest.raises(LLMError, match=f"no grades for {b.domain}") as failure:
            await _grader(chat_server).grade(CRITERIA, [a, b], PLAN)
        assert failure.value.transient is False

    async def test_grades_out_of_range_are_repaired_by_the_adapter(self, chat_server: ChatCompletionsServer) -> None:
        (profile,) = _profiles(1)
        chat_server.script.append(Reply(content=json.dumps({"companies": [_row(profile.domain, grade=9)]})))
        graded = await _grader(chat_server).grade(CRITERIA, [profile], PLAN)
        assert graded.grades[0]["geo"].grade == 5 and len(chat_server.requests) == 2


class TestFailures:
    async def test_a_permanent_failure_in_one_batch_is_raised_as_one_llm_error(
        self, chat_server: ChatCompletionsServer
    ) -> None:
        chat_server.script += [Reply(status=503), Reply(status=401), Reply(status=503)]
        with pytest.raises(LLMError, match="HTTP 401") as failure:
            await _grader(chat_server, batch_size=1, max_attempts=5).grade(CRITERIA, _profiles(3), PLAN)
        assert failure.value.transient is False

    async def test_a_rerun_is_served_from_the_cache(self, chat_server: ChatCompletionsServer, tmp_path: Path) -> None:
        from firmscout.llm.cache import ResponseCache

        profiles = _profiles(4)
        first = await _grader(chat_server, cache=ResponseCache(tmp_path / "c.sqlite")).grade(CRITERIA, profiles, PLAN)
        again = await _grader(chat_server, cache=ResponseCache(tmp_path / "c.sqlite")).grade(CRITERIA, profiles, PLAN)
        assert again.grades == first.grades and again.usage.prompt_tokens == 0
        assert len(chat_server.requests) == 2


HOME, ABOUT = "https://acme.example/", "https://acme.example/about"
ACME = CompanyProfile(
    domain="acme.example", name="Acme Bank", country="Spain", sources=("https://registry.example/acme", HOME, ABOUT),
    passages=(Passage(HOME, "Acme Bank serves small businesses across Spain."),
              Passage(ABOUT, "Founded in Madrid, we are a licensed bank since 1901.")),
)


def _acme_reply(**geo: object) -> Reply:
    bank = {"passages": [2], "quote": "a licensed bank", "sources": [], "explanation": "Licensed.", "grade": 5}
    return Reply(content=json.dumps({"companies": [{"domain": ACME.domain, "scores": {"geo": {
        "passages": [1], "quote": "across Spain", "sources": [], "explanation": "Spanish.", "grade": 5} | geo,
        "bank": bank}}]}))


class TestEvidence:
    async def test_passages_are_numbered_and_no_url_is_sent(self, chat_server: ChatCompletionsServer) -> None:
        chat_server.script.append(_acme_reply())
        await _grader(chat_server).grade(CRITERIA, [ACME], PLAN)
        body = chat_server.requests[0][1]
        (company,) = json.loads(body["messages"][1]["content"])["companies"]
        assert company["passages"] == [{"number": 1, "text": ACME.passages[0].text},
                                       {"number": 2, "text": ACME.passages[1].text}]
        assert "http" not in json.dumps(body)

    async def test_sources_are_mapped_from_passage_numbers(self, chat_server: ChatCompletionsServer) -> None:
        chat_server.script.append(_acme_reply(sources=["country"]))
        (grades,) = (await _grader(chat_server).grade(CRITERIA, [ACME], PLAN)).grades
        assert grades["bank"] == Grade(5, "Licensed.", (ABOUT,))
        assert grades["geo"] == Grade(5, "Spanish.", (HOME, "https://registry.example/acme", ABOUT)), \
            "the cited page, then the profile's sources for the field"

    async def test_an_invented_quote_caps_the_grade_at_3_with_the_reason(
        self, chat_server: ChatCompletionsServer
    ) -> None:
        chat_server.script.append(_acme_reply(quote="the largest bank in Spain", explanation="Largest in Spain."))
        (grades,) = (await _grader(chat_server).grade(CRITERIA, [ACME], PLAN)).grades
        assert grades["geo"] == Grade(3, "Largest in Spain. (quote not found in the company's pages; capped at 3)",
                                      (HOME,))
        assert grades["bank"].grade == 5

    async def test_a_quote_typed_differently_from_the_page_still_counts(
        self, chat_server: ChatCompletionsServer
    ) -> None:
        chat_server.script.append(_acme_reply(quote="“ACME BANK serves   small businesses”"))
        (grades,) = (await _grader(chat_server).grade(CRITERIA, [ACME], PLAN)).grades
        assert grades["geo"].grade == 5 and grades["geo"].explanation == "Spanish."

    async def test_a_passage_number_another_company_has_is_dropped(self, chat_server: ChatCompletionsServer) -> None:
        (other,) = _profiles(1)
        # Valid for the batch (ACME has two passages), but `other` has none.
        row = _row(other.domain, passages=(2,))
        chat_server.script.append(Reply(content=json.dumps({"companies": [
            json.loads(_acme_reply().content or "")["companies"][0], row]})))
        graded = await _grader(chat_server).grade(CRITERIA, [ACME, other], PLAN)
        assert graded.grades[1]["geo"].sources == other.sources and graded.grades[1]["geo"].grade == 4


class TestStructuredOutputFallback:
    @pytest.mark.parametrize(("flavor", "refuses", "plain"), [
        ("openai", ("json_schema",), None),
        ("vllm", ("json_schema", "json_object"), "leading_text"),
        ("llamacpp", ("json_schema", "json_object"), "fenced"),
        ("ollama", ("json_schema",), None),
        ("ollama_native", ("json_schema",), None),
    ])
    async def test_every_path_ends_in_valid_grades(
        self, flavor: str, refuses: tuple[str, ...], plain: str | None
    ) -> None:
        server = ChatCompletionsServer(flavor=flavor, refuses=refuses, plain=plain).start()
        try:
            graded = await _grader(server).grade(CRITERIA, [ACME, *_profiles(2)], PLAN)
        finally:
            server.stop()
        assert graded.grades[0]["geo"] == Grade(5, "LLM: Acme Bank meets 'Based in Spain'.", (HOME,))
        assert graded.grades[2]["bank"] == Grade(5, "LLM: Company 1 meets 'Bank'.", ("https://c1.example/about",))
        assert len(server.requests) == len(refuses) + 1
