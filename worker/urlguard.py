"""SSRF guard: decide whether a URL, and every address its host resolves to, may be fetched.

Pure decision functions, no I/O except through the injected resolver. The sound pattern (there is no
maintained drop-in library for it) is:

1. ``check_url`` parses the URL and refuses anything but http/https with a plain host and a sane port;
   numeric hosts in any form inet_aton accepts (``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1``) are
   turned into the address they really name, so they cannot slip past the address rules.
2. ``resolve_and_check`` resolves the host ONCE and checks EVERY address it got; one refused address
   refuses the whole host (a DNS answer mixing a public and a private address is an attack, not a
   coincidence).
3. The caller connects to one of the returned addresses itself (no second lookup, so no DNS
   rebinding window) and runs steps 1-2 again for every redirect hop.

``allow_private=True`` (tests, ``CHECKER_ALLOW_PRIVATE_URLS=1``) lifts only the loopback and private-range
rules; link-local (cloud metadata at 169.254.169.254), multicast, reserved and unspecified addresses stay
refused, and so does every scheme but http/https.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from checker.errors import CheckerError
from checker.validate import URL_MAX_CHARS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., Sequence[tuple]]

ALLOWED_SCHEMES = {"http": 80, "https": 443}
# The longest URL stored (checker.validate, from the models' columns): a page reached by a longer URL,
# or redirected to one, could not be recorded as evidence on PostgreSQL, so it is not fetched.
MAX_URL_LENGTH = URL_MAX_CHARS
MAX_HOST_LENGTH = 253

# Ranges ipaddress's properties do not name precisely enough for a clear refusal message.
SHARED_NET = ipaddress.IPv4Network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT
THIS_NET = ipaddress.IPv4Network("0.0.0.0/8")  # RFC 1122 "this network"
BENCHMARK_NET = ipaddress.IPv4Network("198.18.0.0/15")  # RFC 2544
IETF_PROTOCOL_NET = ipaddress.IPv4Network("192.0.0.0/24")  # RFC 6890
NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: last 32 bits are an IPv4 address
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: operator-local translation
SIXTOFOUR_NET = ipaddress.IPv6Network("2002::/16")
TEREDO_NET = ipaddress.IPv6Network("2001::/32")
IPV4_COMPAT_NET = ipaddress.IPv6Network("::/96")  # deprecated IPv4-compatible IPv6 (::a.b.c.d)
DOCUMENTATION_NETS = (
    ipaddress.IPv4Network("192.0.2.0/24"),
    ipaddress.IPv4Network("198.51.100.0/24"),
    ipaddress.IPv4Network("203.0.113.0/24"),
    ipaddress.IPv6Network("2001:db8::/32"),
)

# A hostname label: letters, digits, hyphens (underscores appear in real DNS names, e.g. CNAME targets).
_LABEL_RE = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
# One part of a numeric IPv4 host in the forms inet_aton accepts: decimal, 0x-hex, 0-led octal.
_NUMERIC_PART_RE = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")


class UrlRefused(CheckerError, ValueError):
    """The URL or one of its addresses may not be fetched. ``str(exc)`` is a one-line reason. (Also a
    ValueError: a refused URL is a bad value.)"""


class HostUnresolvable(UrlRefused):
    """The host did not resolve. ``transient`` is True when retrying later may help (EAI_AGAIN)."""

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class ParsedTarget:
    """A URL that passed ``check_url``.

    ``host`` is the lower-case ASCII (IDNA) host name, or the canonical text of the address when the URL
    names an IP address (``ip`` is then set). ``request_target`` is the path and query to send;
    ``host_header`` the Host header value (port only when not the scheme's default). ``url`` is the
    normalised URL without fragment.
    """

    url: str
    scheme: str
    host: str
    port: int
    request_target: str
    ip: IPAddress | None = None

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if isinstance(self.ip, ipaddress.IPv6Address) else self.host
        return host if self.port == ALLOWED_SCHEMES[self.scheme] else f"{host}:{self.port}"

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host_header}"


def check_url(url: str, allow_private: bool = False) -> ParsedTarget:
    """Parse and check ``url``; return the target or raise ``UrlRefused`` with a one-line reason.

    Checks the scheme (http/https only), that a host is present, that no credentials are embedded, that
    the port is in 1..65535, and, when the host is an IP address in any notation, the address itself
    (see ``check_address``). Host names are checked later, address by address, by ``resolve_and_check``.
    """
    if not isinstance(url, str) or not url.strip():
        raise UrlRefused("refused: empty URL")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"refused: URL longer than {MAX_URL_LENGTH} characters")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise UrlRefused(f"refused {_short(url)}: URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UrlRefused(f"refused {_short(url)}: malformed URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = scheme or "none"
        raise UrlRefused(f"refused {_short(url)}: scheme {shown!r} is not allowed (only http and https)")
    netloc = parts.netloc
    if "@" in netloc:
        raise UrlRefused(f"refused {_short(url)}: credentials in the URL are not allowed")
    if "\\" in netloc:
        raise UrlRefused(f"refused {_short(url)}: backslash in the host")
    raw_host = parts.hostname  # lower-cased, brackets stripped
    if not raw_host:
        raise UrlRefused(f"refused {_short(url)}: no host in the URL")
    try:
        port = parts.port
    except ValueError:
        raise UrlRefused(f"refused {_short(url)}: invalid port") from None
    if port is None:
        if netloc.endswith(":"):
            raise UrlRefused(f"refused {_short(url)}: empty port")
        port = ALLOWED_SCHEMES[scheme]
    if not 1 <= port <= 65535:
        raise UrlRefused(f"refused {_short(url)}: port {port} is out of range")

    bracketed = netloc.rsplit("@", 1)[-1].startswith("[")
    host, ip = _parse_host(raw_host, bracketed, url)
    if ip is not None:
        check_address(ip, allow_private, _host_label=raw_host)

    path = parts.path or "/"
    request_target = path + (f"?{parts.query}" if parts.query else "")
    shown_host = f"[{host}]" if isinstance(ip, ipaddress.IPv6Address) else host
    netloc_out = shown_host if port == ALLOWED_SCHEMES[scheme] else f"{shown_host}:{port}"
    normalised = urlunsplit((scheme, netloc_out, path, parts.query, ""))
    return ParsedTarget(normalised, scheme, host, port, request_target, ip)


def check_address(
    ip: str | IPAddress, allow_private: bool = False, *, _host_label: str | None = None
) -> None:
    """Raise ``UrlRefused`` when ``ip`` is not a public unicast address.

    Refused: unspecified, loopback, private (RFC 1918, unique-local fc00::/7), shared (100.64/10),
    link-local, multicast, reserved, documentation and benchmark ranges, site-local IPv6, and any IPv6
    address that embeds a refused IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible
    ``::a.b.c.d``, 6to4 ``2002::/16``, Teredo ``2001::/32`` client and server, NAT64 ``64:ff9b::/96``);
    the local-use NAT64 prefix ``64:ff9b:1::/48`` is refused outright. ``allow_private`` lifts only the
    loopback and private rules (including when embedded).
    """
    address = _as_address(ip)
    label = _host_label or str(address)
    reason = _refusal_reason(address, allow_private)
    if reason:
        shown = str(address) if label == str(address) else f"{label} ({address})"
        raise UrlRefused(f"refused address {shown}: {reason}")


def resolve_and_check(
    host: str,
    port: int,
    resolver: Resolver = socket.getaddrinfo,
    *,
    allow_private: bool = False,
) -> list[IPAddress]:
    """Resolve ``host`` once and check every address; return them all (deduplicated, in resolver order).

    ``resolver`` has ``socket.getaddrinfo``'s signature and is called as
    ``resolver(host, port, 0, socket.SOCK_STREAM)``. An IP-address host is checked without calling it.
    If ANY address is refused the whole host is refused: connecting to "the good one" of a mixed answer
    would still let an attacker's DNS steer some requests inside.
    """
    literal = _literal_address(host)
    if literal is not None:
        check_address(literal, allow_private)
        return [literal]
    try:
        infos = resolver(host, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        transient = exc.errno in {getattr(socket, "EAI_AGAIN", -3)}
        raise HostUnresolvable(
            f"cannot resolve host {host}: {exc.strerror or exc}", transient=transient
        ) from None
    except (UnicodeError, OSError) as exc:
        raise HostUnresolvable(f"cannot resolve host {host}: {exc}") from None
    addresses: list[IPAddress] = []
    for info in infos:
        family, sockaddr = info[0], info[4]
        if family not in (socket.AF_INET, socket.AF_INET6):
            raise UrlRefused(f"refused host {host}: resolved to a non-IP address family {family!r}")
        address = _as_address(str(sockaddr[0]))
        check_address(address, allow_private, _host_label=host)
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise HostUnresolvable(f"cannot resolve host {host}: no addresses")
    return addresses


def parse_ipv4_host(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a numeric host names in any inet_aton notation, or None for a host name.

    Accepts 1 to 4 dot-separated parts, each decimal, ``0x`` hex or ``0``-led octal; the last part fills
    the remaining bytes (``127.1`` is 127.0.0.1, ``2130706433`` is 127.0.0.1). Like the WHATWG URL
    standard, a host whose last label is numeric is an IPv4 address or nothing: an out-of-range form
    raises ``UrlRefused`` instead of falling through to DNS.
    """
    name = host.lower()
    if name.endswith("."):
        name = name[:-1]
    parts = name.split(".")
    if not parts or not _NUMERIC_PART_RE.match(parts[-1]):
        return None
    if len(parts) > 4 or not all(_NUMERIC_PART_RE.match(p) for p in parts):
        raise UrlRefused(f"refused host {host}: malformed numeric IPv4 address")
    values = []
    for part in parts:
        try:
            if part.startswith("0x"):
                values.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                values.append(int(part, 8))
            else:
                values.append(int(part, 10))
        except ValueError:
            raise UrlRefused(f"refused host {host}: malformed numeric IPv4 address") from None
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        raise UrlRefused(f"refused host {host}: numeric IPv4 address out of range")
    number = last
    for i, v in enumerate(head):
        number += v << (8 * (3 - i))
    return ipaddress.IPv4Address(number)


