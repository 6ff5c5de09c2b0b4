"""A real browser walks the demo accounts: the frozen one sees the banner everywhere (#2)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_server import serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "foundation"
PAGES = ["/", "/settings", "/no/such/page", "/signup/check-email"]


@pytest.fixture
def site(app, runner) -> Iterator[str]:
    """The demo site served over HTTP on a free port."""
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    with serving(app) as base_url:
        yield base_url


def log_in(browser, site: str, email: str):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(f"{site}/login")
    page.fill("#email", email)
    page.fill("#password", "demo-password")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site}/")
    return page


def test_it_shows_the_frozen_demo_member_the_banner_on_every_page(site, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = log_in(browser, site, "frozen@example.com")
    for path in PAGES:
        page.goto(site + path)
        banner = page.locator("section.banner-frozen")
        assert banner.is_visible(), path
        assert banner.locator("h2").inner_text() == "Account Frozen"
        assert banner.get_by_role("link", name="Open Profile Settings").get_attribute("href") == (
            "/settings#billing"  # its payment failed
        )
        page.screenshot(path=ARTIFACTS / f"frozen{path.replace('/', '_') or '_home'}.png")
    page.get_by_role("link", name="Open Profile Settings").click()
    assert page.url == f"{site}/settings#billing"


def test_it_shows_the_paying_demo_member_no_banner_and_the_badge(site, browser):
    page = log_in(browser, site, "member@example.com")
    for path in PAGES:
        page.goto(site + path)
        assert page.locator("section.banner").count() == 0, path
    assert page.locator("header .badge").count() == 1
    page.screenshot(path=ARTIFACTS / "member_settings.png", full_page=True)


def test_it_runs_the_pages_without_script_errors_or_csp_violations(site, browser):
    page = log_in(browser, site, "frozen@example.com")
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    for path in ("/settings", "/admin/"):
        page.goto(site + path)
    assert problems == []
