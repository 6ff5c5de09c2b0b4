"""Community pages and the forms members post: comments, likes, saves, follows, reports.

Views parse input, call one domain function, commit, then redirect back (303) or answer
JSON for the page script. The app-wide guard in ``club.membership`` refuses every write
here from an account that cannot interact, except marking one's own notifications read
(``allowed_while_frozen``): it touches nothing anyone else sees.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import limits
import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from articles import reading
from club import membership
from club.community import bookmarks, comments, likes, moderation, notifications, topics
from club.community.errors import CommunityError, EditedMeanwhile, NotAllowed, NotFound
from club.community.forms import (
    CommentForm,
    EditCommentForm,
    MarkReadForm,
    ReportForm,
    StateForm,
)
from club.community.navigation import article_url, back_to
from club.edit_conflicts import drawn_record, merge_saved_meanwhile, read_drawn
from club.extensions import db, limiter
from club.form_pages import form_on
from club.models import User
from club.web import limit_in_words, parse_id, per_account, query_id, time_to_wait

log = logging.getLogger(__name__)
bp = Blueprint("community", __name__)

RATE_LIMIT_MESSAGE = (
    "You are commenting too fast: members can post {limit}. "
    "Try again in {wait}; your text is kept below."
)
# Three reports hide a comment: one member must not be able to flood the queue.
REPORT_RATE_LIMIT = "20 per hour; 60 per day"
REPORT_RATE_LIMIT_MESSAGE = (
    "You are reporting too fast: members can file {limit}. "
    "Moderators already have your earlier reports; try again later."
)


def comment_rate_limit() -> str:
    """Return the per-account comment limit (``COMMENT_RATE_LIMIT``)."""
    return current_app.config["COMMENT_RATE_LIMIT"]


# The limit above counts only created comments, after the response: posts sent in
# parallel all pass its check before any is counted. A ceiling at three times it counts
# every post as it arrives, so no burst gets past both (as log-in's ceilings do).
CEILING_FACTOR = 3


def comment_ceiling() -> str:
    """``COMMENT_RATE_LIMIT`` with every amount tripled, for the limit on all posts."""
    return "; ".join(
        f"{item.amount * CEILING_FACTOR} per {item.multiples} {item.GRANULARITY.name}"
        for item in limits.parse_many(comment_rate_limit())
    )


def answer(payload: dict, *, message: str | None, back: str):
    """Answer a successful write: JSON for the page script, else a redirect back."""
    db.session.commit()
    if membership.wants_json():
        return jsonify(ok=True, message=message, **payload)
    if message:
        flash(message, "success")
    return redirect(back, 303)


def require_valid(form) -> None:
    """Raise with the form's first error (the CSRF token is already checked app-wide)."""
    if not form.validate_on_submit():
        field, errors = next(iter(form.errors.items()))
        label = getattr(form, field).label.text if hasattr(form, field) else field
        raise CommunityError(f"{label}: {errors[0]} Reload the page and try again.")


def parse_state(form: StateForm) -> bool:
    """Return whether a like/save/follow form asks for "on"."""
    require_valid(form)
    return form.state.data == "on"


@bp.errorhandler(CommunityError)
def community_error(error: CommunityError):
    """Show what went wrong, with the member's text kept so nothing is lost."""
    db.session.rollback()
    if isinstance(error, NotAllowed):
        # Someone else's comment: worth a line in the log if one account keeps trying.
        log.warning(
            "denied %s %s to user %s: %s",
            request.method,
            request.path,
            current_user.id if current_user.is_authenticated else "-",
            error.message,
        )
    if membership.wants_json():
        return jsonify(error="rejected", message=error.message), error.status
    page = render_template(
        "community/problem.html", message=error.message, back=back_to("/"), final=error.final
    )
    return page, error.status


