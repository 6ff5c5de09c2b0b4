"""Community: comments, likes, bookmarks, topic follows, reports, notifications, profiles.

Every write here is guarded by ``club.membership``'s app-wide check; nothing in this
package decides access itself. ``init_app`` registers the blueprints and the
``article_interactions(article)`` template global the article page calls.
"""

from __future__ import annotations

import secrets

from flask import Flask, g, render_template, request
from flask_login import current_user
from markupsafe import Markup

from articles.models import Article, Topic


def article_interactions(article: Article) -> Markup:
    """Render the likes, save button and comment thread for ``article``.

    A fixed number of queries whatever the number of comments: the thread with its
    authors, the viewer's comment likes, the viewer's article like and bookmark.
    """
    from club.community import bookmarks, comments, likes

    sort = request.args.get("sort", "oldest")
    if sort not in comments.SORTS:
        sort = "oldest"
    html = render_template(
        "community/_interactions.html",
        article=article,
        page=comments.thread_page(
            comments.load_thread(article.id, current_user, sort),
            request.args.get("comments", 1, type=int),
        ),
        sort=sort,
        sorts=comments.SORTS,
        like=likes.article_state(current_user, article),
        saved=bookmarks.is_saved(current_user, article.id),
    )
    return Markup(html)  # noqa: S704 - a rendered, autoescaped template


def topic_follow(topic: Topic) -> Markup:
    """Render the follow button for ``topic`` (for the articles package's topic pages)."""
    from club.community import topics

    followed = topic.id in topics.followed_topic_ids(current_user)
    html = render_template("community/_follow.html", topic=topic, followed=followed)
    return Markup(html)  # noqa: S704 - a rendered, autoescaped template


def unread_notifications() -> int:
    """Return the signed-in member's unread count, once per request."""
    from club.community import notifications

    if not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        g.unread_notifications = notifications.unread_count(current_user)
    return g.unread_notifications


def new_form_token() -> str:
    """Return a fresh nonce for a comment form (see Comment.client_token)."""
    return secrets.token_urlsafe(24)


def init_app(app: Flask) -> None:
    """Register the community pages, the moderation queue and the template helpers."""
    from club import audit, signals, web
    from club.community import (
        account_data,
        admin,
        comments,
        models,
        moderation,
        views,
    )
    from club.community.formatting import render_comment

    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    web.add_nav_link(app, "For you", "community.for_you")
    web.add_nav_link(app, "Reports", "moderation.queue", admin=True)
    web.add_audit_link(app, "comment", "community.permalink", "comment_id", models.Comment)
    audit.add_target_notes(app, "comment", moderation.describe_for_audit)
    web.add_admin_waiting(
        app, "Reports", "moderation.queue", moderation.reported_comment_count,
        "reported comment waiting for a decision", "reported comments waiting for a decision",
    )  # fmt: skip
    app.jinja_env.globals.update(
        article_interactions=article_interactions,
        topic_follow=topic_follow,
        unread_notifications=unread_notifications,
        new_form_token=new_form_token,
        comment_revision=comments.edit_revision,
    )
    app.jinja_env.filters["comment_html"] = render_comment
    signals.account_exporting.connect(account_data.on_account_exporting, sender=app, weak=False)
    signals.account_deleting.connect(account_data.on_account_deleting, sender=app, weak=False)
