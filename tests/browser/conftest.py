"""Browser tests: the app served on a free port, and helpers to drive it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


@pytest.fixture
def live_server(app):
    """Serve ``app`` on 127.0.0.1 on a free port in a background thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
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