# --------------------------------------------------------------------------------------------------
# helpers


def _short(url: str, limit: int = 120) -> str:
    """The URL for a one-line message: control characters escaped, long URLs cut."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in url)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _as_address(ip: str | IPAddress) -> IPAddress:
    if isinstance(ip, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return ip
    try:
        return ipaddress.ip_address(ip)
    except ValueError:
        raise UrlRefused(f"refused address {ip!r}: not an IP address") from None


def _literal_address(host: str) -> IPAddress | None:
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _parse_host(raw_host: str, bracketed: bool, url: str) -> tuple[str, IPAddress | None]:
    """Normalise the host: an IP address in canonical text, or an IDNA-encoded lower-case name."""
    if bracketed:
        try:
            ip6 = ipaddress.IPv6Address(raw_host)
        except ValueError:
            raise UrlRefused(f"refused {_short(url)}: malformed IPv6 address in brackets") from None
        if ip6.scope_id:
            raise UrlRefused(f"refused {_short(url)}: IPv6 zone identifiers are not allowed")
        return str(ip6), ip6
    if "%" in raw_host:
        raise UrlRefused(f"refused {_short(url)}: percent-encoded host")
    if ":" in raw_host:
        raise UrlRefused(f"refused {_short(url)}: IPv6 address must be in brackets")
    ip4 = parse_ipv4_host(raw_host)
    if ip4 is not None:
        return str(ip4), ip4
    try:
        ascii_host = raw_host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise UrlRefused(f"refused {_short(url)}: invalid host name") from None
    name = ascii_host[:-1] if ascii_host.endswith(".") else ascii_host
    if not name or len(name) > MAX_HOST_LENGTH or not all(_LABEL_RE.match(lab) for lab in name.split(".")):
        raise UrlRefused(f"refused {_short(url)}: invalid host name")
    return name, None


def _refusal_reason(address: IPAddress, allow_private: bool) -> str | None:
    if isinstance(address, ipaddress.IPv6Address):
        for kind, inner in _embedded_ipv4(address):
            reason = _refusal_reason(inner, allow_private)
            if reason:
                return f"{kind} address {inner}, which is {reason}"
        if _embedded_ipv4(address):
            return None
        if address in NAT64_LOCAL_USE:
            return "in the local-use NAT64 prefix"
        if address.scope_id:
            return "has an IPv6 zone identifier"
    if address.is_unspecified or (isinstance(address, ipaddress.IPv4Address) and address in THIS_NET):
        return "unspecified"
    if address.is_loopback:
        return None if allow_private else "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address):
        if address in SHARED_NET:
            return "in the shared address space (100.64.0.0/10)"
        if address in BENCHMARK_NET:
            return "in the benchmarking range"
        if address in IETF_PROTOCOL_NET:
            return "in the IETF protocol assignments range"
    else:
        if address.is_site_local:
            return "site-local"
    if any(address in net for net in DOCUMENTATION_NETS if net.version == address.version):
        return "in a documentation range"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return None if allow_private else "private"
    if not address.is_global:
        return "not globally routable"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries, each with the name of the embedding."""
    if address.ipv4_mapped is not None:
        return [("embeds IPv4-mapped", address.ipv4_mapped)]
    if address in IPV4_COMPAT_NET and int(address) > 1:  # :: and ::1 are themselves, not embeddings
        return [("embeds IPv4-compatible", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))]
    if address in NAT64_WELL_KNOWN:
        return [("embeds NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))]
    if address in SIXTOFOUR_NET and address.sixtofour is not None:
        return [("embeds 6to4", address.sixtofour)]
    if address in TEREDO_NET and address.teredo is not None:
        # Both ends matter: the packet goes to the server, the payload on to the client.
        server, client = address.teredo
        return [("embeds Teredo server", server), ("embeds Teredo client", client)]
    return []
