"""Reports and the moderation queue at /admin/reports."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from club import accounts, membership
from club.clock import utcnow
from club.community.models import Report
from club.extensions import db
from club.models import AuditEntry
from tests.community.conftest import add_comment, page_of
from tests.conftest import login, make_user, read_outbox, table_fingerprint


def report(client, comment, reason="spam", **fields):
    return client.submit(f"/comments/{comment.id}/report", {"reason": reason, **fields})


def reporters(n: int):
    return [make_user(subscription="active") for _ in range(n)]


def reported_by(client, comment, users):
    for user in users:
        login(client, user)
        report(client, comment)


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def test_it_files_a_report_with_a_reason(member, article, carol):
    comment = add_comment(article, carol)
    response = report(member, comment, "harassment", details="rude")
    [row] = db.session.scalars(sa.select(Report)).all()
    assert response.status_code == 303
    assert (row.reason, row.details, row.status) == ("harassment", "rude", "open")


def test_the_report_form_leads_back_to_the_comment_unsent(member, article, carol):
    comment = add_comment(article, carol)
    page = member.get(f"/comments/{comment.id}/report").get_data(as_text=True)
    cancel = re.search(r'<a href="([^"]+)">Cancel</a>', page).group(1)
    back = member.get(cancel)
    assert back.status_code in (302, 303) and f"#comment-{comment.id}" in back.location
    assert db.session.scalars(sa.select(Report)).all() == []


def test_it_refuses_a_report_without_a_reason(member, article, carol):
    comment = add_comment(article, carol)
    before = table_fingerprint()
    response = report(member, comment, "")
    assert response.status_code == 400
    assert "Choose a reason" in response.get_data(as_text=True)
    assert table_fingerprint() == before


def test_it_counts_a_line_break_in_the_details_once_as_the_browser_does(member, article, carol):
    comment = add_comment(article, carol)
    details = "\r\n".join(["x" * 49] * 10)  # 499 characters in the textarea, 508 sent
    response = report(member, comment, details=details)
    assert response.status_code == 303
    row = db.session.scalars(sa.select(Report)).one()
    assert row.details == details.replace("\r\n", "\n")


def test_it_keeps_the_reason_and_details_when_a_report_is_refused(member, article, carol):
    comment = add_comment(article, carol)
    response = report(member, comment, "harassment", details="d" * 501 + " my words")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Keep the details under 500 characters" in html
    assert "my words</textarea>" in html
    assert '<option selected value="harassment">' in html


def test_it_refuses_a_second_report_from_the_same_member(member, article, carol):
    comment = add_comment(article, carol)
    report(member, comment)
    before = table_fingerprint()
    assert report(member, comment).status_code == 409
    assert table_fingerprint() == before


def test_a_member_can_report_again_a_kept_comment_its_author_rewrote(client, article, alice, carol):
    comment = add_comment(article, alice, "harmless")
    reporter = make_user(subscription="active")
    login(client, reporter)
    report(client, comment, "spam")
    login(client, carol)
    client.submit(f"/admin/reports/{comment.id}/dismiss")
    login(client, reporter)
    kept = report(client, comment, "harassment")
    assert kept.status_code == 409 and "a moderator decided on it" in kept.text

    login(client, alice)
    assert client.submit(f"/comments/{comment.id}/edit", {"body": "now abusive"}).status_code == 303
    login(client, reporter)
    assert report(client, comment, "harassment").status_code == 303

    [row] = db.session.scalars(sa.select(Report)).all()
    assert (row.status, row.reason, row.decided_at) == ("open", "harassment", None)
    login(client, carol)
    assert "now abusive" in client.get("/admin/reports").text


def test_it_refuses_reporting_your_own_comment(member, article, alice):
    comment = add_comment(article, alice)
    assert report(member, comment).status_code == 400


def test_it_hides_a_comment_reported_by_three_members(client, article, alice):
    comment = add_comment(article, alice, "questionable claim")
    reported_by(client, comment, reporters(2))
    assert "questionable claim" in page_of(client, article)
    reported_by(client, comment, reporters(1))
    html = page_of(client, article)
    assert "questionable claim" not in html and "hidden while moderators review" in html
    db.session.refresh(article)
    assert article.comment_count == 0
    assert audit_actions().count("comment.auto_hidden") == 1


def test_a_report_still_counts_after_its_reporter_leaves(client, article, alice):
    comment = add_comment(article, alice, "questionable claim")
    [leaver, stayer] = reporters(2)
    reported_by(client, comment, [leaver, stayer])
    accounts.delete_account(leaver)
    db.session.commit()  # their report waits in the queue, so it counts toward hiding

    reported_by(client, comment, reporters(1))

    assert "questionable claim" not in page_of(client, article)


def test_it_leaves_a_moderators_comment_up_and_in_the_queue_however_many_report_it(
    client, article, carol
):
    """Members' reports must not be a way to silence the moderators (as on Discourse)."""
    comment = add_comment(article, carol, "Moderator note: stay on topic.")
    reported_by(client, comment, reporters(3))
    assert "Moderator note: stay on topic." in page_of(client, article)
    assert "comment.auto_hidden" not in audit_actions()
    login(client, carol)
    assert "Moderator note: stay on topic." in client.get("/admin/reports").text


