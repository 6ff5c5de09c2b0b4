"""For you in a browser: following a topic brings its articles onto the page; the topic
page's Follow button."""

from __future__ import annotations

import pytest

from articles import curation
from club.extensions import db
from tests.browser.conftest import ARTIFACTS, signed_in_page
from tests.conftest import make_article, make_user

pytestmark = pytest.mark.browser


def member_and_a_sleep_article(live_server, browser):
    """A paying member signed in on a wide page, and the topic Sleep with one article."""
    member = make_user(handle="mia", subscription="active")
    sleep = curation.topic_for("Sleep")
    db.session.commit()
    make_article(title="Naps after lunch", topics=[sleep])
    page = signed_in_page(browser, live_server, member, viewport={"width": 1280, "height": 900})
    return page, sleep


def test_following_a_topic_shows_its_articles_without_a_reload_by_hand(app, live_server, browser):
    page, _ = member_and_a_sleep_article(live_server, browser)
    page.goto(f"{live_server}/for-you")
    assert page.locator(".article-card").count() == 0

    with page.expect_navigation():
        page.get_by_role("button", name="Follow Sleep").click()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "for-you-after-follow.png"), full_page=True)
    assert page.locator(".article-card h3").all_inner_texts() == ["Naps after lunch"]
    assert page.get_by_role("button", name="Follow Sleep").get_attribute("aria-pressed") == "true"
    # Drawn again, the page gives focus back to the button pressed, where the keyboard was.
    assert page.evaluate("document.activeElement.textContent").strip().endswith("Follow Sleep")


def test_a_topic_pages_follow_button_stands_apart_from_its_cards(app, live_server, browser):
    page, sleep = member_and_a_sleep_article(live_server, browser)
    page.goto(f"{live_server}/topics/{sleep.slug}")

    button = page.get_by_role("button", name="Follow Sleep").bounding_box()
    card = page.locator(".article-card").first.bounding_box()
    assert card["y"] - (button["y"] + button["height"]) >= 12
