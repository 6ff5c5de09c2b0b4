"""Curation pages under /admin/feeds: feeds with their health, OPML and keyword rules.

The blueprint comes from ``club.admin.admin_blueprint``, which checks the admin role once
for every view. Each action calls one domain function, writes one audit row and commits
once. The review queue is ``articles.review``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from articles import (
    curation,
    discover,
    feed_list,
    opml,
    opml_import,
    refresh,
    review,
    topic_admin,
)
from articles.forms import (
    DeleteFeedForm,
    FeedEditForm,
    FeedForm,
    OPMLForm,
    RuleForm,
    form_status,
)
from articles.models import Feed, KeywordRule
from articles.topics import topic_for
from club import audit
from club.admin import admin_blueprint, found_or_gone
from club.clock import utcnow
from club.edit_conflicts import drawn_record, merge_saved_meanwhile, read_drawn, saved_meanwhile
from club.extensions import db
from club.form_pages import form_on
from club.web import render_error, safe_next
from worker.queues import QueueUnavailable

if TYPE_CHECKING:
    from worker.queues import JobHandle

feeds_bp = admin_blueprint("curation", __name__, "/feeds")


def _feed_or_gone(feed_id: int, *, lock: bool = False) -> Feed:
    feed = db.session.get(Feed, feed_id, with_for_update=lock)
    return found_or_gone(feed, "That feed", "curation.feeds")


def enqueue_refresh(feed: Feed, force: bool = False) -> JobHandle:
    """Ask the worker to refresh ``feed`` now (inline when no Redis is configured).

    ``force`` fetches it even while it is paused.
    """
    from worker.jobs import enqueue_refresh as enqueue_feed_refresh

    # The scheduler's own job id, so a feed is never queued twice at once. With Redis
    # down this raises QueueUnavailable, which the site answers with a clear message (the
    # feed is saved; the periodic refresh fetches it once Redis is back) rather than
    # holding a web worker for a whole fetch.
    return enqueue_feed_refresh(feed.id, force=force)


# --- Feeds -------------------------------------------------------------------------------


@feeds_bp.get("/")
def feeds():
    """Feeds with their health at a glance, filtered by status, topic or words, 50 a page."""
    topics = feed_list.topics_with_feeds()
    filters = feed_list.FeedFilters.from_args(request.args, topics)
    after = feed_list.FeedKey.decode(request.args.get("after"))
    before = None if after else feed_list.FeedKey.decode(request.args.get("before"))
    page = feed_list.feed_page(filters, after=after, before=before)
    shown = [feed.id for feed in page.feeds]
    return render_template(
        "articles/admin/feeds.html",
        page=page,
        filters=filters,
        topics=topics,
        counts=feed_list.status_counts(filters),
        recent=feed_list.recent_counts(shown, utcnow() - timedelta(hours=24)),
        pending=feed_list.pending_counts(shown),
        names=feed_list.names_told_apart(page.feeds),
        is_later_page=after is not None or before is not None,
        opml_form=OPMLForm(),
    )


@feeds_bp.route("/new", methods=["GET", "POST"])
def add_feed():
    """Add a feed from a feed or site address, previewing its entries before saving."""
    form = FeedForm()
    preview, unpreviewed = None, False
    if form.validate_on_submit():
        try:
            preview = curation.discover_new_feed(form.url.data, current_app.config)
        except discover.DiscoveryError as error:
            form.url.errors.append(f"We could not read a feed there: {error}.")
        except curation.FeedExists as known:
            form.url.errors.append(f"The site already has this feed: {known.feed.name}.")
        else:
            if request.form.get("action") == "save":
                if form.previewed.data == preview.feed_url:
                    return _save_feed(form, preview)
                # The address was changed after the preview (or now leads elsewhere):
                # show what it holds before anything is saved.
                unpreviewed = True
    if preview is not None:
        form.previewed.data = preview.feed_url
    return _feed_new_page(form, preview, unpreviewed), form_status(form)


def _feed_new_page(
    form: FeedForm, preview: discover.Discovery | None, unpreviewed: bool = False
) -> str:
    """The add-feed form, with the preview's entries each marked if it will not be stored."""
    refusals = refresh.why_not_imported(preview.entries) if preview is not None else {}
    advertised = preview.also_advertised if preview is not None else []
    return render_template(
        "articles/admin/feed_new.html",
        form=form,
        preview=preview,
        refusals=refusals,
        unpreviewed=unpreviewed,
        also_advertised=[(url, curation.feed_at(url)) for url in advertised],
    )


