"""Which address a request comes from, for throttling.

Behind no proxy (`trusted_proxy_hops` = 0, the default) the client is the
connection's peer and X-Forwarded-For is ignored: any client can write that
header. Behind N reverse proxies that each append the address they received
from, the client is the Nth entry from the right of X-Forwarded-For (the
entries further left were written by the client and prove nothing). This is
the rule Reflex applies to the websocket's `client_ip` when `rx.Config` gets the
same `trusted_proxy_hops` (rxconfig.py passes it), so a browser has one address
on both paths.
"""

from __future__ import annotations

import ipaddress

from studio_app.settings import get_settings

UNKNOWN = "unknown"
_MAX_LENGTH = 100


def parse_ip(text: str) -> str | None:
    """The canonical form of an IP address ("1.2.3.4", "[::1]:80" → "::1"), or None.

    A port, brackets and an IPv6 zone are dropped; an IPv4-mapped IPv6 address
    is its IPv4 address.
    """
    text = text.strip().strip('"')
    if text.startswith("["):  # [v6] or [v6]:port
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    text = text.split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def client_address(
    peer: str | None, forwarded_for: str | None, *, trusted_proxy_hops: int | None = None
) -> str:
    """The client's address from the connection's peer and the X-Forwarded-For header.

    Pass every X-Forwarded-For header of the request joined by "," (with
    Starlette: `",".join(request.headers.getlist("x-forwarded-for"))`).
    `trusted_proxy_hops` defaults to the setting (STUDIO_TRUSTED_PROXY_HOPS).
    With N hops and at least N entries, the Nth entry from the right is the
    client; with fewer entries, no header, or an entry there that is not an IP
    address, the peer is.
    """
    hops = get_settings().trusted_proxy_hops if trusted_proxy_hops is None else trusted_proxy_hops
    peer_text = (peer or "").strip()
    fallback = parse_ip(peer_text) or peer_text[:_MAX_LENGTH] or UNKNOWN
    if hops <= 0 or not forwarded_for:
        return fallback
    entries = [entry.strip() for entry in forwarded_for.split(",") if entry.strip()]
    if len(entries) < hops:
        return fallback
    return parse_ip(entries[-hops]) or fallback


def throttle_key(address: str) -> str:
    """What throttles count by: the address, or for IPv6 its /64 network.

    One IPv6 subscriber usually holds a whole /64 (2^64 addresses), so counting
    single IPv6 addresses would let one machine step around every limit.
    """
    text = (address or "").strip()
    parsed = parse_ip(text)
    if parsed is None:
        return text[:_MAX_LENGTH] or UNKNOWN
    ip = ipaddress.ip_address(parsed)
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return parsed
