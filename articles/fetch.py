"""Fetch: the project's one outbound HTTP client, guarded against SSRF and hostile servers.

Every request goes through ``fetch_url``. The guard runs inside the connection itself
(a custom httpcore network backend): the host is resolved once, every address is vetted,
and the socket connects to a vetted address, so a DNS-rebinding server gets no second
lookup to answer differently. TLS still uses the host name for SNI and certificate checks,
and the Host header still names the host. Redirects are followed by hand, each hop
re-validated. The body is read raw and decompressed here, so the size cap counts
decompressed bytes; a watchdog shuts the sockets at the total deadline, so a server that
trickles headers or body cannot outlast it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from club.clock import utcnow

CONNECT_TIMEOUT = 5.0
TOTAL_DEADLINE = 20.0
MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
MAX_RETRY_AFTER = 24 * 3600
MAX_CACHE_AGE = 24 * 3600
ALLOWED_SCHEMES = ("http", "https")
ALLOWED_PORTS = frozenset({80, 443, 8080, 8443})
USER_AGENT = "BillionaireClubFeedFetcher/1.0 (+https://github.com/billionaire-club; feed reader)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.5, */*;q=0.1"
)
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECT_CODES = frozenset({301, 308})
# One message for every refused destination, so admins cannot use it to map the network;
# it says what is allowed, not which rule refused the address.
NOT_ALLOWED = (
    "not an address feeds may be fetched from "
    "(public web addresses only, on the usual ports, without a user name or password)"
)

Resolver = Callable[[str, int], list[str]]


class FetchError(Exception):
    """The feed could not be fetched; the message is safe to show to admins."""

    def __init__(self, message: str, *, retry_after: int | None = None, gone: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.gone = gone


class DestinationNotAllowed(FetchError):
    """The URL, or an address it resolves or redirects to, is off limits."""

    def __init__(self) -> None:
        super().__init__(NOT_ALLOWED)


@dataclass
class FetchResult:
    """What the source sent back: a body, or word that nothing changed."""

    url: str
    status: int
    body: bytes = b""
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = ""
    max_age: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Where redirects that were all permanent (301, 308) led: the feed's new address.
    moved_to: str | None = None


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the system resolver; return every address it gave."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchError(f"could not resolve the host name {host!r}") from error
    return list(dict.fromkeys(info[4][0] for info in infos))


def is_public_address(address: str) -> bool:
    """Tell whether ``address`` is a globally routable unicast address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return is_public_address(str(embedded))
        if ip.is_site_local:  # fec0::/10: deprecated, but still routed inside some networks
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local)