def _save_feed(form: FeedForm, preview: discover.Discovery):
    try:
        feed = _create_previewed_feed(form, preview)
    except ValueError as error:
        form.url.errors.append(str(error))
        return _feed_new_page(form, preview), 400
    audit.record(current_user, "feed.add", feed, curation.added_feed_detail(feed))
    db.session.commit()
    try:
        handle = enqueue_refresh(feed)
    except QueueUnavailable:
        # Saved all the same: not the add form again, inviting a second add.
        flash(f"Added {feed.name}. {FETCHED_WHEN_JOBS_RUN}", "success")
        return redirect(url_for("curation.feeds"))
    flash(*_added_outcome(feed, handle))
    return redirect(url_for("curation.feeds"))


# Redis down: the periodic refresh fetches the feed once background jobs run again.
FETCHED_WHEN_JOBS_RUN = (
    "Background jobs are unavailable right now: its articles are fetched once they run again."
)


def _added_outcome(feed: Feed, handle: JobHandle) -> tuple[str, str]:
    """The flash for a saved feed: what its first fetch stored when it ran here (no
    Redis), as "Refresh now" says it, else that it is on its way."""
    if handle.status not in ("finished", "failed"):
        return f"Added {feed.name}. Its articles are being fetched.", "success"
    outcome, category = _refresh_outcome(feed, handle, was_paused=False)
    return f"Added {feed.name}. {outcome}", category


def _create_previewed_feed(form: FeedForm, preview: discover.Discovery) -> Feed:
    """Add the previewed feed; raise ValueError if it cannot be, with the reason to show."""
    try:
        return curation.create_feed(
            preview.feed_url,
            title=preview.title,
            site_url=preview.site_url,
            topic_name=form.topic.data or "",
            auto_publish=form.auto_publish.data,
            full_content=form.full_content.data,
            interval_minutes=form.interval_minutes.data,
        )
    except sa.exc.IntegrityError:
        # A double click, or another admin adding the same feed (or topic) at this moment.
        db.session.rollback()
        known = curation.feed_at(preview.feed_url)
        if known is not None:
            raise ValueError(f"The site already has this feed: {known.name}.") from None
        raise ValueError(
            "Another change was saved at the same moment; please save again."
        ) from None


@feeds_bp.route("/<int:feed_id>/edit", methods=["GET", "POST"])
def edit_feed(feed_id: int):
    """Change a feed's name, topic and options."""
    feed = _feed_or_gone(feed_id, lock=True)
    form = FeedEditForm(obj=feed)
    saved = curation.feed_edit_values(feed)
    if request.method == "GET":
        form.topic.data = saved["topic"]
        form.revision.data = drawn_record(saved)
    if form.validate_on_submit():
        drawn = read_drawn(form.revision.data)
        if drawn is not None and _saved_since_drawn(form, drawn, saved):
            both = merge_saved_meanwhile(form, drawn, saved)
            form.revision.data = drawn_record(saved)
            page = render_template(
                "articles/admin/feed_edit.html",
                form=form,
                feed=feed,
                saved=curation.feed_settings(feed),
                both=[form[name].label.text for name in both],
            )
            return page, 409
        _apply_feed_edit(feed, form)
        db.session.commit()
        flash("Feed saved.", "success")
        return redirect(url_for("curation.feeds"))
    page = render_template("articles/admin/feed_edit.html", form=form, feed=feed)
    return page, form_status(form)


def _saved_since_drawn(form: FeedEditForm, drawn: dict, saved: dict) -> bool:
    """Tell whether the feed's settings changed after this edit form was drawn."""
    changed = saved_meanwhile(form, drawn, saved)
    if changed == ["title"] and not drawn.get("title") and not form.title.data:
        # The feed had no name when the form was drawn, and the form leaves the name
        # alone: a name given since (a fetch names an untitled feed) stays either way.
        return False
    return bool(changed)


