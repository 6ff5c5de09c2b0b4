"""The moderation queue at /admin/reports (the admin check lives on the blueprint)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from club import moderation as club_moderation
from club.admin import admin_blueprint
from club.community import author_mail, comments, moderation
from club.community.errors import CommunityError
from club.community.navigation import back_to
from club.extensions import db
from club.form_pages import form_on
from club.forms import FreezeForm

bp = admin_blueprint("moderation", __name__, "/reports")


@bp.errorhandler(CommunityError)
def moderation_error(error: CommunityError):
    db.session.rollback()
    flash(error.message, "error")
    return redirect(back_to(url_for(".queue")), 303)


def decided(message: str, anchor: str = ""):
    """Commit and say so, back where the moderator decided: the queue, or the thread."""
    db.session.commit()
    flash(message, "success")
    return redirect(back_to(url_for(".queue"), anchor), 303)


@bp.get("")
def queue():
    """List reported comments awaiting a decision."""
    return render_queue()


def render_queue(status: int = 200, failed_freeze: tuple[int, FreezeForm] | None = None):
    """The queue page; a freeze form that failed comes back open, with its errors and text."""
    failed_id, failed_form = failed_freeze or (None, None)
    items = moderation.report_queue()
    page = render_template(
        "community/admin_reports.html",
        items=items,
        frozen_ids=moderation.authors_frozen_now(items),
        freeze_end=moderation.freeze_end,
        freeze_form=FreezeForm(formdata=None),
        failed_id=failed_id,
        failed_form=failed_form,
        threshold=moderation.hide_threshold(),
    )
    return page, status


@bp.post("/<int:comment_id>/dismiss")
@form_on("moderation.queue")
def dismiss(comment_id: int):
    """Dismiss the reports on a comment; it shows again."""
    comment = moderation.dismiss_reports(current_user, comment_id)
    if comment.is_deleted:
        return decided("Reports dismissed. Its author had left asking for it to be deleted: it is.")
    return decided("Reports dismissed; the comment is visible.")


@bp.post("/<int:comment_id>/remove")
@form_on("moderation.queue")
def remove(comment_id: int):
    """Remove a reported comment, keeping its thread."""
    reason = request.form.get("reason", "")
    # From the queue, the decision is on the reports; from a thread, on the comment alone.
    from_queue = request.form.get("decided_in") == "queue"
    comment = moderation.remove_comment(current_user, comment_id, reason, reported=from_queue)
    told = author_mail.tells_author(comment, current_user)
    message = "Comment removed; we emailed its author." if told else "Comment removed."
    # Back in a thread, to where the comment was: its marker, or the comments if none stays.
    anchor = f"comment-{comment_id}" if comments.has_replies(comment) else "comments"
    return decided(message, anchor=anchor)


@bp.post("/<int:comment_id>/freeze")
@form_on("moderation.queue")
def freeze(comment_id: int):
    """Remove a reported comment and freeze its author."""
    form = FreezeForm()
    if not form.validate():
        return render_queue(400, failed_freeze=(comment_id, form))
    try:
        comment, removed_now = moderation.freeze_author(
            current_user, comment_id, form.reason.data, form.until_datetime()
        )
    except CommunityError as error:
        # Named at the top of the page: the comment may have left the queue meanwhile.
        db.session.rollback()
        flash(error.message, "error")
        return render_queue(error.status, failed_freeze=(comment_id, form))
    name = comment.author.display_name
    if removed_now:
        said = f"Comment removed and {name} frozen; we emailed them both decisions."
    else:  # another moderator removed it meanwhile, and mailed that
        said = f"{name} frozen; we emailed them. The comment had already been removed."
    club_moderation.notify_frozen(comment.author)
    return decided(said)
