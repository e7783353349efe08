"""Who is on the other end of a request, as the audit trail records it: the client's address and user agent.

The address is the socket's peer, unless the peer is a trusted proxy (TRUSTED_PROXIES): then it is the nearest
untrusted hop of X-Forwarded-For, read from the right (each proxy appends the address it received from, so hops
left of an untrusted one are whatever that client claimed), or the left-most hop when every hop is trusted.
uvicorn applies exactly this rule to the ASGI scope before the app sees it (proxy_headers, `forwarded_allow_ips`);
exitus hands it TRUSTED_PROXIES (exitus.serve.server_settings) rather than parse the header a second time, so one
implementation decides, and the scope's `client` is the answer. With no trusted proxies the header is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

MAX_USER_AGENT = 512


def client_ip(scope: Mapping[str, Any]) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


def user_agent(scope: Mapping[str, Any]) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"user-agent":
            return value.decode("latin-1").replace("\x00", "")[:MAX_USER_AGENT] or None
    return None


def parse_trusted_proxies(value: str) -> tuple[str, ...]:
    """TRUSTED_PROXIES: comma-separated addresses or networks (CIDR). Raises ValueError naming a bad entry (uvicorn
    would silently treat it as a host name that never matches)."""
    entries = tuple(entry.strip() for entry in value.split(",") if entry.strip())
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False) if "/" in entry else ipaddress.ip_address(entry)
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return entries


def forwarded_allow_ips(trusted: tuple[str, ...]) -> str:
    """uvicorn's `forwarded_allow_ips` for TRUSTED_PROXIES: empty trusts no peer (uvicorn's default trusts
    127.0.0.1, which would let any local client name its own address)."""
    return ",".join(trusted)