def _apply_feed_edit(feed: Feed, form: FeedEditForm) -> None:
    """Save the edit form's settings on ``feed`` and audit each change, old and new."""
    before = curation.feed_settings(feed)
    old_topic, topic = feed.topic, topic_for(form.topic.data or "")
    curation.rename_feed(feed, form.title.data or "")
    feed.topic = topic
    if topic != old_topic:
        curation.move_feed_articles_to_topic(feed, old_topic, topic)
    feed.auto_publish = form.auto_publish.data
    feed.full_content = form.full_content.data
    if feed.interval_minutes != form.interval_minutes.data:
        feed.interval_minutes = form.interval_minutes.data
        refresh.reschedule(feed)
    after = curation.feed_settings(feed)
    changes = [f"{k}: {before[k]!r} → {after[k]!r}" for k in after if before[k] != after[k]]
    audit.record(
        current_user, "feed.edit", feed, f"{feed.url}: {'; '.join(changes) or 'no change'}"
    )


@feeds_bp.post("/<int:feed_id>/pause")
@form_on("curation.feeds")
def pause_feed(feed_id: int):
    """Stop fetching a feed."""
    return _set_paused(_feed_or_gone(feed_id), True)


@feeds_bp.post("/<int:feed_id>/resume")
@form_on("curation.feeds")
def resume_feed(feed_id: int):
    """Start fetching a paused feed again."""
    return _set_paused(_feed_or_gone(feed_id), False)


def _set_paused(feed: Feed, paused: bool):
    back = _back_to_feeds()
    if feed.is_paused == paused:
        # A second tab, or another admin: nothing changes, so nothing is audited.
        flash(f"{feed.name} already was {'paused' if paused else 'active'}.", "info")
        return redirect(back)
    curation.set_paused(feed, paused)
    audit.record(current_user, "feed.pause" if paused else "feed.resume", feed, feed.url)
    db.session.commit()
    flash(f"{feed.name} {'paused' if paused else 'resumed'}.", "success")
    return redirect(back)


def _back_to_feeds() -> str:
    """The feeds page a row's action was on (its filters and page), else the first page."""
    return safe_next(request.form.get("next")) or url_for("curation.feeds")


@feeds_bp.post("/<int:feed_id>/refresh")
@form_on("curation.feeds")
def refresh_now(feed_id: int):
    """Fetch a feed now."""
    feed = _feed_or_gone(feed_id)
    # Read before the fetch, which may pause the feed itself (a 410, say).
    was_paused = feed.is_paused
    # Asked for by name: a paused feed is fetched too (to see whether it works again),
    # and stays paused. Audited once queued (or run here): with jobs down, nothing was.
    try:
        handle = enqueue_refresh(feed, force=True)
    except QueueUnavailable:
        flash(
            f"{feed.name} was not refreshed: background jobs are unavailable right now. "
            "Try again in a few minutes.",
            "error",
        )
        return redirect(_back_to_feeds())
    audit.record(current_user, "feed.refresh", feed, feed.url)
    db.session.commit()
    flash(*_refresh_outcome(feed, handle, was_paused))
    return redirect(_back_to_feeds())


def _refresh_outcome(feed: Feed, handle: JobHandle, was_paused: bool) -> tuple[str, str]:
    """The flash for "Refresh now": what happened when the fetch ran here (no Redis),
    else that it is on its way, or that one is already running (a forced refresh takes
    the place of one only waiting, so a duplicate is one that runs)."""
    if handle.duplicate:
        return f"A refresh of {feed.name} is already running.", "info"
    if handle.status not in ("finished", "failed"):
        once = " once; it stays paused" if was_paused else ""
        return f"Refreshing {feed.name}{once}.", "success"
    db.session.refresh(feed)  # the fetch ran in a session of its own
    note = " It stays paused." if was_paused else ""
    if handle.result == refresh.HOST_BUSY:
        # The periodic pass leaves a paused feed alone: only another click fetches it.
        later = "Try again in a minute." if was_paused else "It will be fetched in a minute."
        return (
            f"{feed.name} was not refreshed: two fetches to its host are already running. "
            f"{later}{note}",
            "error",
        )
    if handle.status == "failed" or feed.last_error:
        problem = feed.last_error or "the refresh failed; see Jobs"
        return f"Could not refresh {feed.name}: {problem}.{note}", "error"
    return f"Refreshed {feed.name}: {handle.result}.{note}", "success"


