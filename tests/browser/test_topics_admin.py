"""The Topics page in a browser: an admin merges one topic into another, and a reader's
old link to the merged topic lands on the one it became."""

from __future__ import annotations

import pytest

from articles import curation
from club.extensions import db
from tests.browser.conftest import ARTIFACTS, signed_in_page
from tests.conftest import make_article, make_feed, make_user

pytestmark = pytest.mark.browser


def test_an_admin_merges_a_topic_and_its_old_address_leads_to_the_new_one(
    app, live_server, browser
):
    carol = make_user(handle="carol", admin=True)
    rest, sleep = curation.topic_for("Rest"), curation.topic_for("Sleep")
    db.session.commit()
    make_feed(title="Sleep Weekly", topic=sleep)
    make_article(title="Naps after lunch", topics=[sleep])
    make_article(title="A quiet evening", topics=[rest])
    page = signed_in_page(browser, live_server, carol, "/admin/topics/")

    page.get_by_role("link", name="Merge Sleep").click()
    page.get_by_label("Merge it into").select_option(label="Rest")
    page.get_by_role("button", name="Show what will move").click()
    page.wait_for_load_state()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "topic-merge.png"), full_page=True)
    summary = page.locator(".merge-summary").inner_text()
    assert "1 article (1 published) move to “Rest”" in summary
    assert "1 feed files new articles under “Rest”" in summary
    page.get_by_role("button", name="Merge into “Rest”").click()
    page.wait_for_load_state()

    page.screenshot(path=str(ARTIFACTS / "topics-after-merge.png"), full_page=True)
    assert "Merged “Sleep” (/topics/sleep) into “Rest”" in page.inner_text("main")
    assert page.get_by_role("link", name="Merge Sleep").count() == 0
    page.goto(f"{live_server}/topics/sleep")
    assert page.url == f"{live_server}/topics/rest"
    titles = page.locator("article h3, .article-card h3").all_inner_texts()
    assert sorted(titles) == ["A quiet evening", "Naps after lunch"]