@bp.errorhandler(429)
def too_many(error):
    # The limits a member can keep to, whichever broke: the ceiling on comments is not one.
    if request.endpoint == "community.report_comment":
        message = REPORT_RATE_LIMIT_MESSAGE.format(limit=limit_in_words(REPORT_RATE_LIMIT))
    else:
        # The wait is the broken limit's: a minute, or most of a day for the daily one.
        limit, wait = limit_in_words(comment_rate_limit()), time_to_wait() or "a minute"
        message = RATE_LIMIT_MESSAGE.format(limit=limit, wait=wait)
    if membership.wants_json():
        return jsonify(error="rate_limited", message=message), 429
    return render_template("community/problem.html", message=message, back=back_to("/")), 429


# --- Comments ----------------------------------------------------------------------------


def comment_was_created(response: Response) -> bool:
    """Only a new comment uses up the limit: not a refused one, nor a resubmitted form."""
    return g.get("comment_created", False)


@bp.post("/articles/<int:article_id>/comments")
@limiter.limit(comment_rate_limit, key_func=per_account("comment"), deduct_when=comment_was_created)
@limiter.limit(comment_ceiling, key_func=per_account("comment-posts"))
def post_comment(article_id: int):
    """Post a comment or a reply on an article."""
    form = CommentForm()
    require_valid(form)
    comment, created = comments.post_comment(
        current_user,
        article_id,
        form.body.data,
        client_token=form.client_token.data,
        parent_id=form.parent_id.data,
    )
    g.comment_created = created
    page = comments.page_showing(comment)
    if page > 1:  # the new comment is not on the first page of threads: go where it is
        back = article_url(comment.article, anchor=f"comment-{comment.id}", comment_page=page)
    else:
        back = back_to(article_url(comment.article), anchor=f"comment-{comment.id}")
    message = "Your comment is posted." if created else "That comment was already posted."
    return answer({"id": comment.id, "created": created}, message=message, back=back)


@bp.get("/comments/<int:comment_id>")
def permalink(comment_id: int):
    """Send a comment's permalink to its place in the article's thread.

    An admin follows it to an unpublished article too (the audit log and the reports
    queue link here, and admins may preview such articles).
    """
    is_admin = current_user.is_authenticated and membership.can_administer(current_user)
    comment = comments.find_comment(comment_id, unpublished_too=True)
    if not (comment.article.is_published or is_admin):
        return comment_out_of_sight(comment)
    if not comments.is_shown_in_thread(comment):
        # Its anchor is not on the page: say why the reader lands at the comments instead.
        flash(f"{comments.COMMENT_GONE}.", "info")
        return redirect(article_url(comment.article, "comments"))
    page = comments.page_showing(comment)
    return redirect(article_url(comment.article, f"comment-{comment.id}", comment_page=page))


def comment_out_of_sight(comment):
    """Answer a permalink to a comment whose article is not published at the moment.

    Its author is shown it on their profile (the page that starts with it), where they
    may delete it; to anyone else it does not exist, as for ``_own_comment``.
    """
    if current_user.is_authenticated and comment.is_owned_by(current_user) and comment.is_visible:
        can_delete = membership.current_standing().can_interact
        flash(
            f"“{comment.article.title}” is not published at the moment, so its comments "
            "are out of sight. Yours is the first below"
            + ("; you can delete it here." if can_delete else "."),
            "info",
        )
        return redirect(
            url_for(
                "community.profile",
                handle=current_user.handle,
                before=comment.id + 1,
                _anchor=f"comment-{comment.id}",
            )
        )
    raise NotFound(f"{comments.COMMENT_GONE}.")


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@membership.requires_interaction
def edit_comment(comment_id: int):
    """Edit one's own comment in its first 15 minutes."""
    form = EditCommentForm()
    if request.method == "POST":
        require_valid(form)
        drawn = read_drawn(form.revision.data)
        try:
            comment = comments.edit_comment(current_user, comment_id, form.body.data, drawn=drawn)
        except EditedMeanwhile as conflict:
            if membership.wants_json():
                raise
            return edited_meanwhile(comment_id, form, drawn, conflict.saved)
        back = back_to(article_url(comment.article), anchor=f"comment-{comment.id}")
        return answer({"id": comment.id}, message="Your comment is updated.", back=back)
    comment = comments.find_comment(comment_id)
    if not comment.is_editable_by(current_user):
        raise NotAllowed("You can only edit your own comments, in the first 15 minutes.")
    form.body.data = comment.body
    form.revision.data = comments.edit_revision(comment)
    return render_edit_page(form, comment)


