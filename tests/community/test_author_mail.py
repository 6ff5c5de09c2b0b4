"""A comment's author hears what reports and moderators did to it, and why.

Found by the moderation walk-through of 2026-11-26: a comment hidden by reports told its
author nothing, "Remove and freeze" never sent the removal mail, and a moderator had no
way to give a reason for a removal.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from club.extensions import db
from club.models import AuditEntry
from tests.community.conftest import add_comment, page_of
from tests.community.test_moderation import reported_by, reporters
from tests.conftest import login, read_outbox

HIDDEN = "Subject: Your comment is hidden while moderators review it"
BACK = "Subject: Your comment is visible again"
REMOVED = "Subject: A moderator removed your comment"


def mail_to(outbox, address: str, subject: str) -> list[str]:
    return [m for m in read_outbox(outbox) if f"To: {address}" in m and subject in m]


def test_the_author_hears_once_that_reports_hid_their_comment(client, article, alice, outbox):
    comment = add_comment(article, alice, "Stretch before you walk")

    reported_by(client, comment, reporters(2))
    assert mail_to(outbox, alice.email, HIDDEN) == []  # below the threshold: still shown
    reported_by(client, comment, reporters(2))  # the third hides it; the fourth changes nothing

    [mail] = mail_to(outbox, alice.email, HIDDEN)
    assert article.title in mail and "Stretch before you walk" in mail
    assert "comes back as it was" in mail and "/u/alice" in mail


def test_the_author_hears_when_a_moderator_brings_their_comment_back(
    client, article, alice, carol, outbox
):
    comment = add_comment(article, alice, "Stretch before you walk")
    reported_by(client, comment, reporters(3))
    login(client, carol)

    client.submit(f"/admin/reports/{comment.id}/dismiss")

    [mail] = mail_to(outbox, alice.email, BACK)
    assert article.title in mail and f"/comments/{comment.id}" in mail


def test_dismissing_reports_on_a_comment_still_shown_sends_nothing(
    client, article, alice, carol, outbox
):
    comment = add_comment(article, alice, "Stretch before you walk")
    reported_by(client, comment, reporters(1))
    login(client, carol)

    client.submit(f"/admin/reports/{comment.id}/dismiss")

    assert mail_to(outbox, alice.email, BACK) == []


def test_a_moderator_gives_a_reason_that_reaches_the_author_and_the_log(
    client, article, alice, carol, outbox
):
    comment = add_comment(article, alice, "Buy my supplements")
    reported_by(client, comment, reporters(1))
    login(client, carol)
    queue = client.get("/admin/reports").text
    form = queue.split(f'action="/admin/reports/{comment.id}/remove"', 1)[1].split("</form>")[0]
    assert re.search(r'<input type="text" id="remove-reason-\d+" name="reason"', form)

    client.submit(f"/admin/reports/{comment.id}/remove", {"reason": "Advertising a shop"})

    [mail] = mail_to(outbox, alice.email, REMOVED)
    assert "The moderator's reason: Advertising a shop" in mail
    assert "It was reported as: Spam or advertising." in mail
    assert "Buy my supplements" in mail and "Your membership is not affected." in mail
    detail = db.session.scalar(
        sa.select(AuditEntry.detail).where(AuditEntry.action == "comment.removed")
    )
    assert detail == "1 report(s); reason: Advertising a shop"


def test_removing_from_the_thread_offers_a_reason_too(client, article, alice, carol, outbox):
    comment = add_comment(article, alice, "Off topic")
    login(client, carol)
    thread = page_of(client, article)
    form = thread.split(f'action="/admin/reports/{comment.id}/remove"', 1)[1].split("</form>")[0]
    assert 'name="reason"' in form

    client.submit(f"/admin/reports/{comment.id}/remove", {"reason": "Not about the article"})

    [mail] = mail_to(outbox, alice.email, REMOVED)
    assert "The moderator's reason: Not about the article" in mail
    assert "It was reported as" not in mail


def test_a_removal_that_fails_sends_no_mail(client, article, alice, carol, outbox):
    comment = add_comment(article, alice, "Off topic")
    login(client, carol)

    response = client.submit(f"/admin/reports/{comment.id}/remove", {"reason": "x" * 501})

    assert "Keep the reason under 500 characters" in client.get(response.location).text
    assert read_outbox(outbox) == []
    assert "Off topic" in page_of(client, article)


def test_the_thread_points_an_admin_to_the_queue_and_tells_the_author_it_is_theirs(
    client, article, alice, carol
):
    comment = add_comment(article, alice, "Stretch before you walk")
    reported_by(client, comment, reporters(3))
    queue_link = f'href="/admin/reports#report-{comment.id}"'

    assert queue_link not in page_of(client, article)  # the last reporter
    login(client, alice)
    assert "This is your comment" in page_of(client, article)
    login(client, carol)
    thread = page_of(client, article)
    assert queue_link in thread and "This is your comment" not in thread


# --- Found by the review of this change (2026-11-28) ---------------------------------------


def test_a_comment_can_be_removed_after_one_of_its_reporters_left(client, article, alice, carol):
    from club import accounts
    from club.community.models import Notification

    comment = add_comment(article, alice, "Buy my supplements")
    stayed, left = reporters(2)
    reported_by(client, comment, [stayed, left])
    accounts.delete_account(left)
    db.session.commit()
    login(client, carol)

    response = client.submit(f"/admin/reports/{comment.id}/remove", follow_redirects=True)

    assert response.status_code == 200 and "Comment removed" in response.text
    told = db.session.scalars(sa.select(Notification.user_id)).all()
    assert told == [stayed.id]


def test_a_reporters_export_does_not_name_the_moderator_who_removed_the_comment(
    client, article, alice, carol
):
    import json

    comment = add_comment(article, alice, "Buy my supplements")
    [reporter] = reporters(1)
    reported_by(client, comment, [reporter])
    login(client, carol)
    client.submit(f"/admin/reports/{comment.id}/remove")
    login(client, reporter)

    data = json.loads(client.submit("/settings/export").get_data(as_text=True))["community"]

    (notification,) = data["notifications"]
    assert notification["kind"] == "report_actioned" and notification["from_member"] is None


def test_freezing_the_author_of_a_comment_already_removed_says_only_what_happened(
    client, article, alice, carol, outbox
):
    comment = add_comment(article, alice, "Buy my supplements")
    reported_by(client, comment, reporters(1))
    login(client, carol)
    client.submit(f"/admin/reports/{comment.id}/remove")  # another moderator, meanwhile

    response = client.submit(
        f"/admin/reports/{comment.id}/freeze", {"reason": "Spam"}, follow_redirects=True
    )

    assert "frozen; we emailed them. The comment had already been removed." in response.text
    assert "both decisions" not in response.text
    assert len(mail_to(outbox, alice.email, REMOVED)) == 1


def test_a_comment_kept_while_its_article_is_hidden_is_not_promised_to_everyone(
    client, article, alice, carol, outbox
):
    comment = add_comment(article, alice, "Stretch before you walk")
    reported_by(client, comment, reporters(3))
    article.status = "hidden"
    db.session.commit()
    login(client, carol)

    client.submit(f"/admin/reports/{comment.id}/dismiss")

    [mail] = mail_to(outbox, alice.email, "Subject: Your comment was kept")
    assert "everyone can read it" not in mail
    assert "will show again when its article" in mail
