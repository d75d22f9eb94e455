"""Requests to partner-supplied URLs: public addresses only, checked again before every send.

The address a host resolved to when it was checked is the one connected to (the request is
pinned to it, with the original Host header and TLS server name), so a DNS answer that changes
between the check and the connection cannot point a delivery at an internal service.
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field

import httpx

from app.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_PORTS = {"http": 80, "https": 443}


class UnsafeTarget(Exception):
    """The URL may not be called: wrong scheme, unresolvable, or not a public address."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where to send: the URL rewritten to the checked address, and what keeps the host's identity."""

    url: httpx.URL
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)


def is_public(address: IPAddress) -> bool:
    """Whether an address is globally routable unicast (not private, loopback, link-local, ...)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_public(embedded)
    special = address.is_private or address.is_loopback or address.is_link_local
    return address.is_global and not (special or address.is_multicast or address.is_reserved)


def parse(url_text: str) -> httpx.URL:
    """The URL as the client that sends to it reads it, if it is unambiguous; UnsafeTarget otherwise.

    Validating with the parser that sends leaves no room for two parsers to disagree. Only
    printable ASCII is taken (an internationalised host name is given in its xn-- form), and a
    host that ends in a number must be a dotted-quad address: `0177.0.0.1`, `127.1` and
    `2130706433` mean 127.0.0.1 to some resolvers and a host name to others.
    """
    if not url_text.isascii() or not url_text.isprintable() or " " in url_text:
        raise UnsafeTarget("must be printable ASCII without spaces (an international host in its xn-- form)")
    try:
        url = httpx.URL(url_text)
        host = url.host  # an xn-- label is decoded here, and may be refused
    except httpx.InvalidURL as exc:
        raise UnsafeTarget(f"is not a valid URL: {exc}") from None
    except ValueError:  # the IDNA codec's refusal
        raise UnsafeTarget("is not a valid URL: the host name is not valid IDNA") from None
    _check_numeric_host(host)
    if url.port is not None and not 0 < url.port < 65536:
        raise UnsafeTarget("port must be between 1 and 65535")
    return url


def _check_numeric_host(host: str) -> None:
    last = host.rstrip(".").rpartition(".")[2]
    if ":" in host or not (last.isdigit() or last.lower().startswith("0x")):
        return  # an IPv6 literal (the parser checked it), or a host name
    try:
        canonical = str(ipaddress.IPv4Address(host)) == host
    except ValueError:
        canonical = False
    if not canonical:
        raise UnsafeTarget("a numeric host must be a dotted-quad IPv4 address such as 192.0.2.1")


def check_scheme(url: httpx.URL, settings: Settings) -> None:
    if url.scheme == "https" or (url.scheme == "http" and settings.webhook_http_allowed):
        return
    raise UnsafeTarget("must use https")


async def resolve(url_text: str, settings: Settings) -> Target:
    """Check the URL and pin it to a permitted address its host resolves to."""
    url = parse(url_text)
    check_scheme(url, settings)
    addresses = await _addresses(url.host, url.port or DEFAULT_PORTS[url.scheme])
    if not settings.webhook_allow_private_targets and not all(is_public(a) for a in addresses):
        raise UnsafeTarget("resolves to a private, loopback or otherwise non-public address")
    return _pinned(url, addresses[0])


async def _addresses(host: str, port: int) -> list[IPAddress]:
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeTarget("host does not resolve") from None
    # Scope ids ("fe80::1%eth0") are not part of the address.
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
    if not addresses:
        raise UnsafeTarget("host does not resolve")
    return addresses


def _pinned(url: httpx.URL, address: IPAddress) -> Target:
    host_header = url.netloc.decode("ascii")
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    return Target(url=url.copy_with(host=str(address)), headers={"Host": host_header}, extensions=extensions)
