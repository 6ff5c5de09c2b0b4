"""After posting a comment, the member sees that it went, where they are looking."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, SHORT, signed_in_page
from tests.conftest import make_article, make_user

pytestmark = pytest.mark.browser

LONG_ARTICLE = "".join(f"<p>Paragraph {n} about walking and sleep.</p>" for n in range(80))


def in_view(page, selector: str) -> bool:
    return page.evaluate(
        """selector => {
            const box = document.querySelector(selector).getBoundingClientRect();
            return box.top >= 0 && box.bottom <= window.innerHeight;
        }""",
        selector,
    )


@pytest.mark.parametrize("script", [True, False], ids=["with-script", "without-script"])
def test_the_posted_message_is_by_the_new_comment(app, live_server, browser, script):
    member = make_user(handle="mia", subscription="active")
    article = make_article(title="Walking at lunch", content=LONG_ARTICLE)
    page = signed_in_page(
        browser,
        live_server,
        member,
        f"/articles/{article.id}",
        viewport=SHORT,
        java_script_enabled=script,
    )

    page.fill("#comment-body", "Ten minutes after lunch helps.")
    page.click("button:has-text('Post comment')")
    page.wait_for_load_state()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"comment-posted-{'js' if script else 'nojs'}.png"))
    comment = page.locator("li.comment", has_text="Ten minutes after lunch helps.")
    if script:
        # The message sits in the comment, in view, and has focus (a screen reader reads it).
        assert comment.locator(".flash").inner_text() == "Your comment is posted."
        assert in_view(page, "li.comment .flashes")
        assert page.evaluate("document.activeElement.className") == "flashes"
        page.keyboard.press("Tab")  # on from the comment, not from the top of the page
        assert page.evaluate("document.activeElement.closest('li.comment') !== null")
    else:
        # Without the script the comment is still in view, marked as the one posted.
        assert page.locator(".flash").inner_text() == "Your comment is posted."
        assert in_view(page, "li.comment > article")
    page.context.close()


def test_a_comment_of_spaces_is_refused_in_the_box_without_leaving_the_page(
    app, live_server, browser
):
    member = make_user(handle="mia", subscription="active")
    article = make_article(title="Walking at lunch")
    page = signed_in_page(browser, live_server, member, f"/articles/{article.id}", viewport=SHORT)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)

    page.fill("#comment-body", "   \n  ")
    page.click("button:has-text('Post comment')")
    page.wait_for_timeout(300)

    assert sent == [] and page.url == f"{live_server}/articles/{article.id}"
    said = page.eval_on_selector("#comment-body", "box => box.validationMessage")
    assert said == "Write something before posting: the comment is empty."

    page.fill("#comment-body", "Ten minutes after lunch helps.")  # typing clears it
    with page.expect_navigation():
        page.click("button:has-text('Post comment')")
    assert page.locator("li.comment", has_text="Ten minutes after lunch helps.").count() == 1
