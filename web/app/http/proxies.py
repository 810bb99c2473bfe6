"""Believe X-Forwarded-* only from the proxies the app runs behind.

Werkzeug's ProxyFix trusts the last ``hops`` entries of the headers whoever
sent them. Behind nginx that is right; but a client that reaches gunicorn
directly (a published port, a misrouted firewall) could pick its own address
and so sidestep the per-address login limits. So ProxyFix applies only to
requests whose peer is in TRUSTED_PROXIES, the networks gunicorn's
FORWARDED_ALLOW_IPS names too (an IPv4 peer seen as ::ffff:a.b.c.d on a dual
stack socket counts as a.b.c.d). A peer on a Unix socket has no address and
is never trusted: put the proxy on TCP. With PROXY_HOPS above 1 only the
nearest proxy is checked; the ones before it are trusted by count.

X-Forwarded-Prefix (a proxy that strips the path Notes is served under says
which) is believed only when URL_PREFIX is set, and app/http/prefix.py then
serves nothing unless it names that prefix: without one a stray header
could otherwise move every link the app builds.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(trusted: Iterable[str]) -> list[Network]:
    """``trusted`` (addresses or CIDR networks) parsed; ValueError names a bad entry."""
    return [ipaddress.ip_network(network, strict=False) for network in trusted]


def is_trusted_peer(peer: str | None, trusted: list[Network]) -> bool:
    """True when the peer address ``peer`` lies in one of ``trusted``; never for a Unix socket (no address)."""
    try:
        address = ipaddress.ip_address(peer or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in trusted)


class TrustedProxyFix:
    """ProxyFix for requests from ``trusted`` networks; every other request goes to the app untouched."""

    def __init__(self, app: Any, hops: int, trusted: Iterable[str], *, prefix: bool = False) -> None:
        """``prefix``: believe X-Forwarded-Prefix too (the app has a URL_PREFIX)."""
        self.app = app
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops if prefix else 0)
        self.trusted = networks(trusted)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if is_trusted_peer(environ.get("REMOTE_ADDR"), self.trusted):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)
