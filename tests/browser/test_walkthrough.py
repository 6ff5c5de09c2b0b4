"""The whole story in a real browser: a visitor becomes a member, interacts, and is frozen.

Drives Debian's Chromium through Playwright against the app served by a real HTTP
server thread on a free port. Screenshots of each step go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from club import accounts, membership
from club.community import moderation
from club.community.models import Comment
from club.extensions import db
from club.models import Appeal, User
from tests.browser.conftest import ARTIFACTS, SHORT, log_in, signed_in_page
from tests.community.conftest import add_comment
from tests.conftest import PASSWORD, make_article, make_user

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a long and unguessable passphrase"


@pytest.fixture
def shoot():
    # Each step's file is rewritten every run; other tests' screenshots stay beside them.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def screenshot(page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return screenshot


def confirmation_link(outbox: Path) -> str:
    """Return the confirmation link from the newest message in the outbox."""
    newest = sorted(outbox.glob("*.eml"))[-1]
    message = email.message_from_bytes(newest.read_bytes(), policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+/confirm/\S+", text).group(0)


def fresh(model, **where):
    db.session.expire_all()
    return db.session.scalar(sa.select(model).filter_by(**where))


def test_it_walks_a_visitor_to_member_to_frozen(app, live_server, browser, shoot, outbox):
    carol = make_user(handle="carol", display_name="Carol Admin", admin=True)
    article = make_article(
        title="Walking eases lower back pain", source_name="Everyday Health Notes"
    )
    article_path = f"{live_server}/articles/{article.id}"
    visitor = browser.new_context()
    page = visitor.new_page()

    # A visitor reads the article and is invited to join.
    page.goto(article_path)
    assert page.is_visible("text=Sign up to join the conversation")
    assert page.locator("#comment-body").count() == 0
    shoot(page, "01-visitor-article")

    # They sign up, confirm through the emailed link, log in: read-only until they pay.
    page.click("text=Sign up to join the conversation")
    page.fill("#email", "nina@example.com")
    page.fill("#display_name", "Nina Newcomer")
    page.fill("#handle", "nina")
    page.fill("#password", NEW_PASSWORD)
    page.click("button:has-text('Create my account')")
    page.wait_for_load_state()
    page.goto(confirmation_link(outbox))
    page.click("button:has-text('Confirm my email')")
    page.wait_for_load_state()
    log_in(page, live_server, "nina@example.com", NEW_PASSWORD)
    page.goto(article_path)
    assert page.is_visible(".banner-frozen")
    assert page.is_disabled("#comment-body")
    shoot(page, "02-read-only-banner")
    nina = fresh(User, handle="nina")
    assert nina.is_email_confirmed

    # An admin grants a complimentary membership.
    admin = browser.new_context().new_page()
    log_in(admin, live_server, carol.email, PASSWORD)
    admin.goto(f"{live_server}/admin/users/{nina.id}")
    admin.click("button:has-text('Grant complimentary membership')")
    admin.wait_for_load_state()

    # The member comments, replies, likes and saves; the badge shows by their name.
    page.goto(article_path)
    assert page.locator(".banner-frozen").count() == 0
    page.fill(
        "#comment-body", "Walking after lunch helped my back.\n\nSource: https://example.org/study"
    )
    page.click("button:has-text('Post comment')")
    page.wait_for_load_state()
    comment = fresh(
        Comment, body="Walking after lunch helped my back.\n\nSource: https://example.org/study"
    )
    thread = page.locator(f"#comment-{comment.id}")
    assert thread.locator(".comment-meta svg[aria-label='Verified member']").count() == 1
    assert thread.locator("a[rel='nofollow noopener ugc']").count() == 1
    thread.locator("summary:has-text('Reply')").first.click()
    thread.locator(f"#reply-{comment.id}").fill("Same here, ten minutes is enough.")
    thread.locator("button:has-text('Post reply')").click()
    page.wait_for_load_state()
    assert page.is_visible("text=Same here, ten minutes is enough.")
    like = page.locator("#reactions form[data-kind='like'] button")
    like.click()
    page.wait_for_selector("#reactions form[data-kind='like'] button[aria-pressed='true']")
    likes = page.locator("#reactions form[data-kind='like'] [data-count]")
    assert likes.inner_text() == "1"  # updated in place by the script
    assert like.inner_text().strip() == "✓Like"  # the check mark shows; the label stays
    page.locator("#reactions form[data-kind='save'] button").click()
    page.wait_for_selector("#reactions form[data-kind='save'] button[aria-pressed='true']")
    assert page.locator("#reactions").get_by_role("button", name="Save", pressed=True).count() == 1
    shoot(page, "03-member-comments")
    db.session.expire_all()
    assert db.session.get(type(article), article.id).like_count == 1
    page.goto(f"{live_server}/saved")
    assert page.is_visible(f"text={article.title}")

    # A reply from someone else shows in the nav; opening the list marks it read.
    admin.goto(article_path)
    admin.locator(f"#comment-{comment.id} summary:has-text('Reply')").first.click()
    admin.fill(f"#reply-{comment.id}", "Thanks for sharing the study.")
    admin.locator(f"#comment-{comment.id} button:has-text('Post reply')").first.click()
    admin.wait_for_load_state()
    page.reload()
    assert page.get_by_role("link", name="Notifications 1 unread", exact=True).is_visible()
    page.goto(f"{live_server}/notifications")
    assert page.is_visible("text=replied to your comment on")
    page.wait_for_selector("[data-unread]", state="detached")  # marked read by the script
    assert not page.is_visible("button:has-text('Mark all as read')")  # nothing left to do

    # The admin freezes the account.
    admin.goto(f"{live_server}/admin/users/{nina.id}")
    unasked = []

    def dismiss(dialog) -> None:
        unasked.append(dialog.message)
        dialog.dismiss()

    admin.on("dialog", dismiss)
    admin.click("button:has-text('Freeze')")  # no reason yet: explained, not confirmed
    admin.wait_for_load_state()
    assert unasked == [] and admin.is_visible("text=Give the member a reason.")
    admin.fill("#reason", "Posting advertising links")
    admin.fill("#until", "2001-01-01")  # a day gone by: refused, and not asked about first
    admin.click("button:has-text('Freeze')")
    admin.wait_for_load_state()
    admin.remove_listener("dialog", dismiss)
    assert unasked == [] and admin.is_visible("text=The end date must be after today.")
    admin.fill("#until", "")
    asked = []
    admin.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    admin.click("button:has-text('Freeze')")
    admin.wait_for_load_state()
    assert asked and asked[0].startswith("Freeze @")  # the admin was asked first

    # The banner appears, controls are disabled, a crafted POST is refused.
    page.goto(article_path)
    assert page.is_visible("text=Account Frozen")
    assert page.is_disabled("#comment-body")
    assert page.is_disabled("#reactions form[data-kind='like'] button")
    assert page.locator(f"#comment-{comment.id} .comment-meta svg.badge").count() == 0
    shoot(page, "04-frozen-controls")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    comments_before = db.session.scalar(sa.select(sa.func.count()).select_from(Comment))
    crafted = page.request.post(
        f"{live_server}/articles/{article.id}/comments",
        form={"csrf_token": token, "body": "sneaky", "client_token": "x" * 24},
    )
    assert crafted.status == 403 and "frozen by a moderator" in crafted.text()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == comments_before

    # Settings still work: the member appeals the freeze.
    page.goto(f"{live_server}/settings")
    page.fill("#text", "Those were links to studies, not advertising.")
    page.click("button:has-text('Send my appeal')")
    page.wait_for_load_state()
    shoot(page, "05-settings-appeal")
    assert fresh(Appeal, user_id=nina.id) is not None


def test_a_refused_like_explains_itself_under_the_buttons_not_between_them(
    app, live_server, browser, shoot
):
    admin = make_user(admin=True)
    member = make_user(handle="mira", subscription="active")
    article = make_article(title="Stretching before bed")
    page = signed_in_page(browser, live_server, member, f"/articles/{article.id}")
    # A moderator freezes the member while the page is open.
    membership.freeze(fresh(User, id=member.id), by=admin, reason="Spam links")
    db.session.commit()

    page.locator("#reactions form[data-kind='like'] button").click()
    note = page.wait_for_selector("#reactions + .js-error")

    shoot(page, "06-refused-like")
    like = page.locator("#reactions form[data-kind='like'] button").bounding_box()
    save = page.locator("#reactions form[data-kind='save'] button").bounding_box()
    assert like["y"] == save["y"] and save["x"] - (like["x"] + like["width"]) < 40
    # The reason the moderator gave, what to do, and where to do it.
    assert "frozen" in note.inner_text() and "Spam links" in note.inner_text()
    appeal_here = note.query_selector("a[href='/settings#status']")  # a moderator's freeze
    assert appeal_here.inner_text() == "Open Profile Settings"


def test_a_like_after_logging_out_elsewhere_offers_to_log_in_and_come_back(
    app, live_server, browser
):
    member = make_user(handle="two_devices", subscription="active")
    article = make_article(title="Stretching after work")
    page = signed_in_page(browser, live_server, member, f"/articles/{article.id}")
    # "Log out" on their phone ends every session, this open page's included.
    accounts.end_all_sessions(fresh(User, id=member.id))
    db.session.commit()

    page.locator("#reactions form[data-kind='save'] button").click()
    note = page.wait_for_selector("#reactions + .js-error")

    assert note.inner_text() == "You are logged out (perhaps on another device). Log in again"
    link = note.query_selector("a")
    assert link.get_attribute("href") == f"/login?next=/articles/{article.id}"
    link.click()
    page.fill("#email", member.email)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/articles/{article.id}")


def test_a_quoted_comment_keeps_its_line_breaks_single(app, live_server, browser):
    reader = make_user(handle="quoting_reader", subscription="active")
    author = make_user(handle="two_liner", subscription="active")
    article = make_article(title="Walking")
    comment = add_comment(article, author, "first line\nsecond line")
    page = signed_in_page(browser, live_server, reader)

    def lines(selector: str) -> int:
        return page.evaluate(
            """(sel) => {
                const p = document.querySelector(sel + ' p');
                return Math.round(p.getBoundingClientRect().height
                                  / parseFloat(getComputedStyle(p).lineHeight));
            }""",
            selector,
        )

    page.goto(f"{live_server}/articles/{article.id}")
    in_thread = lines(f"#comment-{comment.id} .comment-body")
    page.goto(f"{live_server}/comments/{comment.id}/report")
    assert (in_thread, lines("blockquote")) == (2, 2)


def test_a_posted_comment_is_in_view_and_stands_out_from_the_others(
    app, live_server, browser, shoot
):
    member = make_user(handle="long_thread", subscription="active")
    article = make_article(title="Sleep and recovery")
    for n in range(12):
        add_comment(article, member, f"Earlier comment {n}.\n\nWith a second paragraph.")
    page = signed_in_page(browser, live_server, member, f"/articles/{article.id}", viewport=SHORT)
    page.fill("#comment-body", "Eight hours made the difference for me.")
    page.click("button:has-text('Post comment')")
    page.wait_for_load_state()
    shoot(page, "08-posted-comment")

    posted = fresh(Comment, body="Eight hours made the difference for me.")
    mine = page.locator(f"#comment-{posted.id} > article")
    other = page.locator(".comment:not(:target) > article").first

    def background(locator) -> str:
        return locator.evaluate("(e) => getComputedStyle(e).backgroundColor")

    assert mine.is_visible() and mine.evaluate(
        "(e) => e.getBoundingClientRect().top >= 0"
        " && e.getBoundingClientRect().bottom <= window.innerHeight"
    )
    assert background(mine) != background(other)


def test_a_moderator_freezes_a_reported_author_from_the_queue(app, live_server, browser, shoot):
    carol = make_user(handle="carol", display_name="Carol Admin", admin=True)
    spammer = make_user(handle="sam", display_name="Sam Seller", subscription="active")
    article = make_article(title="Walking eases lower back pain")
    comment = add_comment(article, spammer, "Cheap pills at pills.example.com")
    moderation.report_comment(make_user(subscription="active"), comment.id, "spam", "")
    db.session.commit()
    admin = browser.new_context().new_page()
    log_in(admin, live_server, carol.email, PASSWORD)
    admin.goto(f"{live_server}/admin/reports")
    admin.click("summary:has-text('Remove and freeze')")
    admin.fill(f"#until-{comment.id}", "2001-01-01")
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.click("button:has-text('Remove and freeze')")  # no reason, and a past date
    admin.wait_for_load_state()
    form = admin.locator(f"#report-{comment.id} details")
    assert form.get_attribute("open") is not None
    assert form.locator("text=Give the member a reason.").is_visible()
    assert form.locator("text=The end date must be after today.").is_visible()
    # site.js puts the moderator in the first field to fix.
    assert admin.evaluate("document.activeElement.id") == f"reason-{comment.id}"
    shoot(admin, "07-reports-freeze-refused")
    assert membership.standing(fresh(User, id=spammer.id)).can_interact

    admin.fill(f"#reason-{comment.id}", "Advertising in comments")
    admin.fill(f"#until-{comment.id}", "")
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.click("button:has-text('Remove and freeze')")
    admin.wait_for_load_state()
    assert admin.is_visible("text=Comment removed and Sam Seller frozen; we emailed them both")
    assert not membership.standing(fresh(User, id=spammer.id)).can_interact


def test_an_admin_is_asked_before_revoking_a_complimentary_membership(app, live_server, browser):
    carol = make_user(handle="carol", admin=True)
    guest = make_user(handle="guest", complimentary=True)
    admin = browser.new_context().new_page()
    log_in(admin, live_server, carol.email, PASSWORD)
    admin.goto(f"{live_server}/admin/users/{guest.id}")
    asked = []
    admin.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))

    admin.click("button:has-text('Revoke complimentary membership')")

    assert asked and asked[0].startswith("Revoke the complimentary membership of @guest?")
    admin.reload()  # answered No: the membership stays
    assert admin.is_visible("text=This account has a complimentary membership.")