class Guard:
    """Decides where the fetcher may connect; the one place the SSRF rules live."""

    def __init__(
        self,
        allow_private: bool = False,
        resolver: Resolver | None = None,
        trusted: frozenset[str] = frozenset(),
    ) -> None:
        self.allow_private = allow_private
        self.resolver = resolver or system_resolver
        # Exact addresses allowed although private (an internal feed host, or a test server).
        self.trusted = frozenset(filter(None, map(_normal_address, trusted)))

    def is_allowed(self, address: str) -> bool:
        if self.allow_private or is_public_address(address):
            return True
        return _normal_address(address) in self.trusted

    def check_url(self, url: str) -> None:
        """Refuse URLs with a bad scheme, credentials, an odd port or a literal internal host
        (an IP address, in any form resolvers read, or `localhost`)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise DestinationNotAllowed() from None
        if parts.scheme not in ALLOWED_SCHEMES or not parts.hostname:
            raise DestinationNotAllowed()
        if parts.username is not None or parts.password is not None:
            raise DestinationNotAllowed()
        try:
            # What httpx cannot send fails here, not later: "0177.0.0.1", or a host name
            # that is not valid punycode ("xn--"), which httpx decodes only to send it.
            httpx.URL(url).host  # noqa: B018
        except (httpx.InvalidURL, UnicodeError):
            raise FetchError("the address is not a valid URL") from None
        if self.allow_private:
            return
        # A trusted address may use any port, but only the resolved address tells whether
        # a name is one: with trusted addresses set, vetted_addresses checks the port.
        if port is not None and port not in ALLOWED_PORTS and not self.trusted:
            raise DestinationNotAllowed()
        if _looks_like_ip(parts.hostname) and not self.is_allowed(parts.hostname.strip("[]")):
            raise DestinationNotAllowed()
        if is_loose_ipv4(parts.hostname):
            raise DestinationNotAllowed()
        if is_loopback_name(parts.hostname) and not self.trusted:
            raise DestinationNotAllowed()

    def vetted_addresses(self, host: str, port: int) -> list[str]:
        """Resolve ``host`` once; refuse it if any answer is not public (no picking).

        Only ports 80, 443, 8080 and 8443 are allowed, except on trusted addresses.
        """
        addresses = self.resolver(host, port)
        if not addresses:
            raise FetchError(f"could not resolve the host name {host!r}")
        if not all(self.is_allowed(a) for a in addresses):
            raise DestinationNotAllowed()
        if port not in ALLOWED_PORTS and not self._may_use_any_port(addresses):
            raise DestinationNotAllowed()
        return addresses

    def _may_use_any_port(self, addresses: list[str]) -> bool:
        return self.allow_private or all(_normal_address(a) in self.trusted for a in addresses)


def _normal_address(address: str) -> str | None:
    """Write an IP address one way ("fd00:0::7" and "FD00::7" are one address)."""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def is_loose_ipv4(host: str) -> bool:
    """Tell whether ``host`` ends in a numeric label: no DNS name does, but resolvers read
    "2130706433", "127.1" and "0x7f000001" as IPv4 addresses (all three are 127.0.0.1)."""
    last = host.rstrip(".").rsplit(".", 1)[-1].lower()
    return bool(last) and (last.isdigit() or last.startswith("0x")) and not _looks_like_ip(host)


def is_loopback_name(host: str) -> bool:
    """Tell whether ``host`` is "localhost" or a name under it: loopback, always (RFC 6761)."""
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def _looks_like_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class PinnedBackend(httpcore.SyncBackend):
    """A network backend that connects only to addresses the guard vetted, and can be cut."""

    def __init__(self, guard: Guard, expires: float) -> None:
        self.guard = guard
        self.expires = expires  # time.monotonic() when the whole fetch must be over
        self.sockets: list[socket.socket] = []
        self.aborted = False
        self._lock = threading.Lock()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable | None = None,
    ) -> httpcore.NetworkStream:
        last_error: Exception | None = None
        addresses = _within(self._time_left(), self.guard.vetted_addresses, host, port)
        for address in addresses:
            left = self._time_left()
            if timeout is not None:
                left = min(left, timeout)
            try:
                stream = super().connect_tcp(address, port, left, local_address, socket_options)
            except httpcore.ConnectError as error:
                last_error = error
                continue
            self._track(stream.get_extra_info("socket"))
            return stream
        raise last_error or httpcore.ConnectError("no address to connect to")

    def _time_left(self) -> float:
        left = self.expires - time.monotonic()
        if left <= 0 or self.aborted:
            raise httpcore.ConnectTimeout("the fetch ran out of time")
        return left

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self.sockets.append(sock)
            if self.aborted:
                _shutdown(sock)

    def abort(self) -> None:
        """Shut every socket down, waking any blocked read (the total deadline)."""
        with self._lock:
            self.aborted = True
            for sock in self.sockets:
                _shutdown(sock)


def _within(seconds: float, function: Callable[..., list[str]], *args: object) -> list[str]:
    """Run ``function`` (a DNS lookup, which no socket timeout covers) for ``seconds`` at most.

    A lookup still running is left to finish on its own in a daemon thread.
    """
    outcome: list = []

    def run() -> None:
        try:
            outcome.append((True, function(*args)))
        except Exception as error:  # handed back to the caller below
            outcome.append((False, error))

    worker = threading.Thread(target=run, name="feed-dns", daemon=True)
    worker.start()
    worker.join(seconds)
    if not outcome:
        raise httpcore.ConnectTimeout("the host name took too long to resolve")
    succeeded, value = outcome[0]
    if not succeeded:
        raise value
    return value


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class PinnedTransport(httpx.HTTPTransport):
    """httpx's transport with its connection pool on the pinned backend."""

    def __init__(self, backend: PinnedBackend) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=2,
            network_backend=backend,
        )


