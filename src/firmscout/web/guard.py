"""Which URLs and addresses a page fetch may reach (pure): the SSRF guard's rules."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_PORTS = {"http": 80, "https": 443}
# Names that mean this machine or its network whatever a resolver says.
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, well-known and local-use).
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


class Blocked(Exception):
    """A URL or address the guard refuses; `reason` says which rule."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AllowList:
    """Internal hosts the operator exempts from the guard (FIRMSCOUT_WEB__ALLOW_HOSTS): names and networks."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                names.add(entry.rstrip("."))
        return cls(frozenset(names), tuple(networks))

    def allows_name(self, host: str) -> bool:
        return host in self.names

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks if network.version == address.version)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for: IPv4-mapped, 6to4, or NAT64."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_refusal(address: IPAddress) -> str | None:
    """Why `address` may not be fetched from (loopback, private, link-local incl. cloud metadata, CGNAT,
    unspecified, multicast, reserved, documentation…), or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            reason = address_refusal(inner)
            return f"{reason} (inside {address})" if reason else None
        if address.scope_id:
            return f"{address} is a scoped (link-local) address"
    # is_global is False for every special-purpose block of the IANA registries (RFC 1918, 100.64/10, 169.254/16,
    # loopback, documentation, benchmarking, reserved, ULA, Teredo…); multicast needs its own test.
    if address.is_multicast:
        return f"{address} is a multicast address"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def parse_target(url: str) -> SplitResult:
    """The URL split, if its scheme, credentials and host are acceptable at all; else `Blocked`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Blocked(f"malformed URL ({exc})") from None
    if parts.scheme not in DEFAULT_PORTS:
        raise Blocked(f"scheme {parts.scheme or '(none)'!r}: only http and https are fetched")
    if parts.username is not None or parts.password is not None:
        raise Blocked("credentials in the URL")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Blocked("no host")
    del port  # read above only to reject a malformed one
    return parts


def host_refusal(parts: SplitResult, allow: AllowList) -> str | None:
    """Why the URL's host and port may not be fetched before any lookup, or None."""
    host = (parts.hostname or "").rstrip(".").lower()
    literal = _literal(host)
    allowed = allow.allows_name(host) or (literal is not None and allow.allows_address(literal))
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    if port not in DEFAULT_PORTS.values() and not allowed:
        return f"port {port}: only 80 and 443 are fetched (FIRMSCOUT_WEB__ALLOW_HOSTS exempts named hosts)"
    if allowed:
        return None
    if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
        return f"{host} names this machine or its local network"
    if literal is not None:
        return address_refusal(literal)
    return None


def resolved_refusal(host: str, addresses: Iterable[IPAddress], allow: AllowList) -> str | None:
    """Why a name whose lookup gave `addresses` may not be fetched: any refused address refuses the name, so a
    resolver cannot slip a private address in among public ones."""
    if allow.allows_name(host.rstrip(".").lower()):
        return None
    for address in addresses:
        if allow.allows_address(address):
            continue
        reason = address_refusal(address)
        if reason:
            return f"{host} resolves to {reason}"
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
