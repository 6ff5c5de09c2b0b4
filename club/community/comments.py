"""Comments: posting, replying, editing, deleting, and loading an article's thread.

Each function adds and flushes; the caller commits once. ``Article.comment_count``
counts only comments readers can see (not deleted, removed or hidden for review), and
every change of that visibility goes through ``_count_change`` so it cannot drift.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from articles.models import Article
from club.clock import utcnow
from club.community import notifications
from club.community.errors import CommunityError, Conflict, EditedMeanwhile, NotAllowed, NotFound
from club.community.formatting import clean_text
from club.community.models import (
    EDIT_WINDOW,
    MAX_DEPTH,
    Comment,
    CommentLike,
    CommentStatus,
    Report,
    ReportStatus,
)
from club.edit_conflicts import drawn_record, sent_over_saved
from club.extensions import db
from club.models import User
from club.text import MAX_MARKS_IN_TEXT, has_stacked_marks, has_visible_text, too_many_marks

MAX_LENGTH = 5000
SORTS = {"oldest": "Oldest", "newest": "Newest", "liked": "Most liked"}
THREADS_PER_PAGE = 50
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# The same words in the same place this soon after are the same comment sent again.
REPOSTED_WITHIN = timedelta(minutes=10)
# What a member is told of a comment they can no longer reply to, like, report or open,
# in these words wherever they meet one. One answer for held, removed, deleted, on an
# unpublished article or never posted: telling them apart would tell which ids hide what.
COMMENT_GONE = "That comment was deleted, removed or is under review"
# The first key of the transaction lock that takes an account's comment posts in turn
# ("comm"); the second is the account's id.
COMMENT_POSTS_LOCK = 0x636F6D6D


def validated_body(raw: str | None, doing: str = "posting") -> str:
    """Return the comment text cleaned, or raise with the reason it cannot be posted.

    ``doing`` names the button the member pressed ("posting", or "saving" an edit).
    """
    body = clean_text(raw or "")
    if not has_visible_text(body):
        raise CommunityError(f"Write something before {doing}: the comment is empty.")
    if len(body) > MAX_LENGTH:
        raise CommunityError(
            f"Comments can be at most {MAX_LENGTH:,} characters; this one has {len(body):,}."
        )
    if has_stacked_marks(body, MAX_MARKS_IN_TEXT):
        raise CommunityError(too_many_marks(MAX_MARKS_IN_TEXT))
    return body


def find_article(article_id: int) -> Article:
    """Return the published article with this id, or raise NotFound."""
    article = db.session.get(Article, article_id)
    if article is None or not article.is_published:
        raise NotFound("That article does not exist or is no longer published.")
    return article


def find_comment(
    comment_id: int, *, for_update: bool = False, unpublished_too: bool = False
) -> Comment:
    """Return the comment with this id on a published article, or raise NotFound.

    ``for_update`` locks the row for the rest of the transaction and re-reads it: a change
    that depends on the comment's state (and moves the article's count) must see the state
    a concurrent request left, not the one both read before either wrote.
    ``unpublished_too`` finds it on any article (for an admin, who may preview them).
    """
    comment = lock_comment(comment_id) if for_update else db.session.get(Comment, comment_id)
    if comment is None or not (unpublished_too or comment.article.is_published):
        raise NotFound(f"{COMMENT_GONE}.")
    return comment


def lock_comment(comment_id: int) -> Comment | None:
    """Return the comment, its row locked until the transaction ends (PostgreSQL)."""
    return db.session.get(Comment, comment_id, with_for_update=True, populate_existing=True)


def find_visible_comment(comment_id: int) -> Comment:
    """Return a comment readers may see; a removed, deleted or held one is not found.

    Pages that quote a comment's text load it through here, so text a moderator
    removed or is reviewing cannot be read by walking comment ids.
    """
    comment = find_comment(comment_id)
    if not comment.is_visible:
        raise NotFound(f"{COMMENT_GONE}.")
    return comment


def _count_change(comment: Comment, counted_before: bool) -> None:
    """Move the article's comment count when ``comment`` starts or stops counting."""
    if counted_before == comment.counts:
        return
    delta = 1 if comment.counts else -1
    db.session.execute(
        sa.update(Article)
        .where(Article.id == comment.article_id)
        .values(comment_count=Article.comment_count + delta)
        .execution_options(synchronize_session=False)
    )