@feeds_bp.route("/<int:feed_id>/delete", methods=["GET", "POST"])
def delete_feed(feed_id: int):
    """Delete a feed after the admin chooses what happens to its articles and confirms."""
    feed = _feed_or_gone(feed_id)
    form = DeleteFeedForm()
    rules = db.session.scalars(
        sa.select(KeywordRule).where(KeywordRule.feed_id == feed.id).order_by(KeywordRule.id)
    ).all()
    if form.validate_on_submit():
        keep = form.articles.data == "keep"
        name = feed.name
        activity = curation.member_activity(feed)
        outcome = "kept" if keep else "removed"
        if not keep and activity:
            outcome += f", with {activity.describe()}"
        # Named: once it is gone, the log cannot look its name up.
        detail = f"{feed.name}: {feed.url} (articles {outcome})"
        audit.record(current_user, "feed.delete", feed, detail)
        for rule in rules:  # the database removes them with the feed
            audit.record(current_user, "rule.delete", rule, _rule_detail(rule))
        count = curation.remove_feed(feed, keep_articles=keep)
        db.session.commit()
        flash(f"Deleted {name}; {count} article(s) {'kept' if keep else 'removed'}.", "success")
        return redirect(url_for("curation.feeds"))
    page = render_template(
        "articles/admin/feed_delete.html",
        form=form,
        feed=feed,
        on_site=curation.describe_articles(feed),
        activity=curation.member_activity(feed),
        rules=rules,
    )
    return page, form_status(form)


@feeds_bp.errorhandler(413)
def upload_too_large(error):
    """An OPML file over the request limit: say so on the feeds page, not a bare 413."""
    if request.endpoint == "curation.import_opml":
        flash(f"Nothing imported: {opml.TOO_LARGE}.", "error")
        return redirect(url_for("curation.feeds"))
    return render_error(error)


@feeds_bp.post("/import")
@form_on("curation.feeds")
def import_opml():
    """Add every feed an uploaded OPML file lists (known addresses are skipped)."""
    form = OPMLForm()
    if not form.validate_on_submit():
        flash("Choose an OPML file to import.", "error")
        return redirect(url_for("curation.feeds"))
    try:
        outlines = opml.read_opml(form.file.data.read(opml.MAX_OPML_BYTES + 1))
    except ValueError as error:
        flash(f"Nothing imported: {error}.", "error")
        return redirect(url_for("curation.feeds"))
    if opml_import.new_feed_count(outlines) > opml_import.MAX_NEW_FEEDS_PER_UPLOAD:
        flash(opml_import.TOO_MANY_NEW_FEEDS, "error")
        return redirect(url_for("curation.feeds"))
    result = opml_import.import_outlines(
        outlines, current_user, keep_settings=form.keep_settings.data
    )
    audit.record(current_user, "feed.import_opml", None, result.describe())
    db.session.commit()
    then = " Each is fetched on the next pass; what it stored shows under Last fetch."
    flash(
        f"{result.describe()}.{then if result.added else ''}",
        "success" if result.added else "error",
    )
    return redirect(url_for("curation.feeds"))


@feeds_bp.get("/export.opml")
def export_opml():
    """Download the feed list as OPML."""
    # OPML groups feeds by topic: load the topics with the feeds.
    query = sa.select(Feed).options(joinedload(Feed.topic)).order_by(Feed.title)
    rows = db.session.scalars(query).all()
    body = opml.write_opml(rows, f"{current_app.config['SITE_NAME']} feeds")
    return Response(
        body,
        mimetype="text/x-opml",
        headers={"Content-Disposition": 'attachment; filename="feeds.opml"'},
    )


# --- Keyword rules -----------------------------------------------------------------------


def _feed_choices() -> list[SelectChoice]:
    """Every feed by title; two feeds of one title are told apart by their addresses."""
    names = feed_list.names_told_apart(db.session.scalars(sa.select(Feed).order_by(Feed.title)))
    return [SelectChoice(feed_id, name) for feed_id, name in names.items()]


