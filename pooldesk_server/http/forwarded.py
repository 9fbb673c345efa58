"""Who the client is behind a reverse proxy.

`X-Forwarded-For` is believed only from a peer in `POOLDESK_TRUSTED_PROXIES`. Each proxy appends
the address it received the request from, so the list is read from the right: the first address
that is not itself a trusted proxy is the client. Everything to its left was written by the
client (or by proxies the operator does not trust) and is ignored, so a client cannot pick its
own address by sending the header.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from pooldesk_server.settings import IPNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(text: str) -> IPAddress | None:
    """An address as proxies write it (`1.2.3.4`, `2001:db8::1`, `[2001:db8::1]`, or with a port
    `1.2.3.4:5678` / `[2001:db8::1]:5678`); None when it is not one. IPv4-mapped IPv6 addresses
    become IPv4."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def forwarded_client(peer: str, forwarded_for: Iterable[str], trusted: Sequence[IPNetwork]) -> str:
    """The client's address: the TCP peer, unless the peer is a trusted proxy that forwarded
    the request for someone (then the right-most untrusted `X-Forwarded-For` address)."""
    current = parse_address(peer)
    if current is None or not trusted or not is_trusted(current, trusted):
        return peer
    hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            # A trusted proxy passed on garbage: the nearest trusted hop is all that is known.
            break
        current = address
        if not is_trusted(address, trusted):
            break
    return str(current)