def edited_meanwhile(comment_id: int, form: EditCommentForm, drawn: dict, saved: dict):
    """The edit page again, saying the comment changed since this form was drawn: it
    shows what is saved now and keeps the member's text, ready to replace it."""
    db.session.rollback()
    comment = comments.find_comment(comment_id)
    merge_saved_meanwhile(form, drawn, saved)
    form.revision.data = drawn_record(saved)
    return render_edit_page(form, comment, conflict=comments.EDITED_MEANWHILE), 409


def render_edit_page(form: EditCommentForm, comment, conflict: str | None = None) -> str:
    return render_template(
        "community/edit_comment.html",
        form=form,
        comment=comment,
        deadline=comments.edit_deadline(comment),
        conflict=conflict,
    )


@bp.post("/comments/<int:comment_id>/delete")
@form_on("community.permalink", args=("comment_id",))
def delete_comment(comment_id: int):
    """Delete one's own comment; replies keep their place under "[deleted]"."""
    comment = comments.delete_comment(current_user, comment_id)
    if comment.article.is_published:
        back = back_to(article_url(comment.article), anchor="comments")
    else:  # deleted from the profile: the article's page is not there to go back to
        back = url_for("community.profile", handle=current_user.handle)
    return answer({"id": comment.id}, message="Your comment is deleted.", back=back)


@bp.post("/comments/<int:comment_id>/like")
@form_on("community.permalink", args=("comment_id",))
def like_comment(comment_id: int):
    """Like or unlike a comment."""
    on = parse_state(StateForm())
    state = likes.set_comment_like(current_user, comment_id, on)
    back = back_to(url_for(".permalink", comment_id=comment_id), anchor=f"comment-{comment_id}")
    return answer({"on": state.liked, "count": state.count}, message=None, back=back)


@bp.route("/comments/<int:comment_id>/report", methods=["GET", "POST"])
# Three reports hide a comment, so one member filing them by the hundred is an attack.
@limiter.limit(REPORT_RATE_LIMIT, methods=["POST"], key_func=per_account("report"))
@membership.requires_interaction
def report_comment(comment_id: int):
    """Report a comment to the moderators, with a reason."""
    form = ReportForm()
    if request.method == "GET":
        comment = comments.find_visible_comment(comment_id)
        refusal = (
            moderation.why_not_report(comment, current_user)
            if current_user.is_authenticated
            else None
        )
        return render_template("community/report.html", form=form, comment=comment, refusal=refusal)
    require_valid(form)
    try:
        report = moderation.report_comment(
            current_user, comment_id, form.reason.data, form.details.data or ""
        )
    except CommunityError as error:
        if error.status != 400 or membership.wants_json():
            raise
        # A reason or details to fix: the same form again, filled in, saying what to fix
        # under the field at fault (which then takes the focus), else above the form.
        db.session.rollback()
        comment = comments.find_visible_comment(comment_id)
        if error.field in form:
            form[error.field].errors = [*form[error.field].errors, error.message]
            error = None
        page = render_template("community/report.html", form=form, comment=comment, error=error)
        return page, 400
    back = back_to(url_for(".permalink", comment_id=comment_id), anchor=f"comment-{comment_id}")
    message = "Thank you. Moderators will review this comment."
    return answer({"id": report.id}, message=message, back=back)


# --- Articles: likes and saves ------------------------------------------------------------


@bp.post("/articles/<int:article_id>/like")
def like_article(article_id: int):
    """Like or unlike an article."""
    on = parse_state(StateForm())
    state = likes.set_article_like(current_user, article_id, on)
    back = back_to(article_url(comments.find_article(article_id)), anchor="reactions")
    return answer({"on": state.liked, "count": state.count}, message=None, back=back)