def test_it_lists_reported_comments_for_admins(client, article, alice, carol):
    comment = add_comment(article, alice, "reported words")
    reported_by(client, comment, reporters(1))
    login(client, carol)
    html = client.get("/admin/reports").get_data(as_text=True)
    assert "reported words" in html and "Spam or advertising" in html


def test_it_keeps_members_out_of_the_queue(member):
    assert member.get("/admin/reports").status_code == 403


def test_it_returns_a_comment_when_reports_are_dismissed(client, article, alice, carol):
    comment = add_comment(article, alice, "fine after all")
    reported_by(client, comment, reporters(3))
    login(client, carol)
    client.submit(f"/admin/reports/{comment.id}/dismiss")
    assert "fine after all" in page_of(client, article)
    assert "comment.reports_dismissed" in audit_actions()
    db.session.refresh(article)
    assert article.comment_count == 1


def test_it_says_when_a_queue_item_was_already_decided(client, article, alice, carol):
    comment = add_comment(article, alice, "decided in another tab")
    reported_by(client, comment, reporters(1))
    login(client, carol)
    client.submit(f"/admin/reports/{comment.id}/remove")
    before = table_fingerprint()
    response = client.submit(f"/admin/reports/{comment.id}/dismiss", follow_redirects=True)
    assert "already deleted or removed" in response.get_data(as_text=True)
    assert table_fingerprint() == before


def test_it_removes_a_comment_keeping_its_thread(client, article, alice, carol):
    comment = add_comment(article, alice, "bad words")
    add_comment(article, carol, "a reply below", parent=comment)
    reported_by(client, comment, reporters(1))
    login(client, carol)
    client.submit(f"/admin/reports/{comment.id}/remove")
    html = page_of(client, article)
    assert "[removed by a moderator]" in html and "bad words" not in html
    assert "a reply below" in html
    assert "comment.removed" in audit_actions()
    db.session.refresh(article)
    assert article.comment_count == 1


def test_it_emails_the_author_what_was_removed_and_why(client, article, alice, carol, outbox):
    comment = add_comment(article, alice, "buy cheap pills here")
    reported_by(client, comment, reporters(2))
    login(client, carol)
    response = client.submit(f"/admin/reports/{comment.id}/remove", follow_redirects=True)
    assert "we emailed its author" in response.text

    [mail] = [m for m in read_outbox(outbox) if "Subject: A moderator removed your comment" in m]
    assert f"To: {alice.email}" in mail
    assert article.title in mail and "buy cheap pills here" in mail
    assert "It was reported as: Spam or advertising." in mail


