"""A form clicked again while it is being sent is sent once (a password changed, and mailed
about, one time); a form whose question was answered No can still be sent afterwards, and
says which of its buttons was pressed."""

from __future__ import annotations

import pytest

from tests.browser.conftest import signed_in_page
from tests.conftest import PASSWORD, make_article, make_user

pytestmark = pytest.mark.browser

NEW_PASSWORD = "an entirely new passphrase"


def posts_to(page, path: str) -> list[str]:
    sent: list[str] = []
    page.on(
        "request",
        lambda r: sent.append(r.post_data or "") if r.method == "POST" and path in r.url else 0,
    )
    return sent


def test_a_password_change_clicked_again_while_it_goes_is_sent_once(app, live_server, browser):
    member = make_user(handle="mia", subscription="active")
    page = signed_in_page(browser, live_server, member, "/settings#password")
    sent: list[str] = []

    def lost_on_the_way(route):  # a request that never gets an answer: the page stays
        sent.append(route.request.post_data or "")
        route.abort("aborted")

    page.route("**/settings/password", lost_on_the_way)
    page.fill("#current_password", PASSWORD)
    page.fill("#new_password", NEW_PASSWORD)
    button = page.get_by_role("button", name="Change password")

    button.click()
    button.click(force=True, timeout=2000)  # as a person clicks again, enabled or not
    page.wait_for_timeout(300)

    assert len(sent) == 1
    assert button.is_disabled()


def test_a_form_answered_no_can_be_sent_once_answered_yes(app, live_server, browser):
    member = make_user(handle="mia", subscription="active")
    page = signed_in_page(browser, live_server, member, "/billing/local/manage")
    sent = posts_to(page, "/billing/local/manage")
    answers = iter([False, True])
    page.on("dialog", lambda d: d.accept() if next(answers) else d.dismiss())

    page.click("button:has-text('Cancel at the end of the period')")
    with page.expect_navigation():
        page.click("button:has-text('Cancel at the end of the period')")

    # Sent once, saying which of the form's buttons was pressed (it was disabled as it went).
    assert len(sent) == 1
    assert "action=cancel" in sent[0].split("&")


def test_a_download_gives_its_button_and_the_keyboard_back(app, live_server, browser):
    member = make_user(handle="mia", subscription="active")
    page = signed_in_page(browser, live_server, member, "/settings#export", accept_downloads=True)
    button = page.get_by_role("button", name="Download my data")

    button.focus()
    with page.expect_download():
        page.keyboard.press("Enter")
    assert button.is_disabled()  # a second press now would download it again

    page.wait_for_function(
        "() => document.activeElement && document.activeElement.textContent === 'Download my data'"
        " && !document.activeElement.disabled",
        timeout=8000,
    )


def test_a_page_kept_by_the_browser_leaves_what_it_drew_disabled_disabled(
    app, live_server, browser
):
    """Back to a page from the back-forward cache: only the buttons held while a form went
    are given back; a read-only account's Like, drawn disabled, stays so."""
    reader = make_user(handle="rita")  # never paid: read-only
    article = make_article(title="Walking at lunch")
    page = signed_in_page(browser, live_server, reader, f"/articles/{article.id}")
    like = page.get_by_role("button", name="Like")
    assert like.is_disabled()

    page.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")

    assert like.is_disabled()
