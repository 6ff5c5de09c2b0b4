"""The review queue under /admin/articles: approve, reject, hide, feature, bulk and edit.

The blueprint comes from ``club.admin.admin_blueprint``, which checks the admin role once
for every view. A page drawn before another admin decided an article changes nothing
unseen; an action already carried out is reported as done.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from articles import curation, reading
from articles.forms import ArticleEditForm, form_status
from articles.models import Article, Feed
from articles.topics import topic_for, topics_named
from club import audit
from club.admin import admin_blueprint, found_or_gone
from club.edit_conflicts import drawn_record, merge_saved_meanwhile, read_drawn, saved_meanwhile
from club.extensions import db
from club.form_pages import form_on
from club.web import parse_id, safe_next

review_bp = admin_blueprint("review", __name__, "/articles")

REVIEW_PAGE = 50
ARTICLE_STATUSES = ("pending", "published", "rejected", "hidden")
# Each action's button and the message once done: (button, done).
WORDS = {
    "approve": ("Approve", "Approved"),
    "reject": ("Reject", "Rejected"),
    "hide": ("Hide", "Hidden"),
    "feature": ("Feature", "Featured"),
    "unfeature": ("Unfeature", "Unfeatured"),
}
# Where an action does more than its name says, its words say so: featuring publishes an
# article that is not public, and approving a hidden one shows it again.
_PUBLISH_AND_FEATURE = ("Publish and feature", "Published and featured")
WORDS_BY_STATUS = {
    ("approve", "hidden"): ("Unhide", "Unhidden"),
    ("feature", "pending"): _PUBLISH_AND_FEATURE,
    ("feature", "hidden"): _PUBLISH_AND_FEATURE,
    ("feature", "rejected"): _PUBLISH_AND_FEATURE,
}


def action_words(action: str, status: str | None) -> tuple[str, str]:
    """The button for ``action`` on an article that is ``status``, and what it says done."""
    return WORDS_BY_STATUS.get((action, status or ""), WORDS[action])


def offered_actions(article: Article) -> list[str]:
    """The review actions that would change ``article``, in the order the queue shows them."""
    actions = [] if article.status == "published" else ["approve"]
    if article.status != "rejected":
        actions.append("reject")
    if article.status == "published":
        actions.append("hide")  # only what is on the site can be taken off it
    actions.append("unfeature" if article.featured else "feature")
    return actions


def action_warning(action: str, article: Article) -> str | None:
    """What to ask before ``action`` takes a published article off the site with what
    members added to it; None when they added nothing, or the article stays on the site.
    (The count is the article's own: no query per row of the queue.)"""
    if action not in ("reject", "hide") or article.status != "published":
        return None
    activity = curation.MemberActivity(article.comment_count or 0, article.like_count or 0)
    if not activity:
        return None
    verb, until = ("Hide", ", until it is shown again") if action == "hide" else ("Reject", "")
    return (
        f"{verb} “{article.title}”? It goes from the site with the {activity.describe()} "
        f"members left on it{until}."
    )


def audit_code(action: str, status: str) -> str:
    """The audit log's code for ``action`` on an article that was ``status``: approving a
    hidden article shows it again, which the log names as such."""
    return "article.unhide" if (action, status) == ("approve", "hidden") else f"article.{action}"


HIDE_ONLY_PUBLISHED = "“{title}” is {status}, not on the site, so there is nothing to hide."
ACTION_STATUS = {"approve": "published", "reject": "rejected", "hide": "hidden"}
REVIEW_ACTIONS = {
    "approve": curation.approve,
    "reject": curation.reject,
    "hide": curation.hide,
    "feature": lambda a: curation.set_featured(a, True),
    "unfeature": lambda a: curation.set_featured(a, False),
}


@review_bp.get("/")
def queue():
    """Articles by status (pending first), newest first, 50 a page; from one feed if asked."""
    status = request.args.get("status", "pending")
    if status not in ARTICLE_STATUSES:
        status = "pending"
    feed_id = parse_id(request.args.get("feed"))
    feed = db.session.get(Feed, feed_id) if feed_id is not None else None
    if feed_id is not None and feed is None:
        # A bookmark, or a feeds page drawn before the feed was deleted.
        flash("That feed is not on the site any more: showing the articles of every feed.", "info")
        return redirect(url_for("review.queue", status=status))
    # Newest published first, not newest stored: the store inserts each document's
    # entries newest first, so by id a fetch's oldest entry would come first.
    query = sa.select(Article).where(Article.status == status).order_by(*reading.NEWEST_FIRST)
    if feed is not None:
        query = query.where(Article.feed_id == feed.id)
    cursor = reading.Cursor.decode(request.args.get("before"))
    page = reading.keyset_page(query, cursor, REVIEW_PAGE)
    return render_template(
        "articles/admin/review.html",
        articles=page.articles,
        status=status,
        feed=feed,
        older=page.next_cursor.encode() if page.next_cursor else None,
        is_older_page=cursor is not None,
    )


@review_bp.post("/<int:article_id>/<action>")
@form_on("review.queue")
def act(article_id: int, action: str):
    """Approve, reject, hide, feature or unfeature one article."""
    if action not in REVIEW_ACTIONS:
        abort(404)
    article = found_or_gone(
        db.session.get(Article, article_id, with_for_update=True), "That article", "review.queue"
    )
    back = safe_next(request.form.get("next")) or url_for("review.queue")
    done = action_words(action, _seen_status() or article.status)[1]
    if _already_done(article, action):
        # A double click, or another admin who chose the same: nothing left to do.
        flash(f"{done}: {article.title}", "success")
        return redirect(back)
    if _changed_meanwhile(article):
        flash(_changed_message(article), "error")
        return redirect(back)
    if action == "hide" and not article.is_published:
        # Hiding takes an article off the site. One never published has nothing to take
        # off, and "Unhide" would later publish what no admin approved.
        flash(HIDE_ONLY_PUBLISHED.format(title=article.title, status=article.status), "error")
        return redirect(back)
    detail = article.title[:200] if done == WORDS[action][1] else f"{done}: {article.title[:180]}"
    code = audit_code(action, article.status)
    REVIEW_ACTIONS[action](article)
    audit.record(current_user, code, article, detail)
    db.session.commit()
    flash(f"{done}: {article.title}", "success")
    return redirect(back)


@review_bp.post("/bulk")
@form_on("review.queue")
def bulk():
    """Approve or reject the ticked articles."""
    action = request.form.get("action")
    seen = _seen_status()
    # Back to the page the admin was on, not the first page of the tab.
    before = reading.Cursor.decode(request.form.get("before"))
    back = url_for(
        "review.queue",
        status=seen or "pending",
        feed=parse_id(request.form.get("feed")),
        before=before and before.encode(),
    )
    if action not in ("approve", "reject"):
        flash("Choose approve or reject.", "error")
        return redirect(back)
    ids = [i for i in map(parse_id, request.form.getlist("ids")) if i is not None]
    if not ids:
        flash("Select at least one article first.", "error")
        return redirect(back)
    chosen = curation.bulk_articles(ids)
    done = [a for a in chosen if _already_done(a, action)]
    current = [a for a in chosen if a not in done and not _changed_meanwhile(a)]
    for article in current:
        code = audit_code(action, article.status)
        REVIEW_ACTIONS[action](article)
        audit.record(current_user, code, article, f"bulk: {article.title[:190]}")
    db.session.commit()
    message = f"{action_words(action, seen)[1]} {len(current) + len(done)} article(s)."
    left = len(chosen) - len(current) - len(done)
    if left:
        message += f" {left} left as they were: someone changed them meanwhile."
    flash(message, "success" if current or done else "error")
    return redirect(back)


def _seen_status() -> str | None:
    """The status the admin saw the article(s) in, sent back by the review page's forms."""
    seen = request.form.get("seen")
    return seen if seen in ARTICLE_STATUSES else None


def _already_done(article: Article, action: str) -> bool:
    """Tell whether ``article`` already is what ``action`` would make it."""
    if action in ("feature", "unfeature"):
        return article.featured == (action == "feature") and (
            action == "unfeature" or article.status == "published"
        )
    return article.status == ACTION_STATUS[action]


def _changed_meanwhile(article: Article) -> bool:
    # Another admin may have decided the article since this page was drawn: their decision
    # stands until this admin sees it (a stale Approve would lift a rejection unseen).
    seen = _seen_status()
    return seen is not None and article.status != seen


def _changed_message(article: Article) -> str:
    return (
        f"“{article.title}” is {article.status} now: someone changed it after this page "
        "was drawn, so nothing was done. Look again and choose."
    )


@review_bp.route("/<int:article_id>/edit", methods=["GET", "POST"])
def edit_article(article_id: int):
    """Edit an article's title, summary, topics and reviewer line."""
    article = found_or_gone(
        db.session.get(Article, article_id, with_for_update=True), "That article", "review.queue"
    )
    form = ArticleEditForm(obj=article)
    saved = curation.article_edit_values(article)
    form.kept_topics = topics_named(saved["topics"])
    if request.method == "GET":
        form.topics.data = saved["topics"]
        form.revision.data = drawn_record(saved)
    if form.validate_on_submit():
        drawn = read_drawn(form.revision.data)
        if drawn is not None and saved_meanwhile(form, drawn, saved):
            both = merge_saved_meanwhile(form, drawn, saved)
            form.revision.data = drawn_record(saved)
            return render_template(
                "articles/admin/article_edit.html",
                form=form,
                article=article,
                back=_back_to_queue(article),
                conflict=True,
                both=[form[name].label.text for name in both],
            ), 409
        names = [n for n in (form.topics.data or "").split(",") if n.strip()]
        topics = [t for t in (topic_for(n) for n in names) if t is not None]
        before = _editable(article)
        changed = curation.edit_article(
            article,
            title=form.title.data,
            summary=form.summary.data or "",
            reviewed_by=form.reviewed_by.data or "",
            topics=topics,
        )
        if not changed:
            flash("Nothing to save: the article is as it was.", "info")
            return redirect(_back_to_queue(article))
        after = _editable(article)
        detail = "; ".join(f"{f}: {before[f]!r} → {after[f]!r}" for f in changed)
        audit.record(current_user, "article.edit", article, detail)
        db.session.commit()
        flash("Article saved.", "success")
        return redirect(_back_to_queue(article))
    page = render_template(
        "articles/admin/article_edit.html", form=form, article=article, back=_back_to_queue(article)
    )
    return page, form_status(form)


def _back_to_queue(article: Article) -> str:
    """Where Save and Cancel lead: the queue page the Edit link was on (its ``next``),
    else the first page of the article's tab."""
    return safe_next(request.args.get("next")) or url_for("review.queue", status=article.status)


def _editable(article: Article) -> dict[str, str]:
    """The edit form's fields as the audit log quotes them (long text cut short)."""
    values = {
        "title": article.title,
        "summary": article.summary,
        "reviewed_by": article.reviewed_by or "",
        "topics": ", ".join(sorted(t.name for t in article.topics)),
    }
    return {field: text if len(text) <= 120 else text[:119] + "…" for field, text in values.items()}


def article_titles(article_ids: set[int]) -> dict[int, str]:
    """Each article's title, quoted (the audit log's note on its rows)."""
    found = db.session.execute(
        sa.select(Article.id, Article.title).where(Article.id.in_(article_ids))
    )
    return {article_id: f"now titled “{title}”" for article_id, title in found}


def init_app(app) -> None:
    """Register the review queue and its admin navigation link."""
    from club.web import add_admin_waiting, add_audit_link, add_nav_link

    app.register_blueprint(review_bp)
    app.add_template_global(action_words, "review_action_words")
    app.add_template_global(offered_actions, "review_actions_for")
    app.add_template_global(action_warning, "review_action_warning")
    add_nav_link(app, "Review queue", "review.queue", admin=True)
    add_audit_link(app, "article", "review.edit_article", "article_id", Article)
    audit.add_target_notes(app, "article", article_titles)
    add_admin_waiting(
        app, "Review queue", "review.queue", pending_count,
        "article to review", "articles to review",
    )  # fmt: skip


def pending_count() -> int:
    """How many articles wait in the review queue."""
    pending = sa.select(sa.func.count(Article.id)).where(Article.status == "pending")
    return db.session.scalar(pending)