def test_it_lists_a_members_removed_comments_on_their_admin_page(client, article, alice, carol):
    theirs = add_comment(article, alice, "buy cheap pills here")
    someone_elses = add_comment(article, carol, "an outdated note")
    login(client, carol)
    for comment in (theirs, someone_elses):
        client.submit(f"/admin/reports/{comment.id}/remove", follow_redirects=True)

    page = client.get(f"/admin/users/{alice.id}").text

    assert page.count("Comment removed") == 1
    assert f'href="/comments/{theirs.id}"' in page
    assert f'href="/comments/{someone_elses.id}"' not in page


def test_it_sends_no_removal_mail_for_a_moderators_own_comment(client, article, carol, outbox):
    comment = add_comment(article, carol, "an outdated note")
    login(client, carol)
    response = client.submit(f"/admin/reports/{comment.id}/remove", follow_redirects=True)
    assert "Comment removed." in response.text and "we emailed its author" not in response.text
    assert not [m for m in read_outbox(outbox) if "removed your comment" in m]


def test_it_refuses_a_reply_to_a_removed_comment(client, article, alice, carol):
    comment = add_comment(article, carol)
    login(client, carol)
    client.submit(f"/admin/reports/{comment.id}/remove")
    login(client, alice)
    before = table_fingerprint()
    response = client.submit(
        f"/articles/{article.id}/comments",
        {"body": "hi", "parent_id": comment.id, "client_token": "t" * 24},
    )
    assert response.status_code == 400
    assert table_fingerprint() == before


def test_it_freezes_the_author_until_a_date(client, article, alice, carol):
    comment = add_comment(article, alice, "spam spam")
    reported_by(client, comment, reporters(3))
    login(client, carol)
    until = (utcnow() + timedelta(days=7)).date()
    client.submit(
        f"/admin/reports/{comment.id}/freeze", {"reason": "Spam", "until": until.isoformat()}
    )
    db.session.refresh(alice)
    st = membership.standing(alice)
    assert st.reason is membership.Reason.FROZEN_BY_MODERATOR and st.frozen_until.date() == until
    assert "spam spam" not in page_of(client, article)
    assert {"user.freeze", "comment.removed"} <= set(audit_actions())


def test_it_lifts_a_dated_freeze_by_itself_when_the_date_passes(client, article, alice, carol):
    comment = add_comment(article, alice)
    reported_by(client, comment, reporters(1))
    login(client, carol)
    until = (utcnow() + timedelta(days=2)).date()
    client.submit(f"/admin/reports/{comment.id}/freeze", {"reason": "Cool off", "until": until})
    db.session.refresh(alice)
    assert not membership.standing(alice).can_interact
    assert membership.standing(alice, now=alice.frozen_until + timedelta(seconds=1)).can_interact


def freeze_form_of(page: str, comment) -> str:
    """The part of the reports page that holds ``comment``'s freeze form."""
    start = page.index(f'action="/admin/reports/{comment.id}/freeze"')
    return page[page.rindex("<details", 0, start) : page.index("</details>", start)]


def test_it_refuses_a_freeze_without_a_reason(client, article, alice, carol):
    comment = add_comment(article, alice)
    reported_by(client, comment, reporters(1))
    login(client, carol)
    before = table_fingerprint()
    response = client.submit(f"/admin/reports/{comment.id}/freeze", {"reason": " "})
    assert response.status_code == 400
    form = freeze_form_of(response.get_data(as_text=True), comment)
    assert form.startswith("<details open>") and "Give the member a reason." in form
    assert table_fingerprint() == before


