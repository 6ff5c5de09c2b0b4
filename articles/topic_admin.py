"""The topic pages under /admin/topics: the list with counts, and rename.

The blueprint comes from ``club.admin.admin_blueprint``, which checks the admin role once
for every view. Each action calls one function of ``articles.topics``, writes one audit
row and commits once.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from articles import topics
from articles.forms import TopicForm, form_status
from articles.models import Topic
from club import audit
from club.admin import admin_blueprint
from club.extensions import db

topics_bp = admin_blueprint("topics", __name__, "/topics")


def _topic_or_404(topic_id: int, *, lock: bool = False) -> Topic:
    return db.session.get(Topic, topic_id, with_for_update=lock) or abort(404)


@topics_bp.get("/")
def index():
    """Every topic with its published articles, feeds and followers."""
    return render_template("articles/admin/topics.html", rows=topics.topic_rows())


@topics_bp.route("/<int:topic_id>/edit", methods=["GET", "POST"])
def edit_topic(topic_id: int):
    """Rename a topic; a new address leaves the old one redirecting to it."""
    topic = _topic_or_404(topic_id, lock=True)
    form = TopicForm(obj=topic)
    if request.method == "GET":
        form.drawn.data = topic.name
    if form.validate_on_submit():
        if form.drawn.data and form.drawn.data != topic.name:
            # Keep what this admin typed, say what the topic is called now, and let a
            # second Save rename it knowingly.
            form.drawn.data = topic.name
            return _edit_page(form, topic, renamed_meanwhile=True), 409
        try:
            changed = topics.rename_topic(topic, form.name.data)
        except topics.TopicNameTaken as refused:
            form.name.errors.append(f"{refused}. Choose another name.")
            return _edit_page(form, topic, taken=refused.taken), 400
        except ValueError:  # "," passes the form's checks and leaves no name
            form.name.errors.append("Enter a name with letters or digits.")
            return _edit_page(form, topic), 400
        except sa.exc.IntegrityError:
            db.session.rollback()  # another admin gave a topic that address just now
            form.name.errors.append("Another change was saved at the same moment; save again.")
            return _edit_page(form, topic), 400
        return _renamed(topic, changed)
    return _edit_page(form, topic), form_status(form)


def _edit_page(form: TopicForm, topic: Topic, **shown) -> str:
    return render_template("articles/admin/topic_edit.html", form=form, topic=topic, **shown)


def _renamed(topic: Topic, changed: dict[str, tuple[str, str]]):
    if not changed:
        flash(f"“{topic.name}” already had that name; nothing changed.", "info")
        return redirect(url_for("topics.index"))
    words = []
    if "name" in changed:
        words.append("name: {!r} → {!r}".format(*changed["name"]))
    if "slug" in changed:
        words.append(
            "address: /topics/{} → /topics/{} (the old one redirects)".format(*changed["slug"])
        )
    audit.record(current_user, "topic.rename", topic, "; ".join(words))
    db.session.commit()
    flash(f"Renamed the topic “{topic.name}”.", "success")
    return redirect(url_for("topics.index"))


def init_app(app) -> None:
    """Register the topic pages, their admin navigation link and their audit rows' link."""
    from club.web import add_audit_link, add_nav_link

    app.register_blueprint(topics_bp)
    add_nav_link(app, "Topics", "topics.index", admin=True)
    add_audit_link(app, "topic", "topics.edit_topic", "topic_id", Topic)
