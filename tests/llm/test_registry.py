"""Settings → LLM grader."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from firmscout.config import LLMSettings, Settings
from firmscout.errors import LLMError
from firmscout.llm.grader import LLMGrader
from firmscout.llm.planner import LLMPlanner
from firmscout.llm.registry import llm_grader, llm_roles


def _settings(tmp_path: Path, **llm: object) -> Settings:
    return Settings(data_dir=tmp_path, llm=LLMSettings(**llm))


class TestLLMRoles:
    def test_one_llm_grades_and_plans(self, tmp_path: Path) -> None:
        grader, planner = llm_roles(_settings(tmp_path, base_url="http://127.0.0.1:11434/v1", model="m"))
        assert isinstance(grader, LLMGrader) and isinstance(planner, LLMPlanner)
        assert grader._llm is planner._llm, "one concurrency bound and one cache for both roles"

    def test_planning_can_be_left_to_the_local_parser(self, tmp_path: Path) -> None:
        grader, planner = llm_roles(_settings(tmp_path, base_url="http://127.0.0.1:11434/v1", model="m",
                                              plan_queries=False))
        assert isinstance(grader, LLMGrader) and planner is None

    def test_nothing_configured_means_neither(self, tmp_path: Path) -> None:
        assert llm_roles(_settings(tmp_path)) == (None, None)


class TestLLMGrader:
    def test_nothing_configured_means_the_local_method(self, tmp_path: Path) -> None:
        assert llm_grader(_settings(tmp_path)) is None

    def test_endpoint_and_model_give_the_llm_grader(self, tmp_path: Path) -> None:
        grader = llm_grader(_settings(tmp_path, base_url="http://127.0.0.1:11434/v1", model="llama3.1:8b"))
        assert isinstance(grader, LLMGrader)
        assert (tmp_path / "llm-cache.sqlite").exists()

    @pytest.mark.parametrize(("configured", "missing"), [({"base_url": "http://127.0.0.1:1/v1"}, "MODEL"),
                                                          ({"model": "gpt-4o-mini"}, "BASE_URL")])
    def test_half_a_configuration_says_what_is_missing(
        self, tmp_path: Path, configured: dict[str, str], missing: str
    ) -> None:
        with pytest.raises(LLMError, match=f"FIRMSCOUT_LLM__{missing} is not"):
            llm_grader(_settings(tmp_path, **configured))

    def test_settings_come_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name, value in {"BASE_URL": "http://h/v1", "API_KEY": "sk-x", "MODEL": "m", "MAX_CONCURRENCY": "2",
                            "BATCH_SIZE": "7", "TIMEOUT_S": "9.5"}.items():
            monkeypatch.setenv(f"FIRMSCOUT_LLM__{name}", value)
        llm = Settings().llm
        assert (llm.base_url, llm.model, llm.max_concurrency, llm.batch_size, llm.timeout_s) == (
            "http://h/v1", "m", 2, 7, 9.5)
        assert llm.api_key is not None and llm.api_key.get_secret_value() == "sk-x" and "sk-x" not in repr(llm)

    @pytest.mark.parametrize(("value", "expected"), [("omit", "omit"), ("0.3", 0.3)])
    def test_temperature_comes_from_the_environment(
        self, monkeypatch: pytest.MonkeyPatch, value: str, expected: object
    ) -> None:
        monkeypatch.setenv("FIRMSCOUT_LLM__TEMPERATURE", value)
        assert Settings().llm.temperature == expected

    @pytest.mark.parametrize("value", ["2.5", "-1", "warm"])
    def test_a_temperature_out_of_range_is_refused(self, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
        monkeypatch.setenv("FIRMSCOUT_LLM__TEMPERATURE", value)
        with pytest.raises(ValueError, match="temperature"):
            Settings()

    def test_a_worker_without_an_llm_never_imports_the_sdk(self) -> None:
        code = "import sys, firmscout.worker; print('openai' in sys.modules)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "False"
