"""On a phone (390 px wide) nothing the site shows makes the page scroll sideways, and a
long name does not swallow the header. Screenshots go to ``test-artifacts/browser/``."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import PASSWORD, make_article, make_user

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_it_keeps_long_words_names_and_admin_tables_inside_a_phone_screen(
    app,
    live_server,
    browser,
):
    make_article(title="Notes", summary="Pneumonoultramicroscopicsilicovolcanoconiosis" * 3)
    make_article(title="Featured notes", featured=True, summary="Supercalifragilistic" * 6)
    admin = make_user(
        handle="carol", display_name="Carolina " + "Wolfeschlegelsteinhausen" * 2, admin=True
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_context(viewport=PHONE).new_page()
    log_in(page, live_server, admin.email, PASSWORD)

    for path in ["/", "/admin/feeds", "/admin/review", "/admin/audit"]:
        page.goto(f"{live_server}{path}")
        page.screenshot(path=str(ARTIFACTS / f"phone{path.replace('/', '-')}.png"), full_page=True)
        assert page_width(page) <= PHONE["width"], path
    name = page.locator(".site-header .account-name").bounding_box()
    assert name["height"] < 30 and name["width"] < PHONE["width"] / 2, name  # one short line

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
