"""SSRF guard: which URLs may be fetched and which addresses may be connected to.

The address check runs inside the connection layer (`bot.ingest.fetch.GuardedResolver`, aiohttp's
resolver hook) on the very IPs the socket is then opened to, so DNS rebinding and redirects cannot
slip a private address past it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from bot.errors import BlockedAddressError

Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# Shorthand IPv4 (2130706433, 0x7f.1, 0177.0.0.1, 127.1) that libc resolvers accept as addresses.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}\.?$", re.IGNORECASE)


def check_url(url: str) -> tuple[str, int]:
    """Refuse anything but http(s) URLs with a host; return (host, port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BlockedAddressError(f"invalid URL {url!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BlockedAddressError(f"refused URL scheme {scheme or '(none)'!r}: only http/https")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise BlockedAddressError(f"URL without a host: {url!r}")
    return host, port or (443 if scheme == "https" else 80)


def _odd_ipv4(host: str) -> bool:
    """True for numeric hosts that are not a plain dotted quad (decimal, octal or hex forms)."""
    if not _NUMERIC_HOST.match(host):
        return False
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return True
    return False


def forbidden_reason(address: IPAddress) -> str | None:
    """Why an address may not be fetched from, or None when it is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return "IPv4-mapped IPv6 address"
        if address.sixtofour is not None or address.teredo is not None:
            return "IPv6 tunnel address"
        packed = address.packed
        if packed[:12] == bytes(12) and int(address) > 1:
            return "IPv4-compatible IPv6 address"
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("CGNAT", isinstance(address, ipaddress.IPv4Address) and address in _CGNAT),
        ("not global", not address.is_global),
    )
    for reason, hit in checks:
        if hit:
            return reason
    return None


def check_host_literal(host: str) -> None:
    """Refuse odd numeric forms and literal forbidden IPs without resolving anything."""
    if _odd_ipv4(host):
        raise BlockedAddressError(f"refused numeric host form {host!r}")
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return
    reason = forbidden_reason(literal)
    if reason:
        raise BlockedAddressError(f"refused {reason} address {literal}")


async def system_resolve(host: str, port: int) -> list[str]:
    """All addresses the system resolver gives for host (TCP), in its preferred order."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(exc.errno, f"cannot resolve {host!r}: {exc.strerror}") from exc
    return [str(info[4][0]) for info in infos]


def checked_addresses(host: str, addresses: Iterable[str]) -> list[str]:
    """Refuse the host when any of its addresses is forbidden (conservative against round-robin)."""
    result: list[str] = []
    for raw in addresses:
        address = ipaddress.ip_address(raw.split("%", 1)[0])
        reason = forbidden_reason(address)
        if reason:
            raise BlockedAddressError(f"refused {host!r}: resolves to {reason} address {address}")
        result.append(str(address))
    if not result:
        raise BlockedAddressError(f"refused {host!r}: no address")
    return result
