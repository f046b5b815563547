"""The SSRF guard's rules: what a page fetch may reach before and after a lookup."""

from __future__ import annotations

import ipaddress

import pytest

from firmscout.web.guard import AllowList, Blocked, address_refusal, host_refusal, parse_target, resolved_refusal

NONE = AllowList()


def _refusal(url: str, allow: AllowList = NONE) -> str | None:
    return host_refusal(parse_target(url), allow)


class TestUrls:
    @pytest.mark.parametrize("url", ["ftp://acme.com/", "file:///etc/passwd", "gopher://acme.com", "acme.com/x",
                                     "javascript:alert(1)"])
    def test_only_http_and_https(self, url: str) -> None:
        with pytest.raises(Blocked, match="scheme"):
            parse_target(url)

    @pytest.mark.parametrize("url", ["http://user:pass@acme.com/", "https://user@acme.com/", "http://:x@acme.com"])
    def test_no_credentials(self, url: str) -> None:
        with pytest.raises(Blocked, match="credentials"):
            parse_target(url)

    @pytest.mark.parametrize("url", ["http://acme.com:8081/", "https://acme.com:22/", "http://acme.com:6379"])
    def test_ports_other_than_80_and_443_only_for_allowed_hosts(self, url: str) -> None:
        assert "port" in (_refusal(url) or "")
        assert _refusal(url, AllowList.parse(["acme.com"])) is None

    @pytest.mark.parametrize("url", ["http://acme.com/", "https://acme.com:443/x", "http://93.184.216.34/",
                                     "http://[2606:2800:220:1::]/"])
    def test_public_hosts_pass_before_lookup(self, url: str) -> None:
        assert _refusal(url) is None


class TestAddresses:
    @pytest.mark.parametrize("address", [
        "127.0.0.1", "127.8.9.10", "10.0.0.5", "172.16.3.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.2.1", "198.18.0.1",
        "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "2001:db8::1",
        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a00:5", "64:ff9b::7f00:1", "2002:a00:5::",
    ])
    def test_every_non_public_form_is_refused(self, address: str) -> None:
        assert address_refusal(ipaddress.ip_address(address)) is not None

    @pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:2800:220:1::", "::ffff:8.8.8.8",
                                         "64:ff9b::808:808"])
    def test_public_addresses_pass(self, address: str) -> None:
        assert address_refusal(ipaddress.ip_address(address)) is None

    @pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://[::1]/", "http://169.254.169.254/latest/meta-data/",
                                     "http://10.0.0.5/", "http://[::ffff:10.0.0.5]/", "http://localhost/",
                                     "http://api.localhost/", "http://printer.local/", "http://LOCALHOST./"])
    def test_literal_addresses_and_local_names_are_refused_before_any_lookup(self, url: str) -> None:
        assert _refusal(url) is not None

    def test_a_name_is_refused_if_any_of_its_addresses_is(self) -> None:
        public, private = ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.5")
        assert resolved_refusal("acme.com", [public], NONE) is None
        assert "10.0.0.5" in (resolved_refusal("acme.com", [public, private], NONE) or "")

    def test_allowed_hosts_and_networks_are_exempt(self) -> None:
        allow = AllowList.parse(["intranet.corp", "10.1.0.0/16", " ", "fd00::/8"])
        assert _refusal("http://10.1.2.3/", allow) is None and _refusal("http://10.2.0.1/", allow) is not None
        assert resolved_refusal("intranet.corp", [ipaddress.ip_address("10.9.9.9")], allow) is None
        assert resolved_refusal("wiki.corp", [ipaddress.ip_address("10.1.9.9")], allow) is None
        assert resolved_refusal("wiki.corp", [ipaddress.ip_address("fd00::5")], allow) is None
