"""A phone's header is one line: the brand and a Menu button that opens the links."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, signed_in_page
from tests.community.conftest import add_comment
from tests.conftest import make_article, make_user

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
ONE_LINE = 80  # pixels: the brand and a button, with the header's padding


def header_height(page) -> float:
    return page.locator(".site-header").bounding_box()["height"]


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phone-header-{name}.png"))


def test_a_visitor_sees_sign_up_and_opens_the_rest_from_the_keyboard(app, live_server, browser):
    page = browser.new_context(viewport=PHONE).new_page()
    page.goto(f"{live_server}/")
    nav = page.get_by_role("navigation", name="Main")

    shoot(page, "visitor-closed")
    assert header_height(page) < ONE_LINE
    assert nav.get_by_role("link", name="Sign up").is_visible()
    assert not nav.get_by_role("link", name="Log in").is_visible()

    for _ in range(3):  # the skip link, the brand, then the Menu button
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Menu"
    page.keyboard.press("Enter")
    menu = page.get_by_role("button", name="Menu")
    assert menu.get_attribute("aria-expanded") == "true"
    assert nav.get_by_role("link", name="Log in").is_visible()
    shoot(page, "visitor-open")
    page.keyboard.press("Tab")  # on into the links the button opened
    assert page.evaluate("document.activeElement.closest('nav') !== null")

    page.keyboard.press("Escape")
    assert menu.get_attribute("aria-expanded") == "false"
    assert not nav.get_by_role("link", name="Log in").is_visible()
    assert page.evaluate("document.activeElement.textContent.trim()") == "Menu"


def test_a_member_sees_unread_notifications_on_the_closed_menu(app, live_server, browser):
    member = make_user(handle="mia", subscription="active", admin=True)
    first = add_comment(make_article(), member, "Thoughts on walking")
    add_comment(first.article, make_user(subscription="active"), "A reply", parent=first)
    page = signed_in_page(browser, live_server, member, "/", viewport=PHONE)
    nav = page.get_by_role("navigation", name="Main")

    assert header_height(page) < ONE_LINE
    menu = page.get_by_role("button", name="Menu 1 unread", exact=True)  # what is read out
    assert menu.locator("[data-number]").inner_text() == "1"  # what shows
    assert menu.locator(".unread-count .visually-hidden").bounding_box()["width"] <= 1
    assert not nav.get_by_role("link", name="Notifications").is_visible()
    shoot(page, "member-closed")

    menu.click()
    for name in ("For you", "Saved", "Notifications", "Admin", "Mia: settings"):
        assert nav.get_by_title(name).or_(nav.get_by_role("link", name=name)).first.is_visible()
    assert nav.get_by_role("button", name="Log out").is_visible()
    shoot(page, "member-open")

    # Read, the notifications leave no count on the button either.
    page.goto(f"{live_server}/notifications")
    page.wait_for_selector("[data-unread-menu]", state="detached")
    assert menu.locator(".unread-count").count() == 0


def test_a_wide_screen_shows_every_link_and_no_menu_button(app, live_server, browser):
    member = make_user(handle="mia", subscription="active")
    page = signed_in_page(browser, live_server, member, "/")
    nav = page.get_by_role("navigation", name="Main")

    assert not page.get_by_role("button", name="Menu").is_visible()
    for name in ("For you", "Videos", "Saved", "Notifications"):
        assert nav.get_by_role("link", name=name).is_visible()
    assert nav.get_by_role("button", name="Log out").is_visible()
    assert header_height(page) < ONE_LINE


def test_without_the_page_script_a_phone_shows_every_link(app, live_server, browser):
    page = browser.new_context(viewport=PHONE, java_script_enabled=False).new_page()
    page.goto(f"{live_server}/")
    nav = page.get_by_role("navigation", name="Main")

    assert not page.get_by_role("button", name="Menu").is_visible()  # it could not open
    for name in ("For you", "Videos", "Log in", "Sign up"):
        assert nav.get_by_role("link", name=name).is_visible()