def hold_accounts(*user_ids: int | None) -> None:
    """Key-share-lock the accounts a write will point at, before any other lock (PostgreSQL).

    Deleting an account locks its row first, then the comments and articles that point at
    it. A write that took a comment or article lock first, and met the account only at
    its insert's foreign-key check, would wait on the deletion while the deletion waited
    on it. Held first, the account's row makes one of the two wait for the other, whole.
    """
    ids = sorted({user_id for user_id in user_ids if user_id is not None})
    if ids:
        accounts = sa.select(User.id).where(User.id.in_(ids))
        db.session.execute(accounts.with_for_update(read=True, key_share=True))


def _lock_for_reply(comment_id: int) -> Comment | None:
    """Return the comment, share-locked and re-read (PostgreSQL): a moderator's removal or
    its author's deletion, which lock it for update, waits for the reply, or the reply
    sees what they decided."""
    return db.session.get(
        Comment, comment_id, with_for_update={"read": True}, populate_existing=True
    )


def _lock_published_article(article_id: int) -> Article:
    """Re-read the article locked until the comment is stored: an admin hiding it meanwhile
    waits, or the comment sees it hidden. The lock the comment count's update takes
    anyway (FOR NO KEY UPDATE), so two comments on one article cannot deadlock."""
    article = db.session.get(
        Article, article_id, with_for_update={"key_share": True}, populate_existing=True
    )
    if article is None or not article.is_published:
        raise NotFound("That article does not exist or is no longer published.")
    return article


def _reply_target(article: Article, parent_id: int | None) -> Comment | None:
    if parent_id is None:
        return None
    parent = _lock_for_reply(parent_id)
    # One answer for a comment elsewhere as for none: only a made-up request sends one,
    # and telling them apart would tell which ids are on hidden or pending articles.
    if parent is None or parent.article_id != article.id:
        raise NotFound("The comment you are replying to does not exist.")
    if not parent.accepts_replies():
        raise CommunityError(
            f"{COMMENT_GONE}, so it takes no replies.",
            final=True,
        )
    return parent


def existing_for_token(author: User, client_token: str) -> Comment | None:
    """Return the comment this account already posted from the same form, if any."""
    return db.session.scalar(
        sa.select(Comment).where(
            Comment.author_id == author.id, Comment.client_token == client_token
        )
    )


