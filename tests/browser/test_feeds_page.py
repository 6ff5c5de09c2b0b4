"""The feeds page in a browser: an admin narrows it to the failing feeds and one topic,
then goes from a feed to its pending articles in the review queue."""

from __future__ import annotations

import pytest

from articles import curation
from club.extensions import db
from tests.browser.conftest import ARTIFACTS, signed_in_page
from tests.conftest import make_article, make_feed, make_user

pytestmark = pytest.mark.browser


def test_an_admin_filters_the_feeds_and_opens_one_feeds_pending_articles(app, live_server, browser):
    carol = make_user(handle="carol", admin=True)
    sleep = curation.topic_for("Sleep")
    db.session.commit()
    make_feed(title="Walking Daily")
    make_feed(title="Sleep Weekly", topic=sleep, status="failing", last_error="error (500)")
    noisy = make_feed(title="Sleep Noise", topic=sleep, status="failing", last_error="timeout")
    make_feed(title="Knee Notes", status="failing", last_error="error (404)")
    make_article(noisy, title="Pending from the noisy feed", status="pending")
    make_article(title="Pending from elsewhere", status="pending")
    page = signed_in_page(browser, live_server, carol, "/admin/feeds/")

    status = page.get_by_role("navigation", name="Feeds by status")
    status.get_by_role("link", name="Failing (3)").click()
    page.wait_for_load_state()
    page.get_by_label("Topic").select_option(label="Sleep")
    page.get_by_label("Title or address contains").fill("noise")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "feeds-filtered.png"), full_page=True)
    current = status.locator('[aria-current="page"]')
    assert current.inner_text() == "Failing (1)"
    assert page.locator("table.feeds tbody tr").all_inner_texts()[0].startswith("Sleep Noise")
    assert page.locator("table.feeds tbody tr").count() == 1

    page.get_by_role("link", name="1 pending from Sleep Noise").click()
    page.wait_for_load_state()
    assert "From Sleep Noise" in page.locator("main").inner_text()
    titles = page.locator("table.review tbody tr td:nth-child(2) > a").all_inner_texts()
    assert titles == ["Pending from the noisy feed"]
    page.get_by_role("button", name="Approve “Pending from the noisy feed”").click()
    page.wait_for_load_state()
    assert "From Sleep Noise" in page.locator("main").inner_text()  # still this feed's queue
    assert "Nothing pending from Sleep Noise." in page.locator("main").inner_text()
