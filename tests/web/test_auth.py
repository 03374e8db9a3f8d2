"""The access rule: open on loopback, a token anywhere else, a cookie after the first visit."""

from __future__ import annotations

import pytest

from echosr_edge.web.auth import Access, is_loopback, parse_address, url_host


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_addresses_are_recognised(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.20", "10.0.0.5", "fe80::1", "echo-box.local"])
def test_every_other_address_counts_as_the_network(host):
    assert not is_loopback(host)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("8765", ("127.0.0.1", 8765)),
        ("0.0.0.0:9000", ("0.0.0.0", 9000)),
        ("192.168.1.20", ("192.168.1.20", 8765)),
        (":9000", ("127.0.0.1", 9000)),
        ("[::]:8080", ("::", 8080)),
        ("", ("127.0.0.1", 8765)),
    ],
)
def test_serve_addresses_read_as_host_and_port(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize("text, problem", [("host:http", "not a number"), ("::1:80", "brackets"), ("1.2.3.4:70000", "outside")])
def test_malformed_serve_addresses_say_what_is_wrong(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_address(text)


def test_an_open_server_lets_everyone_in():
    assert Access.open().decide(None, None, None) == 200


def test_a_protected_server_answers_401_without_a_credential_and_403_with_a_wrong_one():
    access = Access.with_token()
    assert access.decide(None, None, None) == 401
    assert access.decide("guess", None, None) == 403
    assert access.decide(None, "guess", None) == 403
    assert access.decide(None, None, access.token) == 403  # the cookie is not the token


def test_the_token_or_the_cookie_it_was_exchanged_for_lets_in():
    access = Access.with_token()
    assert access.decide(access.token, None, None) == 200
    assert access.decide(None, access.token, None) == 200
    assert access.decide(None, None, access.cookie_value) == 200


def test_each_server_run_gets_a_fresh_unguessable_token():
    a, b = Access.with_token(), Access.with_token()
    assert a.token != b.token and a.cookie_value != b.cookie_value
    assert len(a.token) >= 32


def test_ipv6_hosts_are_bracketed_in_urls():
    assert url_host("fe80::1") == "[fe80::1]" and url_host("10.0.0.5") == "10.0.0.5"
