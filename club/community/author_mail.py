"""Mail to a comment's author about what reports and moderators did to it.

A member who pays should hear why their words went out of sight, not find a placeholder
by chance (Discourse sends the same three messages). Each mail is written while the
decision's transaction is open, from the state it leaves, and queued only once that
transaction commits: a decision rolled back sends nothing.
"""

from __future__ import annotations

import sqlalchemy as sa

from club import transactions
from club.community.models import Comment, Report, ReportStatus
from club.extensions import db
from club.models import User

QUOTE_LIMIT = 500


def tells_author(comment: Comment, moderator: User | None) -> bool:
    """Whether a decision by ``moderator`` on ``comment`` is mailed to its author: not to a
    deleted account, nor to a moderator about their own comment."""
    author = comment.author
    return author is not None and (moderator is None or author.id != moderator.id)


def hidden_by_reports(comment: Comment) -> None:
    """Tell the author that members' reports hid their comment until a moderator decides."""
    from club.accounts import absolute_url

    profile = absolute_url("community.profile", handle=comment.author.handle)
    _queue(
        comment,
        "Your comment is hidden while moderators review it",
        f'Members reported your comment on "{comment.article.title}", so it is hidden '
        "until a moderator reviews it. If they find nothing wrong, it comes back as it "
        "was; until then you cannot edit or delete it.\n\n"
        f"What you wrote:\n\n{quoted(comment)}\n\n"
        f"You can see it on your profile, marked as held: {profile}\n",
    )


def shown_again(comment: Comment) -> None:
    """Tell the author that a moderator kept their hidden comment and it shows again."""
    from club.accounts import absolute_url

    link = absolute_url("community.permalink", comment_id=comment.id)
    if comment.article.is_published:
        subject, now = "Your comment is visible again", "everyone can read it again."
    else:  # an admin has hidden the article meanwhile
        subject = "Your comment was kept"
        now = "it will show again when its article, not published at the moment, returns."
    _queue(
        comment,
        subject,
        f'A moderator reviewed the reports about your comment on "{comment.article.title}" '
        f"and kept it: {now}\n\n{link}\n",
    )


def removed(comment: Comment, reason: str, *, author_frozen: bool) -> None:
    """Tell the author a moderator removed their comment: what it said, and why."""
    from club.accounts import absolute_url

    why = [f"The moderator's reason: {reason}"] if reason else []
    labels = _actioned_report_reasons(comment)
    if labels:
        why.append(f"It was reported as: {'; '.join(labels)}.")
    if author_frozen:
        standing = (
            "Your account is frozen as well; a separate email explains why and how to appeal."
        )
    else:
        standing = "Your membership is not affected."
    why_text = "\n\n".join(why)
    _queue(
        comment,
        "A moderator removed your comment",
        f'A moderator removed your comment on "{comment.article.title}".\n\n'
        + (f"{why_text}\n\n" if why_text else "")
        + f"What you wrote:\n\n{quoted(comment)}\n\n"
        f"Please keep comments on topic, kind and free of advertising. {standing} "
        f"Your settings: {absolute_url('settings.index')}\n",
    )


def quoted(comment: Comment) -> str:
    """The comment's text as mail quotes it, cut to ``QUOTE_LIMIT`` characters."""
    body = comment.body
    return body if len(body) <= QUOTE_LIMIT else body[: QUOTE_LIMIT - 1] + "…"


def _actioned_report_reasons(comment: Comment) -> list[str]:
    reports = db.session.scalars(
        sa.select(Report).where(
            Report.comment_id == comment.id, Report.status == ReportStatus.ACTIONED
        )
    )
    return sorted({report.reason_label for report in reports})


def _queue(comment: Comment, subject: str, text: str) -> None:
    from club.accounts import greeting, queue_mail

    author = comment.author
    body = f"{greeting(author)}\n\n{text}"
    transactions.call_after_commit(queue_mail, author.email, subject, body)
