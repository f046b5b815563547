"""What a company's vector is made from: its name, industry labels, tags, products and description.

The model reads only a bounded number of word pieces (`MAX_CHARS` is about that much English), so the most
telling fields come first and the text is cut there: the vector would never see the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

MAX_CHARS = 1200


def company_text(
    *,
    name: str,
    industries: Sequence[str] = (),
    tags: Sequence[str] = (),
    products: str | None = None,
    description: str | None = None,
    full_description: str | None = None,
    max_chars: int = MAX_CHARS,
) -> str:
    parts = [name.strip()]
    labels = [str(x).strip() for x in (*industries, *tags) if str(x).strip()]
    if labels:
        parts.append(", ".join(dict.fromkeys(labels)))
    for field in (products, description):
        if field and field.strip():
            parts.append(field.strip())
    # The long description often starts like the short one; add it only when it says more.
    if full_description and full_description.strip() and full_description.strip() != (description or "").strip():
        parts.append(full_description.strip())
    text = ". ".join(parts)
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    # End on a word boundary, so the last word piece is not a fragment.
    space = cut.rfind(" ")
    return cut[:space] if space > max_chars // 2 else cut


def text_hash(text: str) -> str:
    """Identifies the text a stored vector was made from: a company whose text is unchanged is skipped."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
