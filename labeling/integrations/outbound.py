"""The one check of a URL this server will call on a user's say-so (webhooks, model backends,
storage endpoints), so that none can be a way into the server's own network.

`outbound_url_check` accepts http(s) URLs without credentials whose host resolves to public
addresses only; a loopback, private, link-local (or otherwise non-public) address passes only
when `allow_private` says so: True (any, what WEBHOOKS_ALLOW_PRIVATE_HOSTS means), False (none),
or a PrivateHosts list (INTEGRATIONS_PRIVATE_HOSTS: host names and networks that may be
private, `*` for any non-public address save link-local ones and the cloud metadata service,
which must be listed by address or network).

Public: OutboundRefused, PrivateHosts, integrations_private_hosts, outbound_url_check.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# AWS's metadata service on IPv6 (a unique-local address, so not link-local); on IPv4 it is
# 169.254.169.254, as on the other clouds, which the link-local rule covers.
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("fd00:ec2::254")})


class OutboundRefused(ValueError):
    """A URL this server will not call; `field` names the field the message is about."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PrivateHosts:
    """Host names and networks allowed to resolve to non-public addresses."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()
    any_private: bool = False  # `*`

    @classmethod
    def parse(cls, entries) -> PrivateHosts:
        """From the setting's entries (a list, or one comma-separated string)."""
        if isinstance(entries, str):
            entries = entries.split(",")
        names, networks, any_private = set(), [], False
        for entry in (str(e).strip().lower().rstrip(".") for e in entries):
            if not entry:
                continue
            if entry == "*":
                any_private = True
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry)
        return cls(frozenset(names), tuple(networks), any_private)

    def names_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.names

    def allows(self, address: IPAddress) -> bool:
        if any(address in network for network in self.networks):
            return True
        return self.any_private and not (address.is_link_local or address in METADATA_ADDRESSES)


def integrations_private_hosts() -> PrivateHosts:
    """INTEGRATIONS_PRIVATE_HOSTS, read now (tests change settings as they run)."""
    return PrivateHosts.parse(settings.INTEGRATIONS_PRIVATE_HOSTS)


def _address(text: str) -> IPAddress:
    address = ipaddress.ip_address(text.split("%", 1)[0])  # without an IPv6 zone
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_public(address: IPAddress) -> bool:
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_unspecified
    )


def outbound_url_check(
    url: str,
    *,
    field: str,
    allow_private: bool | PrivateHosts,
    setting: str = "INTEGRATIONS_PRIVATE_HOSTS",
) -> None:
    """Refuse what is not http(s), carries credentials, names no host or a host that does not
    resolve, or resolves to a non-public address `allow_private` does not allow (the message
    names `setting`, the one that would allow it). Checked on save and again before requests,
    since a host's addresses may change."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https"):
        raise OutboundRefused(field, "Only http and https URLs are accepted.")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # a port that is not a number, or out of range
        raise OutboundRefused(field, f"Not a valid URL: {exc}.") from exc
    if not host:
        raise OutboundRefused(field, "The URL names no host.")
    if parts.username or parts.password:
        raise OutboundRefused(field, "The URL must not carry credentials.")
    allowed = allow_private if isinstance(allow_private, PrivateHosts) else PrivateHosts()
    if allow_private is True or allowed.names_host(host):
        return  # a listed name is trusted whatever it resolves to
    try:
        port = port or (443 if parts.scheme == "https" else 80)
        addresses = {_address(info[4][0]) for info in socket.getaddrinfo(host, port)}
    except (OSError, UnicodeError, ValueError) as exc:
        raise OutboundRefused(field, f"The host {host!r} does not resolve.") from exc
    refused = sorted(str(a) for a in addresses if not _is_public(a) and not allowed.allows(a))
    if refused:
        raise OutboundRefused(
            field,
            f"The host {host!r} resolves to a private, loopback or link-local address"
            f" ({', '.join(refused)}), which is refused unless {setting} allows it.",
        )
