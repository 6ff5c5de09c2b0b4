"""Browser tests: the app served on a free port, and helpers to drive it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.live_server import serving

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


@pytest.fixture
def live_server(app):
    """Serve ``app`` on 127.0.0.1 on a free port in a background thread."""
    with serving(app) as base_url:
        app.config["BASE_URL"] = base_url  # links in mail point here
        yield base_url


def log_in(page, base_url: str, address: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#email", address)
    page.fill("#password", password)
    page.click("button:has-text('Log in')")
    page.wait_for_load_state()


DESKTOP = {"width": 1280, "height": 800}
# A shorter window, for what must land in view without scrolling.
SHORT = {"width": 1280, "height": 720}


def signed_in_page(browser, base_url: str, user, path: str | None = None, **context_options):
    """A page in a fresh browser context, logged in as ``user`` (whose password is the
    tests' ``PASSWORD``) and opened at ``path`` when one is given. A desktop window unless
    ``viewport`` (or any other context option) says otherwise."""
    context_options.setdefault("viewport", DESKTOP)
    page = browser.new_context(**context_options).new_page()
    log_in(page, base_url, user.email, PASSWORD)
    if path is not None:
        page.goto(f"{base_url}{path}")
    return page
