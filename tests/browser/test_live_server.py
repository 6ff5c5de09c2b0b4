"""The server the browser tests drive: a page the browser abandons leaves nothing open.

Chromium drops requests it no longer needs (a favicon, a page it navigated away from).
A static file left open by such a request is closed by the garbage collector later, and
its ResourceWarning then fails whichever test happens to be running.
"""

from __future__ import annotations

import re
import socket
import struct
import time
from typing import BinaryIO

# Bytes the view never reads: Werkzeug is still draining them when the reset arrives.
UNREAD_BODY = b"x" * 100_000


def receive(sock: socket.socket) -> bytes:
    """Return the next bytes from ``sock``; the server closing early is a failure."""
    data = sock.recv(65536)
    assert data, "the server closed the connection before its reply ended"
    return data


def hang_up_after_reading(base_url: str, path: str) -> None:
    """Fetch ``path`` with an unread body, read the whole reply, then reset the connection."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(UNREAD_BODY)}\r\n\r\n"
        sock.sendall(head.encode() + UNREAD_BODY)
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += receive(sock)
        headers, _, body = reply.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?im)^content-length: *(\d+)", headers)[1])
        while len(body) < length:
            body += receive(sock)
        # Linger 0: close with a reset, as a browser abandoning a request does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def is_closed_soon(file: BinaryIO) -> bool:
    """Return whether ``file`` is closed within a few seconds."""
    deadline = time.monotonic() + 5
    while not file.closed and time.monotonic() < deadline:
        time.sleep(0.02)
    return file.closed


def test_it_closes_a_static_file_when_the_browser_hangs_up(app, live_server):
    served = []

    @app.after_request
    def remember_the_file(response):
        served.append(response.response.file)  # send_file's FileWrapper
        return response

    hang_up_after_reading(live_server, "/static/favicon.svg")

    assert is_closed_soon(served[0]), "the favicon stayed open after the browser hung up"