def post_comment(
    author: User,
    article_id: int,
    body: str | None,
    *,
    client_token: str | None,
    parent_id: int | None = None,
) -> tuple[Comment, bool]:
    """Post a comment or reply; return it and whether it is new (False: a resubmission)."""
    if not client_token or not TOKEN_PATTERN.match(client_token):
        raise CommunityError("This form has expired. Reload the page and post again.")
    # The author, and whoever a reply notifies: before the comment and article locks.
    replied_to = sa.select(Comment.author_id).where(Comment.id == parent_id)
    hold_accounts(author.id, db.session.scalar(replied_to) if parent_id is not None else None)
    article = find_article(article_id)
    text = validated_body(body)
    existing = existing_for_token(author, client_token)
    if existing is not None:
        if existing.body != text or existing.is_deleted:
            # The same form sent again with other words (the Back button, say), or after
            # its comment was deleted: answering "already posted" would drop the words.
            raise Conflict(
                "This form already posted a comment, so the new text was not posted. "
                "It is below: send it again to post it as a new comment.",
                final=False,
            )
        return existing, False
    target = _reply_target(article, parent_id)
    # Replies deeper than three levels attach to the third level, under the same parent,
    # which must take replies too: it may have been deleted, removed or hidden since.
    parent = target
    if target is not None and target.depth >= MAX_DEPTH:
        parent = _lock_for_reply(target.parent_id)
        if parent is None or not parent.accepts_replies():
            raise CommunityError(
                "The comment this thread hangs from was deleted, removed or is under review, "
                "so the thread takes no more replies.",
                final=True,
            )
    _one_post_at_a_time(author)
    sent_again = _same_words_just_posted(author, article.id, parent, text)
    if sent_again is not None:
        return sent_again, False
    # Accounts, then comments, then the article: the order removals, deletions and
    # account deletions take them, so no two of them wait on each other.
    article = _lock_published_article(article.id)
    comment = Comment(
        article_id=article.id,
        author_id=author.id,
        parent_id=parent.id if parent else None,
        depth=parent.depth + 1 if parent else 0,
        body=text,
        client_token=client_token,
    )
    try:
        with db.session.begin_nested():
            db.session.add(comment)
    except IntegrityError:
        # The same form arrived twice at once; the other request created the comment.
        existing = existing_for_token(author, client_token)
        if existing is None:
            raise
        return existing, False
    _count_change(comment, counted_before=False)
    if target is not None:
        notifications.notify_reply(reply=comment, to=target)
    return comment, True


def _one_post_at_a_time(author: User) -> None:
    """Hold the author's comment posts one after another until this one commits
    (PostgreSQL): two sent at once would each miss the other's comment, not yet
    committed, and post the same words twice. Only comment posts take this lock, each at
    this same point (after the accounts' and the parent's locks, before the article's),
    so no two wait on each other the other way round. SQLite runs one writer at a time.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        key = {"space": COMMENT_POSTS_LOCK, "author": author.id}
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:space, :author)"), key)


def _same_words_just_posted(
    author: User, article_id: int, parent: Comment | None, text: str
) -> Comment | None:
    """The comment ``author`` posted with these words in this place moments ago, if any.

    Back after posting shows the article page again with the words still in the box (the
    browser restores them, and a fresh form nonce with them): sent again, they are the
    same comment, not a second one.
    """
    return db.session.scalar(
        sa.select(Comment)
        .where(
            Comment.author_id == author.id,
            Comment.article_id == article_id,
            Comment.parent_id == (parent.id if parent else None),
            Comment.body == text,
            Comment.status == CommentStatus.VISIBLE,
            Comment.created_at >= utcnow() - REPOSTED_WITHIN,
        )
        .order_by(Comment.id.desc())
        .limit(1)
    )


def _own_comment(user: User, comment_id: int) -> Comment:
    # An author may still delete their words while a moderator has the article hidden;
    # to anyone else a comment on a hidden article does not exist.
    comment = find_comment(comment_id, for_update=True, unpublished_too=True)
    if not comment.is_owned_by(user):
        if not comment.article.is_published:
            raise NotFound(f"{COMMENT_GONE}.")
        raise NotAllowed("You can only change your own comments.")
    if comment.status != CommentStatus.VISIBLE:
        raise Conflict("That comment was already deleted or removed.")
    return comment


def _refuse_while_reported(comment: Comment, change: str) -> None:
    """A reported comment waits for a moderator as it was reported: no edit, no delete."""
    if comment.hidden or _has_open_report(comment):
        raise Conflict(f"This comment is waiting for a moderator's review and cannot be {change}.")


def under_review_ids(comment_ids: list[int]) -> set[int]:
    """Which of ``comment_ids`` wait for a moderator (hidden, or with an open report): the
    ones ``_refuse_while_reported`` keeps their author from editing or deleting."""
    if not comment_ids:
        return set()
    reported = sa.select(Report.comment_id).where(
        Report.comment_id.in_(comment_ids), Report.status == ReportStatus.OPEN
    )
    hidden = sa.select(Comment.id).where(Comment.id.in_(comment_ids), Comment.hidden.is_(True))
    return set(db.session.scalars(sa.union(reported, hidden)))


def _has_open_report(comment: Comment) -> bool:
    query = sa.select(Report.id).where(
        Report.comment_id == comment.id, Report.status == ReportStatus.OPEN
    )
    return db.session.scalar(query.limit(1)) is not None


EDITED_MEANWHILE = (
    "Your comment was changed in another tab or window after this form was opened, so "
    "this edit was not saved."
)


def edit_values(comment: Comment) -> dict[str, str]:
    """What a comment's edit form shows, to notice a save made while it was open."""
    return {"body": comment.body}


