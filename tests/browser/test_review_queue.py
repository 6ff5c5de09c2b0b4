"""The review queue in a browser: an admin approves a page of articles at once."""

from __future__ import annotations

import sqlalchemy as sa

from articles.models import Article
from club.extensions import db
from tests.browser.conftest import ARTIFACTS, signed_in_page
from tests.conftest import make_article, make_user


def test_an_admin_selects_every_article_on_the_page_and_approves_them(app, live_server, browser):
    carol = make_user(handle="carol", admin=True)
    for n in range(3):
        make_article(title=f"Pending walk {n}", status="pending")
    page = signed_in_page(browser, live_server, carol, "/admin/articles/?status=pending")

    page.get_by_label("Select every article on this page").check()
    assert page.locator('input[name="ids"]:checked').count() == 3
    page.screenshot(path=str(ARTIFACTS / "review-queue-select-all.png"), full_page=True)
    page.get_by_role("button", name="Approve selected").click()
    page.wait_for_load_state()

    db.session.expire_all()
    statuses = db.session.scalars(sa.select(Article.status))
    assert set(statuses) == {"published"}


def test_each_rows_buttons_say_which_article_they_act_on(app, live_server, browser):
    carol = make_user(handle="carol", admin=True)
    make_article(title="Walking eases back pain", status="pending")
    make_article(title="Sleep and recovery", status="pending")
    page = signed_in_page(browser, live_server, carol, "/admin/articles/?status=pending")

    for title in ("Walking eases back pain", "Sleep and recovery"):
        assert page.get_by_role("button", name=f"Approve “{title}”", exact=True).count() == 1
        assert page.get_by_role("link", name=f"Edit “{title}”", exact=True).count() == 1
    # The title is for screen readers: the row shows the short word.
    button = page.get_by_role("button", name="Approve “Sleep and recovery”")
    assert button.locator(".visually-hidden").bounding_box()["width"] <= 1
