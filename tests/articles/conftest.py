"""Fixtures for the articles tests: a real HTTP feed server on 127.0.0.1 and feed files."""

from __future__ import annotations

import contextlib
import gzip
import re
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from articles.clean import CleanEntry, clean_entry
from articles.parse import parse_feed
from club.extensions import db
from club.models import AuditEntry
from tests.conftest import login

FEEDS = Path(__file__).parent / "feeds"


def action_names(html: str) -> list[str]:
    """What a screen reader calls each link and button in an admin table's action cells."""
    cells = re.findall(r'<td class="admin-actions">(.*?)</td>', html, re.S)
    controls = re.findall(r"<(?:a|button)\b[^>]*>(.*?)</(?:a|button)>", "".join(cells), re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", c).split()) for c in controls]


class _FormReader(HTMLParser):
    """The fields each form on a page would send as it stands."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({})
        elif tag == "input" and attrs.get("name") and self.forms:
            unchecked = attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs
            if attrs.get("type") not in ("submit", "button") and not unchecked:
                self.forms[-1][attrs["name"]] = attrs.get("value") or ""
        elif tag == "textarea" and self.forms:
            self._textarea = attrs.get("name")
            self.forms[-1][self._textarea] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.forms[-1][self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea:
            # A line break just after <textarea> is not part of its text.
            form = self.forms[-1]
            form[self._textarea] = form[self._textarea].removeprefix("\n")
            self._textarea = None


def form_as_sent(html: str, holding: str) -> dict[str, str]:
    """What pressing Save on the page's form with a ``holding`` field would send, unchanged."""
    reader = _FormReader()
    reader.feed(html)
    return next(form for form in reader.forms if holding in form)


def feed_bytes(name: str) -> bytes:
    """Return one of the test feed documents written for these tests."""
    return (FEEDS / name).read_bytes()


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds to wait between bytes of the body (a trickling server).
    trickle: float | None = None
    # Seconds to wait between header lines (a server trickling its headers).
    header_trickle: float | None = None
    # Answer 304 when the request carries this ETag.
    etag: str | None = None
    # Claim a length and stream this many bytes of filler in chunks instead of ``body``.
    stream_bytes: int | None = None


class FeedServer:
    """An HTTP server on 127.0.0.1 (free port) whose answers a test sets per path."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                # The target as sent: http.server's own path folds a leading "//" into
                # "/", and a real server may serve the two differently.
                target = self.requestline.split(" ")[1]
                server.requests.append((target, {k: v for k, v in self.headers.items()}))
                route = server.routes.get(target, Route(status=404, body=b"not found"))
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    server.answer(self, route)

        self.scheme = "http"
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def route(self, path: str, **kwargs) -> str:
        """Serve ``path`` as described; return its URL."""
        self.routes[path] = Route(**kwargs)
        return self.url(path)

    def hits(self, path: str | None = None) -> int:
        return sum(1 for p, _ in self.requests if path is None or p == path)

    def answer(self, handler: BaseHTTPRequestHandler, route: Route) -> None:
        if route.etag and handler.headers.get("If-None-Match") == route.etag:
            handler.send_response(304)
            handler.send_header("ETag", route.etag)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if route.header_trickle:
            handler.wfile.write(f"HTTP/1.1 {route.status} OK\r\n".encode())
            for n in range(200):
                handler.wfile.write(f"X-Slow-{n}: x\r\n".encode())
                handler.wfile.flush()
                time.sleep(route.header_trickle)
            return
        handler.send_response(route.status)
        headers = dict(route.headers)
        if route.etag:
            headers.setdefault("ETag", route.etag)
        if route.stream_bytes is not None:
            headers.setdefault("Content-Length", str(route.stream_bytes))
        elif "Transfer-Encoding" not in headers:
            headers.setdefault("Content-Length", str(len(route.body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if route.stream_bytes is not None:
            chunk = b"x" * 65536
            for _ in range(route.stream_bytes // len(chunk)):
                handler.wfile.write(chunk)
        elif route.trickle:
            for i in range(len(route.body)):
                handler.wfile.write(route.body[i : i + 1])
                handler.wfile.flush()
                time.sleep(route.trickle)
        elif headers.get("Transfer-Encoding") == "chunked":
            for start in range(0, len(route.body), 65536):
                piece = route.body[start : start + 65536]
                handler.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            handler.wfile.write(b"0\r\n\r\n")
        else:
            handler.wfile.write(route.body)

    def gzip_route(self, path: str, raw: bytes, **kwargs) -> str:
        """Serve ``raw`` gzip-compressed."""
        headers = {"Content-Encoding": "gzip", **kwargs.pop("headers", {})}
        return self.route(path, body=gzip.compress(raw), headers=headers, **kwargs)


@contextlib.contextmanager
def running(server: FeedServer) -> Iterator[FeedServer]:
    """Serve with ``server`` for the block's length."""
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A real HTTP feed server on 127.0.0.1, on a free port."""
    with running(FeedServer()) as server:
        yield server


@pytest.fixture
def self_signed_certificate(tmp_path) -> tuple[Path, Path]:
    """A key and a certificate for 127.0.0.1 and localhost that no authority signed."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    return key, cert


@pytest.fixture
def self_signed_feed_server(self_signed_certificate) -> Iterator[FeedServer]:
    """The feed server behind TLS (https:// addresses), with a self-signed certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(self_signed_certificate[1], self_signed_certificate[0])
    server = FeedServer()
    server.scheme = "https"
    server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
    with running(server):
        yield server


@pytest.fixture
def tls_feed_server(self_signed_feed_server, self_signed_certificate, monkeypatch) -> FeedServer:
    """The https feed server, its certificate trusted by the fetcher as a real one is."""
    trusting = ssl.create_default_context(cafile=str(self_signed_certificate[1]))
    monkeypatch.setattr(httpx, "create_ssl_context", lambda **_: trusting)
    return self_signed_feed_server


@pytest.fixture
def allow_local_feeds(app):
    """Let the fetcher reach the 127.0.0.1 test server (the setting is off by default)."""
    app.config["FEEDS_ALLOW_PRIVATE_NETWORKS"] = True
    return app


def rss(*items: str, title: str = "Test Source", extra: str = "") -> bytes:
    """A small RSS 2.0 document around ``items``."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{title}</title><link>https://source.example.com/</link>{extra}"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def item(
    n: int | str,
    *,
    title: str | None = None,
    link: str | None = None,
    body: str = "",
    date: str = "Mon, 23 Nov 2026 08:00:00 GMT",
    extra: str = "",
) -> str:
    """One RSS item; ``body`` is HTML placed in a CDATA description."""
    title = f"Entry {n}" if title is None else title
    link = f"https://source.example.com/posts/{n}" if link is None else link
    parts = [f'<guid isPermaLink="false">entry-{n}</guid>']
    if title != "":
        parts.append(f"<title>{title}</title>")
    if link != "":
        parts.append(f"<link>{link}</link>")
    if date:
        parts.append(f"<pubDate>{date}</pubDate>")
    parts.append(f"<description><![CDATA[{body or f'<p>Body of entry {n}.</p>'}]]></description>")
    return "<item>" + "".join(parts) + extra + "</item>"


# --- Curation pages: an admin's client and the audit trail ---------------------------------


class RereadingClient:
    """Each request runs in its own app context and session; re-read rows after it."""

    def __init__(self, client) -> None:
        self.client = client

    def submit(self, *args, **kwargs):
        response = self.client.submit(*args, **kwargs)
        db.session.expire_all()
        return response

    def get(self, *args, **kwargs):
        response = self.client.get(*args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def admin_client(client, carol):
    login(client, carol)
    return RereadingClient(client)


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


# --- Cleaning one entry ----------------------------------------------------------------------

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FEED_URL = "https://source.example.com/feed.xml"


def cleaned(document: bytes, index: int = 0) -> CleanEntry:
    """Parse ``document`` and clean its entry number ``index`` as the pipeline does."""
    return clean_entry(parse_feed(document).entries[index], FEED_URL, NOW)
