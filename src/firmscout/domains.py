"""Registered-domain normalization (eTLD+1) from the Public Suffix List snapshot bundled with tldextract.

No network at run time: `suffix_list_urls=()` makes tldextract use only its bundled snapshot.
"""

from __future__ import annotations

import re

import tldextract

# cache_dir=None: never write a cache; the bundled snapshot is parsed once per process.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def registered_domain(value: str) -> str | None:
    """Return the lower-cased, IDNA-encoded eTLD+1 of a URL or host, or None if it has no public suffix.

    `https://www.Acme.com/about` → `acme.com`; `blog.acme.co.uk` → `acme.co.uk`; `localhost` → None.
    """
    text = value.strip()
    # One split instead of a per-character generator: this runs once per imported row.
    if not text or len(text.split(maxsplit=1)) != 1:
        return None
    if not _SCHEME.match(text):
        text = "http://" + text
    # Drop scheme, credentials, path, query, fragment and port by hand: urllib rejects some junk ports.
    host = text.split("://", 1)[1]
    host = re.split(r"[/?#]", host, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1]
    if host.startswith("["):  # IPv6 literal: never a registered domain
        return None
    host = host.split(":", 1)[0].rstrip(".").lower()
    if not host:
        return None
    if not host.isascii():
        # ASCII hosts skip the codec: the label check below rejects what it would (empty or over-long labels).
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    labels = host.split(".")
    if not all(_HOST_LABEL.match(label) for label in labels):
        return None
    parts = _EXTRACT.extract_str(host)
    if not parts.suffix or not parts.domain:
        return None
    return f"{parts.domain}.{parts.suffix}"
