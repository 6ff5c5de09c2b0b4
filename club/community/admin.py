"""The moderation queue at /admin/reports (the admin check lives on the blueprint)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from club import moderation as club_moderation
from club.admin import admin_blueprint
from club.community import moderation
from club.community.errors import CommunityError
from club.community.forms import FreezeForm
from club.extensions import db

bp = admin_blueprint("moderation", __name__, "/reports")


@bp.errorhandler(CommunityError)
def moderation_error(error: CommunityError):
    db.session.rollback()
    flash(error.message, "error")
    return redirect(url_for(".queue"), 303)


def decided(message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".queue"), 303)


@bp.get("")
def queue():
    """List reported comments awaiting a decision."""
    return render_template(
        "community/admin_reports.html",
        items=moderation.report_queue(),
        freeze_form=FreezeForm(),
        threshold=moderation.hide_threshold(),
    )


@bp.post("/<int:comment_id>/dismiss")
def dismiss(comment_id: int):
    """Dismiss the reports on a comment; it shows again."""
    moderation.dismiss_reports(current_user, comment_id)
    return decided("Reports dismissed; the comment is visible.")


@bp.post("/<int:comment_id>/remove")
def remove(comment_id: int):
    """Remove a reported comment, keeping its thread."""
    comment = moderation.remove_comment(current_user, comment_id)
    db.session.commit()
    told = moderation.notify_removed(comment, current_user)
    return decided("Comment removed; we emailed its author." if told else "Comment removed.")


@bp.post("/<int:comment_id>/freeze")
def freeze(comment_id: int):
    """Remove a reported comment and freeze its author."""
    form = FreezeForm()
    if not form.validate_on_submit():
        raise CommunityError("Give a reason for the freeze, and a valid end date if any.")
    until = datetime.combine(form.until.data, time.min, UTC) if form.until.data else None
    comment = moderation.freeze_author(current_user, comment_id, form.reason.data, until)
    response = decided(f"Comment removed and {comment.author.display_name} frozen.")
    club_moderation.notify_frozen(comment.author)
    return response
