"""The fetcher against a real HTTP server on 127.0.0.1: guards, limits and HTTP semantics."""

from __future__ import annotations

import socket
import threading
import time
import zlib

import httpx
import pytest

from articles import fetch
from articles.fetch import DestinationNotAllowed, FetchError, fetch_url
from tests.articles.conftest import rss

# What every refused destination reads, whatever refused it.
REFUSED = (
    "not an address feeds may be fetched from "
    "(public web addresses only, on the usual ports, without a user name or password)"
)


LOCAL = frozenset({"127.0.0.1"})


def test_it_refuses_the_local_feed_server_by_default(feed_server):
    url = feed_server.route("/feed.xml", body=rss())
    with pytest.raises(DestinationNotAllowed, match="not an address feeds may be fetched from"):
        fetch_url(url)
    assert feed_server.hits() == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed",
        "http://localhost/feed",
        "http://[::1]/feed",
        "http://[::ffff:127.0.0.1]/feed",
        "http://0.0.0.0/feed",
        "http://10.1.2.3/feed",
        "http://172.16.0.1/feed",
        "http://192.168.1.1/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/feed",
        "http://[fe80::1]/feed",
        "http://[fd00::1]/feed",
        "http://[fec0::1]/feed",
        "http://224.0.0.1/feed",
        "http://2130706433/feed",
        "http://0x7f.1/feed",
        "http://017700000001/feed",
    ],
)
def test_it_refuses_internal_destinations_with_one_message(url):
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch_url(url)
    assert str(caught.value) == REFUSED
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://example.com/",
        "ftp://example.com/feed",
        "dict://example.com/",
        "http://user:secret@example.com/feed",
        "http://example.com:6379/",
        "http://example.com:5432/",
        "/etc/passwd",
    ],
)
def test_it_refuses_other_schemes_ports_and_credentials(url):
    with pytest.raises(DestinationNotAllowed):
        fetch_url(url, resolver=lambda host, port: ["93.184.216.34"])


def test_it_refuses_a_name_that_resolves_to_the_metadata_address():
    with pytest.raises(DestinationNotAllowed):
        fetch_url("http://metadata.attacker.test/", resolver=lambda h, p: ["169.254.169.254"])


def test_it_refuses_a_name_with_any_private_answer():
    with pytest.raises(DestinationNotAllowed):
        fetch_url("http://mixed.test/", resolver=lambda h, p: ["93.184.216.34", "10.0.0.7"])