@feeds_bp.route("/rules", methods=["GET", "POST"])
def rules():
    """List keyword rules; preview what a new rule would catch, then save it."""
    form = RuleForm()
    form.feed_id.choices = [SelectChoice(0, "All feeds"), *_feed_choices()]
    caught = previewed = None
    if form.validate_on_submit():
        feed_id = form.feed_id.data or None
        if curation.rule_in_force(form.kind.data, form.phrase.data, feed_id):
            # Its preview would find nothing new to catch, which reads as "catches nothing".
            form.phrase.errors.append("That rule is already in force: it is in the list below.")
            return _rules_page(form), 400
        caught = curation.preview_rule(form.kind.data, form.phrase.data, feed_id)
        previewed = f"{form.kind.data}|{feed_id or 0}|{form.phrase.data.strip()}"
        if request.form.get("action") == "save":
            if request.form.get("previewed") != previewed:
                # Save only what the admin has seen the effect of.
                form.phrase.errors.append(
                    "The rule changed after its preview: check what it catches below, then save."
                )
            else:
                try:
                    rule = curation.add_rule(form.kind.data, form.phrase.data, feed_id)
                except ValueError as error:
                    form.phrase.errors.append(f"Not saved: {error}.")
                else:
                    audit.record(current_user, "rule.add", rule, _rule_detail(rule))
                    db.session.commit()
                    flash("Rule saved; it applies to entries fetched from now on.", "success")
                    return redirect(url_for("curation.rules"))
    return _rules_page(form, caught, previewed), form_status(form)


def _rules_page(form: RuleForm, caught: list | None = None, previewed: str | None = None) -> str:
    # Each rule shows its feed's name (``scope``): load the feeds with the rules.
    query = sa.select(KeywordRule).options(joinedload(KeywordRule.feed))
    existing = db.session.scalars(query.order_by(KeywordRule.id)).all()
    return render_template(
        "articles/admin/rules.html", form=form, rules=existing, caught=caught, previewed=previewed
    )


@feeds_bp.post("/rules/<int:rule_id>/delete")
@form_on("curation.rules")
def delete_rule(rule_id: int):
    """Remove a keyword rule."""
    rule = found_or_gone(db.session.get(KeywordRule, rule_id), "That rule", "curation.rules")
    audit.record(current_user, "rule.delete", rule, _rule_detail(rule))
    db.session.delete(rule)
    db.session.commit()
    flash(f"Rule removed: {rule.described}.", "success")
    return redirect(url_for("curation.rules"))


def _rule_detail(rule: KeywordRule) -> str:
    """The audit log's words for a rule: what it does, and to which feed's entries (named
    now, as a deleted feed's name is gone by the time the log is read)."""
    scope = f"feed {rule.feed.name} ({rule.feed_id})" if rule.feed else "all feeds"
    return f"{rule.kind}: {rule.phrase} · {scope}"


def failing_feed_count() -> int:
    """How many feeds fail (for the admin dashboard)."""
    return db.session.scalar(sa.select(sa.func.count(Feed.id)).where(Feed.status == "failing"))


def feed_names(feed_ids: set[int]) -> dict[int, str]:
    """Each feed's name as the feeds page shows it (the audit log's note on its rows)."""
    feeds = db.session.scalars(sa.select(Feed).where(Feed.id.in_(feed_ids)))
    # "now": the log's older rows name the feed as it was (a rename's detail, say).
    return {feed.id: f"now named {feed.name}" for feed in feeds}


def init_app(app) -> None:
    """Register the curation blueprints and their admin navigation links, in menu order."""
    from club.web import add_admin_waiting, add_audit_link, add_nav_link

    app.register_blueprint(feeds_bp)
    add_nav_link(app, "Feeds", "curation.feeds", admin=True)
    add_audit_link(app, "feed", "curation.edit_feed", "feed_id", Feed)
    audit.add_target_notes(app, "feed", feed_names)
    add_admin_waiting(
        app, "Feeds", "curation.feeds", failing_feed_count, "failing", status="failing"
    )
    review.init_app(app)
    topic_admin.init_app(app)
    add_nav_link(app, "Keyword rules", "curation.rules", admin=True)