def edit_revision(comment: Comment) -> str:
    """The edit form's hidden record of what it showed (``club.edit_conflicts``)."""
    return drawn_record(edit_values(comment))


def edit_comment(
    user: User, comment_id: int, body: str | None, *, drawn: Mapping[str, str] | None = None
) -> Comment:
    """Replace the text of ``user``'s own comment within the edit window.

    ``drawn`` is what the edit form showed: when the comment was saved since with other
    words (from another tab), the edit is refused rather than quietly undoing that save.
    """
    comment = _own_comment(user, comment_id)
    _refuse_while_reported(comment, "edited")
    if not comment.article.is_published:
        raise Conflict(
            "The article this comment is on is not published at the moment, so the comment "
            "cannot be edited. You can still delete it from your profile."
        )
    if not comment.is_within_edit_window():
        raise NotAllowed("Comments can only be edited in the first 15 minutes after posting.")
    text = validated_body(body, doing="saving")
    saved = edit_values(comment)
    if drawn is not None and sent_over_saved({"body": text}, drawn, saved):
        raise EditedMeanwhile(EDITED_MEANWHILE, saved=saved)
    if text != comment.body:
        comment.body = text
        comment.edited_at = utcnow()
    db.session.flush()
    return comment


def delete_comment(user: User, comment_id: int) -> Comment:
    """Delete ``user``'s own comment; its replies stay, under a "[deleted]" marker."""
    comment = _own_comment(user, comment_id)
    _refuse_while_reported(comment, "deleted")
    counted = comment.counts
    comment.status = CommentStatus.DELETED
    # The author asked for the words to go; keep only the row that holds the thread.
    comment.body = ""
    db.session.flush()
    _count_change(comment, counted)
    return comment


def delete_all_written_by(user: User) -> Counter[int]:
    """Delete every comment ``user`` wrote, as they could one by one (leaving account).

    A comment waiting for a moderator (hidden, or reported) stays as it was reported, as
    it would for a single deletion, and goes once a moderator decides on it. One a
    moderator removed keeps no words. Returns how many left each article's count: the
    caller lowers the counts after its other comment writes, since every write takes
    comments before articles.
    """
    # Locked first, in a statement of their own: a report filed meanwhile holds its
    # comment's row until it commits, and only a statement begun after that sees it.
    mine = sa.select(Comment.id).where(Comment.author_id == user.id).order_by(Comment.id)
    db.session.execute(mine.with_for_update())
    reported = sa.exists().where(
        Report.comment_id == Comment.id, Report.status == ReportStatus.OPEN
    )
    visible = sa.and_(Comment.author_id == user.id, Comment.status == CommentStatus.VISIBLE)
    under_review = sa.or_(Comment.hidden.is_(True), reported)
    article_ids = db.session.scalars(
        sa.update(Comment)
        .where(visible, ~under_review)
        .values(status=CommentStatus.DELETED, body="")
        .returning(Comment.article_id)
        .execution_options(synchronize_session=False)
    ).all()
    _update_written_by(user, sa.and_(visible, under_review), delete_when_decided=True)
    _update_written_by(user, Comment.status == CommentStatus.REMOVED, body="")
    return Counter(article_ids)