def test_it_connects_to_the_address_it_checked_without_a_second_lookup(feed_server):
    answers = iter([["127.0.0.1"], ["169.254.169.254"]])
    calls = []

    def rebinding_resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    url = feed_server.route("/feed.xml", body=rss(title="Pinned"))
    result = fetch_url(
        url.replace("127.0.0.1", "feeds.rebind.test"), resolver=rebinding_resolver, trusted=LOCAL
    )
    assert b"Pinned" in result.body
    assert calls == ["feeds.rebind.test"]
    # The Host header still names the host, not the address.
    assert feed_server.requests[0][1]["Host"] == f"feeds.rebind.test:{feed_server.port}"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_it_refuses_a_redirect_to_the_metadata_address(feed_server, status):
    url = feed_server.route(
        "/hop", status=status, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    with pytest.raises(DestinationNotAllowed):
        fetch_url(url, trusted=LOCAL)


def test_it_refuses_a_redirect_to_another_loopback_address(feed_server):
    target = feed_server.route("/secret", body=b"secret")
    url = feed_server.route(
        "/hop", status=302, headers={"Location": target.replace("127.0.0.1", "127.0.0.2")}
    )
    with pytest.raises(DestinationNotAllowed):
        fetch_url(url, trusted=LOCAL)
    assert feed_server.hits("/secret") == 0


def test_it_refuses_a_redirect_to_a_name_resolving_inside(feed_server):
    url = feed_server.route("/hop", status=302, headers={"Location": "http://internal.test/"})

    def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == "127.0.0.1" else ["10.0.0.5"]

    with pytest.raises(DestinationNotAllowed):
        fetch_url(url, trusted=LOCAL, resolver=resolver)


def test_it_refuses_a_protocol_relative_redirect_inside(feed_server):
    # public.test is the feed server (trusted); "//10.0.0.5/" keeps the scheme, not the host.
    url = feed_server.url("/hop", host="public.test")
    feed_server.route("/hop", status=302, headers={"Location": "//10.0.0.5/feed"})
    with pytest.raises(DestinationNotAllowed):
        fetch_url(url, trusted=LOCAL, resolver=lambda host, port: ["127.0.0.1"])
    assert feed_server.hits("/hop") == 1  # the refusal came at the redirect, not before


def redirecting_client(location: str) -> httpx.Client:
    """A client whose every request is answered with a 302 to ``location``."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": location})

    return httpx.Client(transport=httpx.MockTransport(answer))


def test_it_refuses_a_redirect_from_https_to_plain_http():
    guard = fetch.Guard(resolver=lambda host, port: ["93.184.216.34"])
    client = redirecting_client("http://feeds.example.com/feed.xml")
    with client, pytest.raises(FetchError, match="from https to plain http"):
        fetch._follow(
            client, guard, "https://feeds.example.com/feed.xml", fetch.Conditional(),
            time.monotonic() + 5, fetch.MAX_BODY_BYTES,
        )  # fmt: skip


@pytest.mark.parametrize("port", [25, 5432, 6379])
def test_a_trusted_address_opens_no_port_on_other_hosts(port):
    # Trusting one internal feed host must not let a public name reach odd ports.
    with pytest.raises(DestinationNotAllowed):
        fetch_url(
            f"http://feeds.example.com:{port}/",
            trusted=frozenset({"10.0.0.5"}),
            resolver=lambda host, port: ["93.184.216.34"],
        )


def test_a_trusted_address_may_use_any_port(feed_server):
    url = feed_server.route("/feed.xml", body=rss(title="Internal"))
    assert feed_server.port not in fetch.ALLOWED_PORTS
    assert b"Internal" in fetch_url(url, trusted=LOCAL).body


@pytest.mark.parametrize(
    "url", ["http://0177.0.0.1/feed", "http://010.0.0.1/feed", "http://xn--/feed", "http://xn--a/"]
)
def test_it_reports_an_address_it_cannot_send_to(url):
    with pytest.raises(FetchError, match="not a valid URL"):
        fetch_url(url, resolver=lambda host, port: ["93.184.216.34"])


def test_it_reports_a_redirect_to_an_address_it_cannot_send_to(feed_server):
    # httpx itself refuses such a Location header; either way the feed gets a FetchError.
    url = feed_server.route("/hop", status=302, headers={"Location": "http://0177.0.0.1/x"})
    with pytest.raises(FetchError):
        fetch_url(url, trusted=LOCAL)


def test_it_reports_a_redirect_to_a_host_name_that_is_not_valid_punycode(feed_server):
    url = feed_server.route("/hop", status=302, headers={"Location": "http://xn--/x"})
    with pytest.raises(FetchError, match="not a valid URL"):
        fetch_url(url, trusted=LOCAL)


def test_it_follows_a_relative_redirect(feed_server):
    feed_server.route("/new.xml", body=rss(title="Moved"))
    url = feed_server.route("/old.xml", status=301, headers={"Location": "/new.xml"})
    result = fetch_url(url, allow_private=True)
    assert result.url.endswith("/new.xml") and b"Moved" in result.body


def test_it_gives_up_after_five_redirects(feed_server):
    for n in range(7):
        feed_server.route(f"/r{n}", status=302, headers={"Location": f"/r{n + 1}"})
    with pytest.raises(FetchError, match="too many redirects"):
        fetch_url(feed_server.url("/r0"), allow_private=True)
    assert feed_server.hits() == 6


def test_it_sends_validators_and_reports_not_modified(feed_server):
    url = feed_server.route("/feed.xml", body=rss(), etag='"v1"')
    first = fetch_url(url, allow_private=True)
    second = fetch_url(
        url, allow_private=True, conditional=fetch.Conditional(first.etag, "Mon, 23 Nov 2026")
    )
    assert first.etag == '"v1"' and not first.not_modified
    assert second.not_modified and second.body == b""
    headers = feed_server.requests[1][1]
    assert headers["If-None-Match"] == '"v1"'
    assert headers["If-Modified-Since"] == "Mon, 23 Nov 2026"


def test_it_sends_an_honest_user_agent(feed_server):
    fetch_url(feed_server.route("/feed.xml", body=rss()), allow_private=True)
    assert feed_server.requests[0][1]["User-Agent"].startswith("BillionaireClubFeedFetcher/")


@pytest.mark.parametrize(
    ("status", "message"),
    [(404, r"error \(404\)"), (500, r"error \(500\)"), (410, "gone")],
)
def test_it_reports_error_statuses(feed_server, status, message):
    url = feed_server.route("/feed.xml", status=status, body=b"nope")
    with pytest.raises(FetchError, match=message) as caught:
        fetch_url(url, allow_private=True)
    assert caught.value.gone is (status == 410)


@pytest.mark.parametrize("status", [429, 503])
def test_it_reads_retry_after_seconds(feed_server, status):
    url = feed_server.route("/feed.xml", status=status, headers={"Retry-After": "120"})
    with pytest.raises(FetchError) as caught:
        fetch_url(url, allow_private=True)
    assert caught.value.retry_after == 120


def test_it_bounds_retry_after_to_a_day():
    assert fetch.parse_retry_after("99999999") == 24 * 3600
    assert fetch.parse_retry_after("Wed, 21 Oct 2099 07:28:00 GMT") == 24 * 3600
    assert fetch.parse_retry_after("soon") is None


def test_it_bounds_max_age_to_a_day_and_ignores_digits_int_cannot_read():
    assert fetch.parse_max_age("public, max-age=100000000000000000") == 24 * 3600
    assert fetch.parse_max_age("max-age=600") == 600
    assert fetch.parse_max_age("max-age=\u00b2") is None  # a digit to str.isdigit only
    assert fetch.parse_retry_after("\u00b2") is None


def test_it_refuses_a_declared_fifty_megabyte_body(feed_server):
    url = feed_server.route("/big.xml", stream_bytes=50 * 1024 * 1024)
    started = time.monotonic()
    with pytest.raises(FetchError, match="feed too large"):
        fetch_url(url, allow_private=True)
    assert time.monotonic() - started < 3


def test_it_stops_reading_an_oversized_chunked_body(feed_server):
    body = b"<rss>" + b"x" * (6 * 1024 * 1024)
    url = feed_server.route("/big.xml", body=body, headers={"Transfer-Encoding": "chunked"})
    with pytest.raises(FetchError, match="feed too large"):
        fetch_url(url, allow_private=True)


def test_it_caps_decompressed_bytes_of_a_compression_bomb(feed_server):
    bomb = zlib.compress(b"\0" * (200 * 1024 * 1024), 9)
    assert len(bomb) < 300 * 1024
    url = feed_server.route("/bomb.xml", body=bomb, headers={"Content-Encoding": "deflate"})
    with pytest.raises(FetchError, match="feed too large"):
        fetch_url(url, allow_private=True)


def test_it_reads_a_raw_deflate_body_as_browsers_do(feed_server):
    document = rss(title="Raw deflate")
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)  # no zlib header, as IIS sends it
    body = compressor.compress(document) + compressor.flush()
    url = feed_server.route("/feed.xml", body=body, headers={"Content-Encoding": "deflate"})
    assert fetch_url(url, allow_private=True).body == document


def test_it_still_calls_a_corrupt_deflate_body_corrupt(feed_server):
    body = b"\xff" * 64
    url = feed_server.route("/feed.xml", body=body, headers={"Content-Encoding": "deflate"})
    with pytest.raises(FetchError, match="corrupt compressed body"):
        fetch_url(url, allow_private=True)


def test_it_decompresses_gzip_bodies(feed_server):
    url = feed_server.gzip_route("/feed.xml", rss(title="Zipped"))
    assert b"Zipped" in fetch_url(url, allow_private=True).body


def test_it_cuts_off_a_trickling_body_at_the_deadline(feed_server):
    url = feed_server.route("/slow.xml", body=rss() * 10, trickle=0.05)
    started = time.monotonic()
    with pytest.raises(FetchError, match="too long"):
        fetch_url(url, allow_private=True, deadline=1.0)
    assert time.monotonic() - started < 3


def test_it_cuts_off_trickling_headers_at_the_deadline(feed_server):
    url = feed_server.route("/slow.xml", header_trickle=0.05)
    started = time.monotonic()
    with pytest.raises(FetchError, match="too long"):
        fetch_url(url, allow_private=True, deadline=1.0)
    assert time.monotonic() - started < 3


def test_it_gives_up_on_a_host_name_that_takes_too_long_to_resolve():
    def slow(host: str, port: int) -> list[str]:
        time.sleep(4)
        return ["93.184.216.34"]

    started = time.monotonic()
    with pytest.raises(FetchError, match="too long"):
        fetch_url("http://slow-dns.test/feed.xml", resolver=slow, deadline=1.0)
    assert time.monotonic() - started < 2


def test_it_gives_up_connecting_after_five_seconds():
    # A listener that never accepts, with its queue full: the next SYN goes unanswered.
    with socket.create_server(("127.0.0.1", 0), backlog=0) as listener:
        port = listener.getsockname()[1]
        queued = []
        for _ in range(3):
            client = socket.socket()
            client.setblocking(False)
            client.connect_ex(("127.0.0.1", port))
            queued.append(client)
        time.sleep(0.3)
        started = time.monotonic()
        try:
            with pytest.raises(FetchError, match="too long"):
                fetch_url(
                    f"http://blackhole.test:{port}/",
                    resolver=lambda h, p: ["127.0.0.1"],
                    trusted=LOCAL,
                )
        finally:
            for client in queued:
                client.close()
    assert fetch.CONNECT_TIMEOUT == 5.0
    assert 4.5 < time.monotonic() - started < 6.5


def test_it_reports_a_refused_connection():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(FetchError) as refused:
        fetch_url(f"http://127.0.0.1:{port}/feed.xml", allow_private=True)
    # Words for an admin, not the HTTP library's class name ("(ConnectError)").
    assert str(refused.value) == (
        "could not connect to the source: nothing accepted the connection at that address"
    )


def answer_once(raw: bytes) -> tuple[int, threading.Thread]:
    """A server on 127.0.0.1 that answers one request with ``raw`` and hangs up; its port."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with listener, listener.accept()[0] as connection:
            connection.recv(65536)
            connection.sendall(raw)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener.getsockname()[1], thread


def test_it_says_in_words_that_an_answer_broke_off():
    port, server = answer_once(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n<rss>")
    with pytest.raises(FetchError) as failed:
        fetch_url(f"http://127.0.0.1:{port}/feed.xml", allow_private=True)
    server.join(5)
    assert str(failed.value) == "the source broke off its answer, or did not answer in HTTP"


def test_it_reports_a_dns_failure():
    def failing(host: str, port: int) -> list[str]:
        return fetch.system_resolver("name.invalid", port)

    with pytest.raises(FetchError, match="could not resolve"):
        fetch_url("http://name.invalid/feed.xml", resolver=failing)


def test_it_ignores_proxy_settings_in_the_environment(feed_server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    url = feed_server.route("/feed.xml", body=rss(title="Direct"))
    assert b"Direct" in fetch_url(url, allow_private=True).body


@pytest.mark.parametrize("written", ["fd00:0::7", "FD00::7", "fd00:0000:0000::0007"])
def test_a_trusted_address_is_one_address_however_it_is_written(written):
    guard = fetch.Guard(trusted=frozenset({written}))
    guard.check_url("http://[fd00::7]/feed.xml")  # allowed: no exception
    assert guard.is_allowed("fd00::7") and guard.is_allowed("FD00:0::7")
    with pytest.raises(DestinationNotAllowed):
        guard.check_url("http://[fd00::8]/feed.xml")


def test_it_refuses_a_certificate_it_cannot_verify(self_signed_feed_server):
    url = self_signed_feed_server.route("/feed.xml", body=rss(title="Unverified"))
    with pytest.raises(FetchError, match="certificate could not be verified"):
        fetch_url(url, allow_private=True)
    assert self_signed_feed_server.hits() == 0