@dataclass
class Conditional:
    """The validators for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {}
        if sendable_validator(self.etag):
            headers["If-None-Match"] = self.etag
        if sendable_validator(self.last_modified):
            headers["If-Modified-Since"] = self.last_modified
        return headers


def sendable_validator(value: str | None) -> str | None:
    """``value`` if it can go back in a request header (printable ASCII), else None.

    A source may send an ETag with "é" or a no-break space; httpx refuses to send such a
    header, and the feed's every later fetch would fail before it began.
    """
    return value if value and value.isascii() and value.isprintable() else None


def destinations_allowed(config: Mapping[str, Any]) -> dict[str, Any]:
    """``fetch_url``'s destination keywords from the site's settings: every caller that
    fetches a feed (refresh, the admin's preview) reads them here, the same way."""
    return {
        "allow_private": bool(config.get("FEEDS_ALLOW_PRIVATE_NETWORKS")),
        "trusted": frozenset(config.get("FEEDS_TRUSTED_ADDRESSES") or ()),
    }


def check_destination(url: str, config: Mapping[str, Any]) -> None:
    """Refuse, before any fetch and without a DNS lookup, an address no fetch may reach:
    a bad scheme, credentials, an odd port, a literal internal address. Raise
    ``FetchError`` (``DestinationNotAllowed``); a fetch checks the resolved names again."""
    Guard(**destinations_allowed(config)).check_url(url)


def fetch_url(
    url: str,
    *,
    conditional: Conditional | None = None,
    allow_private: bool = False,
    resolver: Resolver | None = None,
    trusted: frozenset[str] = frozenset(),
    deadline: float = TOTAL_DEADLINE,
    max_bytes: int = MAX_BODY_BYTES,
) -> FetchResult:
    """Fetch ``url`` under every guard; raise ``FetchError`` with a clear reason."""
    guard = Guard(allow_private=allow_private, resolver=resolver, trusted=trusted)
    guard.check_url(url)
    expires = time.monotonic() + deadline
    backend = PinnedBackend(guard, expires)
    watchdog = threading.Timer(deadline, backend.abort)
    watchdog.daemon = True
    watchdog.start()
    try:
        with httpx.Client(
            transport=PinnedTransport(backend),
            timeout=httpx.Timeout(deadline, connect=min(CONNECT_TIMEOUT, deadline)),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": USER_AGENT, "Accept": ACCEPT},
        ) as client:
            return _follow(client, guard, url, conditional or Conditional(), expires, max_bytes)
    except httpx.TimeoutException:
        raise FetchError("the source took too long to answer") from None
    except httpx.HTTPError as error:
        if backend.aborted:
            raise FetchError("the source took too long to answer") from None
        if _caused_by(error, ssl.SSLCertVerificationError):
            raise FetchError("the source's TLS certificate could not be verified") from None
        raise FetchError(_connection_problem(error)) from None
    finally:
        watchdog.cancel()


def _connection_problem(error: httpx.HTTPError) -> str:
    """Say in an admin's words what went wrong with the connection (not httpx's class name)."""
    if isinstance(error, httpx.ConnectError):
        return "could not connect to the source: nothing accepted the connection at that address"
    if isinstance(error, httpx.RemoteProtocolError):
        return "the source broke off its answer, or did not answer in HTTP"
    return "the connection to the source broke off"


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    """Tell whether ``kind`` is in ``error``'s chain (httpx wraps httpcore, which wraps ssl)."""
    seen: BaseException | None = error
    for _link in range(20):  # a chain can loop back on itself
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _follow(
    client: httpx.Client,
    guard: Guard,
    url: str,
    conditional: Conditional,
    expires: float,
    max_bytes: int,
) -> FetchResult:
    """Request ``url``, following at most ``MAX_REDIRECTS`` redirects, each re-validated."""
    permanent: bool | None = None  # after a redirect: whether every one so far was permanent
    for _hop in range(MAX_REDIRECTS + 1):
        request = client.build_request("GET", url, headers=conditional.headers())
        # We decompress ourselves so the cap counts decompressed bytes.
        request.headers["Accept-Encoding"] = "gzip, deflate"
        try:
            response = client.send(request, stream=True)
        except UnicodeError:
            # httpx reads a redirect's Location as the response arrives, and a host name
            # that is not valid punycode ("xn--") fails there.
            raise FetchError(
                "the source redirected to an address that is not a valid URL"
            ) from None
        try:
            if response.status_code not in REDIRECT_CODES:
                result = _read_response(url, response, expires, max_bytes)
                result.moved_to = url if permanent else None
                return result
            permanent = permanent is not False and response.status_code in (
                PERMANENT_REDIRECT_CODES
            )
            location = response.headers.get("Location")
        finally:
            response.close()
        if not location:
            raise FetchError(
                f"the source redirected without a destination ({response.status_code})"
            )
        next_url = urljoin(url, location.strip())
        if urlsplit(url).scheme == "https" and urlsplit(next_url).scheme == "http":
            raise FetchError("the source redirected from https to plain http")
        guard.check_url(next_url)
        url = next_url
    raise FetchError(f"too many redirects (more than {MAX_REDIRECTS})")


def _read_response(
    url: str, response: httpx.Response, expires: float, max_bytes: int
) -> FetchResult:
    status = response.status_code
    headers = response.headers
    result = FetchResult(
        url=url,
        status=status,
        etag=sendable_validator(headers.get("ETag")),
        last_modified=sendable_validator(headers.get("Last-Modified")),
        content_type=headers.get("Content-Type", ""),
        max_age=parse_max_age(headers.get("Cache-Control", "")),
        headers={k.lower(): v for k, v in headers.items()},
    )
    if status == 304:
        result.not_modified = True
        return result
    if status in (429, 503):
        retry_after = parse_retry_after(headers.get("Retry-After"))
        raise FetchError(f"the source asked us to slow down ({status})", retry_after=retry_after)
    if status == 410:
        raise FetchError("the source says this feed is gone (410)", gone=True)
    if status >= 400:
        raise FetchError(f"the source answered with an error ({status})")
    if status != 200:
        raise FetchError(f"unexpected answer from the source ({status})")
    declared = headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes and not headers.get("Content-Encoding"):
        raise FetchError(f"feed too large (more than {max_bytes // (1024 * 1024)} MB)")
    result.body = read_capped(response, expires, max_bytes)
    return result


def read_capped(response: httpx.Response, expires: float, max_bytes: int) -> bytes:
    """Read the body, decompressing as we go; stop past ``max_bytes`` or the deadline."""
    decoder = _decoder_for(response.headers.get("Content-Encoding", ""))
    chunks: list[bytes] = []
    size = 0
    too_large = FetchError(f"feed too large (more than {max_bytes // (1024 * 1024)} MB)")
    for raw in response.iter_raw():
        if time.monotonic() > expires:
            raise FetchError("the source took too long to answer")
        pending = raw
        while pending:
            # max_length bounds what one compressed chunk may inflate to in memory.
            piece, pending = _inflate(decoder, pending, max_bytes - size + 1)
            size += len(piece)
            if size > max_bytes:
                raise too_large
            chunks.append(piece)
    # A watchdog shutdown looks like a clean end of a close-delimited body: check the clock.
    if time.monotonic() > expires:
        raise FetchError("the source took too long to answer")
    if decoder is not None:
        try:
            tail = decoder.flush()
        except zlib.error:
            raise FetchError("the source sent a corrupt compressed body") from None
        size += len(tail)
        if size > max_bytes:
            raise too_large
        chunks.append(tail)
    return b"".join(chunks)


def _inflate(decoder, data: bytes, limit: int) -> tuple[bytes, bytes]:
    """Return (decompressed piece, input still to decompress)."""
    if decoder is None:
        return data, b""
    try:
        piece = decoder.decompress(data, limit)
    except zlib.error:
        raise FetchError("the source sent a corrupt compressed body") from None
    return piece, decoder.unconsumed_tail


class _DeflateDecoder:
    """ "deflate" as browsers and httpx read it: a zlib stream, or (as IIS sends it) a raw
    deflate stream without the zlib header, told apart by the first chunk."""

    def __init__(self) -> None:
        self._decoder = zlib.decompressobj()
        self._first = True

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._first:
            self._first = False
            try:
                return self._decoder.decompress(data, max_length)
            except zlib.error:
                self._decoder = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._decoder.decompress(data, max_length)

    @property
    def unconsumed_tail(self) -> bytes:
        return self._decoder.unconsumed_tail

    def flush(self) -> bytes:
        return self._decoder.flush()


def _decoder_for(encoding: str):
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return _DeflateDecoder()
    raise FetchError(f"the source used an unsupported compression ({encoding})")


def parse_retry_after(value: str | None) -> int | None:
    """Return Retry-After as seconds from now (delta or HTTP date), bounded to a day."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²" is a digit to str.isdigit, not to int()
        return min(int(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    seconds = int((when - utcnow()).total_seconds())
    return max(0, min(seconds, MAX_RETRY_AFTER))


def parse_max_age(cache_control: str) -> int | None:
    """Return Cache-Control's max-age in seconds (at most a day), if the source gave one."""
    for directive in cache_control.split(","):
        name, _, value = directive.strip().partition("=")
        value = value.strip()
        if name.lower() == "max-age" and value.isascii() and value.isdigit():
            # A day at most, like Retry-After: a larger number says nothing more and
            # would overflow the date arithmetic of the next fetch time.
            return min(int(value), MAX_CACHE_AGE)
    return None
