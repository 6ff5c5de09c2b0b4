"""The topic pages under /admin/topics: the list with counts, rename, merge and delete.

The blueprint comes from ``club.admin.admin_blueprint``, which checks the admin role once
for every view. Each action calls one function of ``articles.topics``, writes one audit
row and commits once.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from articles import topics
from articles.forms import DeleteTopicForm, MergeTopicForm, TopicForm, form_status
from articles.models import TOPIC_ORDER, Topic
from club import audit
from club.admin import admin_blueprint, found_or_gone
from club.extensions import db
from club.web import query_id

topics_bp = admin_blueprint("topics", __name__, "/topics")


def _topic_or_gone(topic_id: int, *, lock: bool = False) -> Topic:
    topic = db.session.get(Topic, topic_id, with_for_update=lock)
    return found_or_gone(topic, "That topic", "topics.index", gone="merged or deleted")


@topics_bp.get("/")
def index():
    """Every topic with its published articles, feeds and followers."""
    return render_template("articles/admin/topics.html", rows=topics.topic_rows())


@topics_bp.route("/<int:topic_id>/edit", methods=["GET", "POST"])
def edit_topic(topic_id: int):
    """Rename a topic; a new address leaves the old one redirecting to it."""
    topic = _topic_or_gone(topic_id, lock=True)
    form = TopicForm(obj=topic)
    if request.method == "GET":
        form.drawn.data = topic.name
    if form.validate_on_submit():
        # A double click's second Save finds the topic called what was typed: not a
        # rename by someone else, and nothing left to do.
        typed = topics.topic_name(form.name.data)
        if form.drawn.data and form.drawn.data != topic.name and typed != topic.name:
            # Keep what this admin typed, say what the topic is called now, and let a
            # second Save rename it knowingly.
            form.drawn.data = topic.name
            return _edit_page(form, topic, renamed_meanwhile=True), 409
        try:
            changed = topics.rename_topic(topic, form.name.data)
        except topics.TopicNameTaken as refused:
            # The note above the form says how to merge instead, with the link.
            form.name.errors.append(f"{refused}: choose another name.")
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


@topics_bp.route("/<int:topic_id>/merge", methods=["GET", "POST"])
def merge_topic(topic_id: int):
    """Merge a topic into another, after showing what will move."""
    topic = _topic_or_gone(topic_id)
    form = MergeTopicForm()
    others = db.session.execute(
        sa.select(Topic.id, Topic.name).where(Topic.id != topic.id).order_by(*TOPIC_ORDER)
    ).all()
    form.into.choices = [SelectChoice(i, name) for i, name in others]
    if request.method == "GET":
        form.into.data = query_id("into")
    elif form.validate_on_submit():
        return _merge(topic.id, form.into.data, form.shown.data)
    target = db.session.get(Topic, form.into.data) if form.into.data in dict(others) else None
    moving = topics.usage(topic, target) if target is not None else None
    form.shown.data = moving.fingerprint if moving is not None else ""
    page = render_template(
        "articles/admin/topic_merge.html",
        form=form,
        topic=topic,
        target=target,
        moving=moving,
        has_others=bool(others),
    )
    return page, form_status(form)


CHANGED_SINCE_SHOWN = (
    "What the topic holds changed after this page was drawn (an article filed, a feed or "
    "follower added or moved): check the new counts, then confirm."
)


def _changed_since_shown(usage: topics.TopicUsage, shown: str | None) -> bool:
    """Tell whether the counts a confirmation showed are no longer true. A form that
    sent none (drawn before this existed, or a script) has nothing to compare against,
    as with ``club.edit_conflicts``."""
    return bool(shown) and usage.fingerprint != shown


def _merge(source_id: int, into_id: int, shown: str | None):
    locked = topics.lock_topics(source_id, into_id)
    if len(locked) < 2:
        db.session.rollback()
        flash("One of the two topics was merged or deleted meanwhile; nothing was done.", "error")
        return redirect(url_for("topics.index"))
    source, into = locked[source_id], locked[into_id]
    if _changed_since_shown(topics.usage(source, into), shown):
        db.session.rollback()
        flash(CHANGED_SINCE_SHOWN, "error")
        return redirect(url_for("topics.merge_topic", topic_id=source_id, into=into_id), 303)
    named = f"“{source.name}” (/topics/{source.slug})"
    moved = topics.merge_topics(source, into)
    detail = f"{named} into “{into.name}” (/topics/{into.slug}): moved {moved.describe()}"
    audit.record(current_user, "topic.merge", into, detail)
    db.session.commit()
    flash(f"Merged {named} into “{into.name}”: moved {moved.describe()}.", "success")
    return redirect(url_for("topics.index"))


@topics_bp.route("/<int:topic_id>/delete", methods=["GET", "POST"])
def delete_topic(topic_id: int):
    """Delete a topic after saying what loses it."""
    topic = _topic_or_gone(topic_id)
    form = DeleteTopicForm()
    if form.validate_on_submit():
        return _delete(topic_id, form.shown.data)
    losing = topics.usage(topic)
    form.shown.data = losing.fingerprint
    page = render_template(
        "articles/admin/topic_delete.html", form=form, topic=topic, losing=losing
    )
    return page, form_status(form)


def _delete(topic_id: int, shown: str | None):
    topic = topics.lock_topics(topic_id).get(topic_id)
    if topic is None:
        db.session.rollback()
        flash("That topic was merged or deleted meanwhile; nothing was done.", "error")
        return redirect(url_for("topics.index"))
    if _changed_since_shown(topics.usage(topic), shown):
        db.session.rollback()
        flash(CHANGED_SINCE_SHOWN, "error")
        return redirect(url_for("topics.delete_topic", topic_id=topic_id), 303)
    named = f"“{topic.name}” (/topics/{topic.slug})"
    lost = topics.delete_topic(topic)
    detail = f"{named}: taken off {lost.describe()}" if lost else f"{named}: it was empty"
    audit.record(current_user, "topic.delete", topic, detail)
    db.session.commit()
    flash(f"Deleted the topic {named}.", "success")
    return redirect(url_for("topics.index"))


def topic_names(topic_ids: set[int]) -> dict[int, str]:
    """Each topic's name (the audit log's note on its rows)."""
    found = db.session.execute(sa.select(Topic.id, Topic.name).where(Topic.id.in_(topic_ids)))
    return {topic_id: f"now named {name}" for topic_id, name in found}


def init_app(app) -> None:
    """Register the topic pages, their admin navigation link and their audit rows' link."""
    from club.web import add_audit_link, add_nav_link

    app.register_blueprint(topics_bp)
    add_nav_link(app, "Topics", "topics.index", admin=True)
    add_audit_link(app, "topic", "topics.edit_topic", "topic_id", Topic)
    audit.add_target_notes(app, "topic", topic_names)