def _update_written_by(user: User, which: sa.ColumnElement[bool], **values) -> None:
    db.session.execute(
        sa.update(Comment)
        .where(Comment.author_id == user.id, which)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def set_visibility(comment: Comment, *, status: str | None = None, hidden: bool | None = None):
    """Change a comment's status or hidden flag, keeping the article's count right."""
    counted = comment.counts
    if status is not None:
        comment.status = status
    if hidden is not None:
        comment.hidden = hidden
    db.session.flush()
    _count_change(comment, counted)


# --- Reading -----------------------------------------------------------------------------


@dataclass
class ThreadNode:
    """One comment on the page with its replies and whether the viewer likes it."""

    comment: Comment
    liked: bool = False
    reported: bool = False  # the viewer's report on it is waiting for a moderator
    # The viewer's own comment, reported and waiting for a moderator: it cannot be edited
    # or deleted meanwhile, so the page offers neither.
    under_review: bool = False
    replies: list[ThreadNode] = field(default_factory=list)

    @property
    def is_shown(self) -> bool:
        # A deleted or removed comment stays only as the holder of replies that still
        # show: with none, "[removed by a moderator]" would mark nothing but the removal.
        gone = self.comment.is_deleted or self.comment.is_removed
        return not gone or bool(self.replies)


def _sort_key(sort: str):
    if sort == "newest":
        return lambda n: (-n.comment.created_at.timestamp(), -n.comment.id)
    if sort == "liked":
        return lambda n: (-n.comment.like_count, n.comment.created_at, n.comment.id)
    return lambda n: (n.comment.created_at, n.comment.id)


def liked_comment_ids(viewer: User | None, article_id: int) -> set[int]:
    """Return the ids of this article's comments that ``viewer`` likes (one query)."""
    if viewer is None or not viewer.is_authenticated:
        return set()
    return _comment_ids_on(article_id, CommentLike.comment_id, CommentLike.user_id == viewer.id)


def open_reports_seen_by(viewer: User | None, article_id: int) -> tuple[set[int], set[int]]:
    """Return, for this article's comments with a report waiting for a moderator, the ids
    ``viewer`` reported and the ids of ``viewer``'s own comments (one query)."""
    if viewer is None or not viewer.is_authenticated:
        return set(), set()
    rows = db.session.execute(
        sa.select(Report.comment_id, Report.reporter_id, Comment.author_id)
        .join(Comment, Comment.id == Report.comment_id)
        .where(
            Comment.article_id == article_id,
            Report.status == ReportStatus.OPEN,
            sa.or_(Report.reporter_id == viewer.id, Comment.author_id == viewer.id),
        )
    ).all()
    reported = {comment_id for comment_id, reporter, _ in rows if reporter == viewer.id}
    own = {comment_id for comment_id, _, author in rows if author == viewer.id}
    return reported, own


def _comment_ids_on(article_id: int, comment_id: Any, *conditions: Any) -> set[int]:
    """The ``comment_id`` values, on this article's comments, of rows meeting ``conditions``."""
    query = (
        sa.select(comment_id)
        .join(Comment, Comment.id == comment_id)
        .where(Comment.article_id == article_id, *conditions)
    )
    return set(db.session.scalars(query))


def load_thread(article_id: int, viewer: User | None, sort: str = "oldest") -> list[ThreadNode]:
    """Return the article's comment tree in two queries, whatever its size."""
    rows = db.session.scalars(
        sa.select(Comment)
        .where(Comment.article_id == article_id)
        .options(joinedload(Comment.author))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    liked = liked_comment_ids(viewer, article_id)
    reported, under_review = open_reports_seen_by(viewer, article_id)
    nodes = {
        c.id: ThreadNode(
            c, liked=c.id in liked, reported=c.id in reported, under_review=c.id in under_review
        )
        for c in rows
    }
    roots: list[ThreadNode] = []
    for node in nodes.values():
        parent = nodes.get(node.comment.parent_id) if node.comment.parent_id else None
        (parent.replies if parent else roots).append(node)
    return _prune_and_sort(roots, sort)


@dataclass(frozen=True)
class ThreadPage:
    """One page of an article's comment threads (a thread is a top-level comment and its
    replies): a page that lists thousands of comments, each with its forms, runs to
    megabytes."""

    threads: list[ThreadNode]
    number: int
    count: int


def thread_page(threads: list[ThreadNode], number: int) -> ThreadPage:
    """Return page ``number`` (from 1; out of range: the nearest page) of ``threads``."""
    count = max(1, -(-len(threads) // THREADS_PER_PAGE))
    number = min(max(number, 1), count)
    start = (number - 1) * THREADS_PER_PAGE
    return ThreadPage(threads[start : start + THREADS_PER_PAGE], number, count)


def page_showing(comment: Comment, sort: str = "oldest") -> int:
    """Return the page of its article's threads that shows ``comment``."""
    threads_started = sa.select(sa.func.count(Comment.id)).where(
        Comment.article_id == comment.article_id, Comment.parent_id.is_(None)
    )
    if db.session.scalar(threads_started) <= THREADS_PER_PAGE:
        return 1  # one page holds them all: no need to load the thread
    threads = load_thread(comment.article_id, None, sort)
    for index, thread in enumerate(threads):
        if _contains(thread, comment.id):
            return index // THREADS_PER_PAGE + 1
    return 1


def _contains(node: ThreadNode, comment_id: int) -> bool:
    return node.comment.id == comment_id or any(_contains(r, comment_id) for r in node.replies)


def has_replies(comment: Comment) -> bool:
    """Whether any reply hangs under ``comment`` (so it stays in the thread once gone)."""
    replies = sa.select(Comment.id).where(Comment.parent_id == comment.id).limit(1)
    return db.session.scalar(replies) is not None


def is_shown_in_thread(comment: Comment) -> bool:
    """Whether the article's thread shows ``comment``: a deleted or removed one only while
    a reply under it still shows (``ThreadNode.is_shown``). Replies nest three deep at most."""
    if not (comment.is_deleted or comment.is_removed):
        return True
    replies = db.session.scalars(sa.select(Comment).where(Comment.parent_id == comment.id))
    return any(is_shown_in_thread(reply) for reply in replies.all())


def _prune_and_sort(nodes: list[ThreadNode], sort: str, top: bool = True) -> list[ThreadNode]:
    for node in nodes:
        node.replies = _prune_and_sort(node.replies, sort, top=False)
    kept = [n for n in nodes if n.is_shown]
    # Replies always read oldest first, as a conversation; the sort applies to the top.
    return sorted(kept, key=_sort_key(sort if top else "oldest"))


def recent_comments_by(
    user: User, *, before: int | None = None, limit: int = 20, own: bool = False
) -> tuple[list[Comment], int | None]:
    """Return ``user``'s visible comments, newest first, and the keyset for the next page.

    ``own`` (the author looking at their own profile) adds the comments nobody else
    sees for now: those held while moderators review reports, and those on an article
    a moderator hid, which the author may still delete.
    """
    query = (
        sa.select(Comment)
        .join(Article, Article.id == Comment.article_id)
        .where(Comment.author_id == user.id, Comment.status == CommentStatus.VISIBLE)
        .options(joinedload(Comment.article))
        .order_by(Comment.id.desc())
        .limit(limit + 1)
    )
    if not own:
        query = query.where(Comment.hidden.is_(False), Article.status == "published")
    if before is not None:
        query = query.where(Comment.id < before)
    rows = list(db.session.scalars(query))
    next_before = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_before


def edit_deadline(comment: Comment) -> datetime:
    """Return when ``comment`` stops being editable."""
    return comment.created_at + EDIT_WINDOW