@bp.post("/articles/<int:article_id>/save")
def save_article(article_id: int):
    """Save an article to read later, or take it off the list."""
    on = parse_state(StateForm())
    saved = bookmarks.set_bookmark(current_user, article_id, on)
    message = "Saved for later." if saved else "Removed from your saved articles."
    back = back_to(article_url(comments.find_article(article_id)), anchor="reactions")
    return answer({"on": saved}, message=message, back=back)


@bp.get("/saved")
@login_required
def saved():
    """List the member's saved articles, newest first."""
    rows, next_before = bookmarks.saved_articles(current_user, before=keyset_id())
    return render_template(
        "community/saved.html",
        bookmarks=rows,
        next_before=next_before,
        unavailable=bookmarks.unavailable_count(current_user),
    )


# --- Topics ---------------------------------------------------------------------------------


@bp.post("/topics/<int:topic_id>/follow")
@form_on("community.for_you")
def follow_topic(topic_id: int):
    """Follow or unfollow a topic."""
    on = parse_state(StateForm())
    followed = topics.set_follow(current_user, topic_id, on)
    back = back_to(url_for(".for_you"))
    return answer({"on": followed}, message=None, back=back)


@bp.get("/for-you")
def for_you():
    """List articles from the topics the member follows."""
    articles, next_key = [], None
    if current_user.is_authenticated:
        articles, next_key = topics.for_you(current_user, before=for_you_keyset())
    return render_template(
        "community/for_you.html",
        articles=articles,
        next_key=next_key,
        topics=reading.all_topics(),  # those with something published
        followed=topics.followed_topic_ids(current_user),
    )


# --- Notifications --------------------------------------------------------------------------


@bp.get("/notifications")
@login_required
def notification_list():
    """List the member's notifications, newest first; unread ones stand out."""
    rows, next_before = notifications.list_for(current_user, before=keyset_id())
    return render_template(
        "community/notifications.html", notifications=rows, next_before=next_before
    )


@bp.post("/notifications/read")
@form_on("community.notification_list")
@membership.allowed_while_frozen
def mark_notifications_read():
    """Mark the notifications the member has seen as read."""
    form = MarkReadForm()
    require_valid(form)
    count = notifications.mark_all_read(current_user, up_to=form.up_to.data)
    return answer(
        {"marked": count, "unread": notifications.unread_count(current_user)},
        message=None,
        back=url_for(".notification_list"),
    )


# --- Profiles ------------------------------------------------------------------------------


@bp.get("/u/<handle>")
def profile(handle: str):
    """Show a member's public profile and recent comments."""
    user = db.session.scalar(sa.select(User).where(User.handle == handle.lower()))
    if user is None:
        abort(404)
    own = current_user.is_authenticated and current_user.id == user.id
    recent, next_before = comments.recent_comments_by(user, before=keyset_id(), own=own)
    return render_template(
        "community/profile.html",
        member=user,
        own=own,
        # Deleting one of these is refused until a moderator decides: no Delete for them.
        under_review=comments.under_review_ids([c.id for c in recent]) if own else set(),
        # Only members' profiles link out or ask to be indexed: a free account (one that
        # never confirmed its email, even) must not be a place to park spam links.
        is_member=membership.standing(user).can_interact,
        comments=recent,
        next_before=next_before,
    )


def keyset_id() -> int | None:
    """Return the ``before`` keyset from the query string (a positive id), if any."""
    return query_id("before")


def for_you_keyset() -> tuple[datetime, int] | None:
    raw = request.args.get("before", "")
    stamp, _, article_id = raw.rpartition("_")
    try:
        published_at = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    ident = parse_id(article_id)
    if not published_at.tzinfo or ident is None:
        return None
    try:
        # "0001-01-01T00:00+01:00" parses, but lies before the first date there is in UTC.
        return published_at.astimezone(UTC), ident
    except OverflowError:
        return None
