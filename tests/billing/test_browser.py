"""The local test checkout in a real browser: subscribe, comment with the badge; decline, frozen."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PASSWORD, make_article, make_user

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "instance" / "screenshots"


@pytest.fixture
def browser_page(live_server, browser):
    page = browser.new_page()
    page.set_default_timeout(10_000)
    return page


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")


def test_it_lets_a_new_member_subscribe_locally_and_comment_with_the_badge(
    app, live_server, browser_page
):
    page = browser_page
    user = make_user(handle="newbie", display_name="Nina Newbie")
    article = make_article(title="Walking and the heart")
    log_in(page, live_server.url, user.email)

    page.goto(f"{live_server.url}/settings#billing")
    page.click("button:has-text('Subscribe for $1.00/month')")
    assert page.locator("h1").inner_text() == "Test checkout — no real payment"
    page.click("button:has-text('Pay $1.00')")
    assert "Renews on" in page.locator("#billing").inner_text()

    page.goto(f"{live_server.url}/articles/{article.id}")
    page.fill("#comment-body", "Thirty minutes a day does wonders.")
    page.click("button:has-text('Post comment')")
    comment = page.locator(".thread li", has_text="Thirty minutes a day")
    comment.wait_for()
    assert comment.locator("svg.badge").count() >= 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "billing-local-subscribed-comment.png"), full_page=True)


def test_it_leaves_a_declined_card_frozen_with_the_banner(app, live_server, browser_page):
    page = browser_page
    user = make_user(handle="declined", display_name="Dee Declined")
    log_in(page, live_server.url, user.email)

    page.goto(f"{live_server.url}/settings#billing")
    page.click("button:has-text('Subscribe')")
    page.click("button:has-text('Decline card')")

    banner = page.locator(".banner-frozen")
    assert "Account Frozen" in banner.inner_text()
    assert "payment failed" in banner.inner_text().lower()
    assert "declined" in page.locator("#billing").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "billing-local-declined.png"), full_page=True)


def test_it_asks_before_ending_a_membership_at_once(app, live_server, browser_page):
    page = browser_page
    member = make_user(handle="steady", subscription="active")
    log_in(page, live_server.url, member.email)
    page.goto(f"{live_server.url}/billing/local/manage")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))

    page.click("button:has-text('End membership now')")

    assert asked and asked[0].startswith("End your membership now?")
    page.goto(f"{live_server.url}/settings#billing")  # answered No: nothing ended
    assert page.locator(".banner-frozen").count() == 0