def test_it_refuses_a_freeze_ending_in_the_past_keeping_the_reason(client, article, alice, carol):
    comment = add_comment(article, alice)
    reported_by(client, comment, reporters(1))
    login(client, carol)
    before = table_fingerprint()
    response = client.submit(
        f"/admin/reports/{comment.id}/freeze",
        {"reason": "Posted the same link 40 times", "until": "2001-01-01"},
    )
    assert response.status_code == 400
    form = freeze_form_of(response.get_data(as_text=True), comment)
    assert "The end date must be after today." in form
    assert "Posted the same link 40 times</textarea>" in form
    assert table_fingerprint() == before


def test_a_refused_freeze_opens_only_its_own_form(client, article, alice, bob, carol):
    spam, other = add_comment(article, alice, "spam"), add_comment(article, bob, "rude")
    reported_by(client, spam, reporters(1))
    reported_by(client, other, reporters(1))
    login(client, carol)
    response = client.submit(f"/admin/reports/{spam.id}/freeze", {"reason": ""})
    page = response.get_data(as_text=True)
    assert freeze_form_of(page, spam).startswith("<details open>")
    assert freeze_form_of(page, other).startswith("<details>")
    assert "Give the member a reason." not in freeze_form_of(page, other)


def test_a_freeze_the_policy_refuses_says_why_and_keeps_what_was_typed(
    client, article, alice, carol
):
    comment = add_comment(article, alice, "spam")
    reported_by(client, comment, reporters(1))
    login(client, carol)
    alice.is_admin = True  # made an admin while the moderator was typing
    db.session.commit()
    before = table_fingerprint()
    response = client.submit(f"/admin/reports/{comment.id}/freeze", {"reason": "Spam again"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "An admin cannot be frozen; revoke the admin role first." in page
    assert "Spam again</textarea>" in freeze_form_of(page, comment)
    assert table_fingerprint() == before


def test_it_lets_an_admin_remove_any_comment_from_the_thread(client, article, alice, carol):
    comment = add_comment(article, alice, "off the rails")
    login(client, carol)
    html = page_of(client, article)
    assert f'action="/admin/reports/{comment.id}/remove"' in html
    client.submit(f"/admin/reports/{comment.id}/remove")
    html = page_of(client, article)
    # No replies to hold in place, so no "[removed by a moderator]" marker either.
    assert "off the rails" not in html and "[removed by a moderator]" not in html
    assert "comment.removed" in audit_actions()


def test_it_shows_members_no_moderator_controls(member, article, carol):
    comment = add_comment(article, carol)
    assert f"/admin/reports/{comment.id}/remove" not in page_of(member, article)


def test_it_refuses_over_long_report_details(member, article, carol):
    comment = add_comment(article, carol)
    before = table_fingerprint()
    response = report(member, comment, details="x" * 501)
    assert response.status_code == 400
    assert "under 500 characters" in response.get_data(as_text=True)
    assert table_fingerprint() == before


def test_it_answers_404_for_reporting_a_missing_comment(member):
    assert report_missing(member).status_code == 404


def report_missing(client):
    return client.submit("/comments/987654/report", {"reason": "spam"})


def test_it_emails_the_author_frozen_from_the_reports_queue(client, article, alice, carol, outbox):
    comment = add_comment(article, alice, "spam spam")
    reported_by(client, comment, reporters(1))
    login(client, carol)
    response = client.submit(
        f"/admin/reports/{comment.id}/freeze", {"reason": "Spam links"}, follow_redirects=True
    )
    assert "we emailed them both decisions" in response.text

    # Both decisions, each once: the removal quoting the comment, and the freeze.
    removal, freeze = [m for m in read_outbox(outbox) if "To: alice@example.com" in m]
    assert "Subject: A moderator removed your comment" in removal
    assert "spam spam" in removal and "The moderator's reason: Spam links" in removal
    assert "Your account is frozen as well" in removal and "not affected" not in removal
    assert "Subject: Your account has been frozen" in freeze and "Spam links" in freeze


def test_it_says_up_front_that_a_comment_was_already_reported(client, article, alice):
    comment = add_comment(article, alice, "spam spam")
    reporter = make_user(handle="reporter", subscription="active")
    login(client, reporter)
    assert 'name="reason"' in client.get(f"/comments/{comment.id}/report").text
    report(client, comment)

    page = client.get(f"/comments/{comment.id}/report").text

    assert "You already reported this comment." in page
    assert 'name="reason"' not in page


def test_it_marks_the_comments_one_reported_where_the_report_lands(client, article, alice):
    """The thank-you flash is at the top of the page; the member lands at the comment."""
    reported, other = add_comment(article, alice, "spam spam"), add_comment(article, alice, "ok")
    login(client, make_user(handle="reporter", subscription="active"))
    report(client, reported)

    page = page_of(client, article)

    comment_html = page.split(f'id="comment-{reported.id}"', 1)[1].split("</li>", 1)[0]
    assert '<span class="muted">Reported</span>' in comment_html
    assert f"/comments/{reported.id}/report" not in page
    assert f"/comments/{other.id}/report" in page


def test_it_asks_before_freezing_from_the_reports_queue_or_the_member_page(
    client, article, alice, carol
):
    comment = add_comment(article, alice, "spam spam")
    reported_by(client, comment, reporters(1))
    login(client, carol)
    queue = client.get("/admin/reports").text
    assert 'data-confirm="Remove this comment and freeze @alice?' in queue
    member_page = client.get(f"/admin/users/{alice.id}").text
    assert 'data-confirm="Freeze @alice?' in member_page


def test_it_never_shows_a_removed_comments_text_on_the_report_page(client, article, alice, carol):
    comment = add_comment(article, alice, "DOXX 12 Secret Street")
    login(client, carol)
    client.submit(f"/admin/reports/{comment.id}/remove")
    login(client, make_user(subscription="active"))
    response = client.get(f"/comments/{comment.id}/report")
    assert response.status_code == 404
    assert "Secret Street" not in response.get_data(as_text=True)


def test_it_refuses_an_edit_to_a_comment_held_for_review(client, article, alice):
    comment = add_comment(article, alice, "original claim")
    reported_by(client, comment, reporters(3))
    login(client, alice)
    before = table_fingerprint()
    response = client.submit(f"/comments/{comment.id}/edit", {"body": "rewritten"})
    assert response.status_code == 409
    assert table_fingerprint() == before


def test_it_refuses_deleting_a_comment_held_for_review(client, article, alice, carol):
    comment = add_comment(article, alice, "original claim")
    reported_by(client, comment, reporters(3))
    login(client, alice)
    before = table_fingerprint()
    response = client.submit(f"/comments/{comment.id}/delete")
    assert response.status_code == 409
    assert table_fingerprint() == before
    login(client, carol)
    assert "original claim" in client.get("/admin/reports").get_data(as_text=True)


def test_it_refuses_changing_a_reported_comment_before_it_is_hidden(client, article, alice):
    comment = add_comment(article, alice, "original claim")
    reported_by(client, comment, reporters(1))  # one report: still shown, still waiting
    login(client, alice)
    before = table_fingerprint()
    assert client.submit(f"/comments/{comment.id}/edit", {"body": "rewritten"}).status_code == 409
    assert client.submit(f"/comments/{comment.id}/delete").status_code == 409
    assert table_fingerprint() == before


def test_it_shows_the_author_a_reported_comment_is_waiting_instead_of_edit_and_delete(
    client, article, alice
):
    waiting = add_comment(article, alice, "original claim")
    untouched = add_comment(article, alice, "another thought")
    reported_by(client, waiting, reporters(1))
    login(client, alice)
    html = client.get(f"/articles/{article.id}").get_data(as_text=True)

    def controls(comment) -> str:
        return html.split(f'id="comment-{comment.id}"', 1)[1].split("</footer>", 1)[0]

    assert "waiting for a moderator" in controls(waiting)
    assert f"/comments/{waiting.id}/edit" not in controls(waiting)
    assert f"/comments/{waiting.id}/delete" not in controls(waiting)
    assert f"/comments/{untouched.id}/delete" in controls(untouched)
    assert "waiting for a moderator" not in controls(untouched)


def test_it_lets_the_author_delete_once_the_report_is_dismissed(client, article, alice, carol):
    comment = add_comment(article, alice, "original claim")
    reported_by(client, comment, reporters(1))
    login(client, carol)
    client.submit(f"/admin/reports/{comment.id}/dismiss")
    login(client, alice)
    assert client.submit(f"/comments/{comment.id}/delete").status_code == 303


def test_removing_from_the_thread_goes_back_to_the_thread(client, article, alice, carol):
    comment = add_comment(article, alice, "never reported")
    add_comment(article, carol, "a reply that keeps its place", parent=comment)
    login(client, carol)
    thread = f"/articles/{article.id}"
    html = client.get(thread).get_data(as_text=True)
    form = html.split(f'action="/admin/reports/{comment.id}/remove"', 1)[1].split("</form>")[0]
    [back] = re.findall(r'name="next" value="([^"]*)"', form)

    response = client.submit(f"/admin/reports/{comment.id}/remove", {"next": back})

    assert response.status_code == 303
    assert response.headers["Location"] == f"{thread}#comment-{comment.id}"
    assert "[removed by a moderator]" in client.get(thread).get_data(as_text=True)


def test_removing_a_comment_without_replies_from_the_thread_goes_back_to_the_comments(
    client, article, alice, carol
):
    comment = add_comment(article, alice, "never reported")
    login(client, carol)
    thread = f"/articles/{article.id}"

    response = client.submit(f"/admin/reports/{comment.id}/remove", {"next": thread})

    assert response.headers["Location"] == f"{thread}#comments"


def test_removing_from_the_queue_stays_in_the_queue(client, article, alice, carol):
    comment = add_comment(article, alice, "reported")
    reported_by(client, comment, reporters(1))
    login(client, carol)
    response = client.submit(f"/admin/reports/{comment.id}/remove")
    assert response.headers["Location"].split("#")[0] == "/admin/reports"


def test_removing_a_comment_its_author_just_deleted_changes_nothing(
    client, article, alice, carol, outbox
):
    comment = add_comment(article, alice, "something I regret")
    # carol has the thread open with the Remove button; alice deletes first.
    login(client, alice)
    assert client.submit(f"/comments/{comment.id}/delete").status_code == 303
    login(client, carol)

    response = client.submit(f"/admin/reports/{comment.id}/remove", follow_redirects=True)

    db.session.refresh(comment)
    assert comment.status == "deleted"
    assert "Its author deleted that comment" in response.get_data(as_text=True)
    assert read_outbox(outbox) == []  # no "A moderator removed your comment" quoting nothing
    assert "[removed by a moderator]" not in page_of(client, article)
    assert not db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "comment.removed")
    )


def untyped_inputs(html: str) -> list[str]:
    """The <input> tags with no type: the stylesheet styles text inputs by their type."""
    return [tag for tag in re.findall(r"<input\b[^>]*>", html) if not re.search(r"\stype=", tag)]


def test_the_removal_reason_is_a_styled_text_input_in_the_queue_and_the_thread(
    client, article, alice, carol
):
    comment = add_comment(article, alice, "reported words")
    reported_by(client, comment, reporters(1))
    login(client, carol)
    for html in (client.get("/admin/reports").text, page_of(client, article)):
        assert f'id="remove-reason-{comment.id}"' in html
        assert untyped_inputs(html) == []


def test_a_report_without_a_reason_marks_the_reason_field(member, article, carol):
    comment = add_comment(article, carol)
    html = report(member, comment, "").get_data(as_text=True)
    select = re.search(r"<select[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in select
    assert 'aria-describedby="reason-errors"' in select
    assert re.search(r'<ul class="field-errors" id="reason-errors"><li>Choose a reason', html)
