"""Which address a request comes from (services/client_address.py), as a header forger sees it."""

from __future__ import annotations

import os
import subprocess
import sys
import types

import pytest

from studio_app.services.client_address import client_address, throttle_key
from studio_app.settings import PROJECT_ROOT, reload_settings

PEER = "10.0.0.2"


@pytest.mark.parametrize(
    ("hops", "forwarded_for", "expected"),
    [
        (0, "1.1.1.1", PEER),  # no proxy: the header is the client's own claim
        (1, None, PEER),
        (1, "", PEER),
        (1, "1.1.1.1", "1.1.1.1"),
        (1, "6.6.6.6, 1.1.1.1", "1.1.1.1"),  # the client wrote 6.6.6.6; our proxy 1.1.1.1
        (2, "6.6.6.6, 1.1.1.1, 2.2.2.2", "1.1.1.1"),
        (2, "1.1.1.1", PEER),  # fewer entries than proxies: not through the chain
        (1, "1.1.1.1, not-an-ip", PEER),  # garbage where the client should be
        (1, "garbage, , 1.1.1.1", "1.1.1.1"),  # garbage further left is not looked at
        (1, " 1.1.1.1:5555 ", "1.1.1.1"),
        (1, "[2001:DB8::1]:443", "2001:db8::1"),
        (1, "::ffff:192.0.2.1", "192.0.2.1"),
        (1, "fe80::1%eth0", "fe80::1"),
    ],
)
def test_the_client_is_the_nth_entry_from_the_right(
    hops: int, forwarded_for: str | None, expected: str
) -> None:
    assert client_address(PEER, forwarded_for, trusted_proxy_hops=hops) == expected


@pytest.mark.parametrize(("peer", "expected"), [(None, "unknown"), ("", "unknown"), ("::1", "::1")])
def test_without_a_usable_header_the_peer_is_the_client(peer: str | None, expected: str) -> None:
    assert client_address(peer, "1.1.1.1", trusted_proxy_hops=0) == expected


def test_the_hop_count_comes_from_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_TRUSTED_PROXY_HOPS", "1")
    reload_settings()
    try:
        assert client_address(PEER, "6.6.6.6, 1.1.1.1") == "1.1.1.1"
    finally:
        monkeypatch.undo()
        reload_settings()
    assert client_address(PEER, "6.6.6.6, 1.1.1.1") == PEER


@pytest.mark.parametrize(
    "forwarded_for",
    ["1.1.1.1", "6.6.6.6, 1.1.1.1", "5.5.5.5, 6.6.6.6, 1.1.1.1, 2.2.2.2", "", "2001:db8::7"],
)
@pytest.mark.parametrize("hops", [0, 1, 2, 3])
def test_the_websocket_sees_the_same_address(
    hops: int, forwarded_for: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reflex's own rule for the websocket's client_ip (rx.Config.trusted_proxy_hops)."""
    import reflex.app

    monkeypatch.setattr(
        reflex.app, "get_config", lambda: types.SimpleNamespace(trusted_proxy_hops=hops)
    )
    scope = {"client": (PEER, 50000), "headers": [(b"x-forwarded-for", forwarded_for.encode())]}
    router_data = reflex.app.EventNamespace._build_static_router_data(
        None,  # type: ignore[arg-type]  (uses no instance state)
        "sid",
        {"asgi.scope": scope},
    )
    assert router_data["ip"] == client_address(PEER, forwarded_for, trusted_proxy_hops=hops)


def test_rxconfig_passes_the_setting_to_reflex() -> None:
    env = {**os.environ, "STUDIO_TRUSTED_PROXY_HOPS": "2"}
    done = subprocess.run(
        [sys.executable, "-c", "import rxconfig; print(rxconfig.config.trusted_proxy_hops)"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "2"


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::ffff", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("", "unknown"),
        ("test-client", "test-client"),
    ],
)
def test_throttles_count_ipv6_per_64_network(address: str, key: str) -> None:
    assert throttle_key(address) == key
