"""Browser tests: the app served on a free port, and helpers to drive it."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from werkzeug.serving import make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


def closing_responses(app: WSGIApplication) -> WSGIApplication:
    """Wrap ``app`` so each response is closed as soon as it has been sent or abandoned.

    Werkzeug 3.1's server skips ``close()`` when the client resets the connection while
    it drains the request after the reply (Chromium does, dropping a favicon or a page it
    left): the static file stays open until the garbage collector warns, failing
    whichever test is running then.
    """

    def app_closing_its_response(
        environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterator[bytes]:
        response: Iterable[bytes] = app(environ, start_response)
        try:
            yield from response
        finally:
            # Reached when the reply is sent, when the server closes us, or when a
            # reply cut short is dropped.
            if hasattr(response, "close"):
                response.close()

    return app_closing_its_response


@pytest.fixture
def live_server(app):
    """Serve ``app`` on 127.0.0.1 on a free port in a background thread."""
    server = make_server("127.0.0.1", 0, closing_responses(app), threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base_url  # links in mail point here
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def log_in(page, base_url: str, address: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#email", address)
    page.fill("#password", password)
    page.click("button:has-text('Log in')")
    page.wait_for_load_state()
