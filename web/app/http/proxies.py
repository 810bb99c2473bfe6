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
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix


class TrustedProxyFix:
    """ProxyFix for requests from ``trusted`` networks; every other request goes to the app untouched."""

    def __init__(self, app: Any, hops: int, trusted: Iterable[str]) -> None:
        self.app = app
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops)
        self.trusted = [ipaddress.ip_network(network, strict=False) for network in trusted]

    def _from_a_proxy(self, peer: str | None) -> bool:
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.trusted)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self._from_a_proxy(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)
