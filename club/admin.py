"""The admin shell: every admin page lives on a blueprint made by ``admin_blueprint``.

The factory attaches the admin check once, in ``before_request``, so no admin view can
forget it (a test walks every /admin rule as a member and expects 403). This module
also holds the account pages: users, appeals and the audit log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from club import accounts, audit, membership, moderation
from club.clock import utcnow
from club.community.models import Comment
from club.extensions import db, login_manager, unicode_lower
from club.form_pages import form_on
from club.forms import AppealDecisionForm, EmptyForm, FreezeForm
from club.models import Appeal, AuditEntry, User
from club.web import admin_waiting, audit_target_urls, query_id

log = logging.getLogger(__name__)

PAGE_SIZE = 50


def require_admin():
    """Refuse the request unless the signed-in account may administer."""
    if not current_user.is_authenticated:
        if request.method == "GET":
            return login_manager.unauthorized()
        abort(401)
    if not membership.can_administer(current_user):
        log.warning(
            "denied %s %s to non-admin user %s", request.method, request.path, current_user.id
        )
        abort(403)
    return None


def admin_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """Return a blueprint mounted under /admin whose every view requires an admin."""
    bp = Blueprint(name, import_name, url_prefix="/admin" + url_prefix)
    bp.before_request(require_admin)
    return bp


T = TypeVar("T")


def found_or_gone(record: T | None, what: str, back: str, *, gone: str = "deleted") -> T:
    """``record``, or back to the ``back`` list saying ``what`` is gone.

    An admin page drawn before another admin (or this one, in another tab) deleted the
    record still links to it: its action is answered in the admin area with what
    happened, not with the public "page not found".
    """
    if record is not None:
        return record
    if request.method == "POST":
        flash(f"{what} was {gone} meanwhile; nothing was done.", "error")
    else:
        flash(f"{what} is not on the site any more: it may have been {gone}.", "error")
    abort(redirect(url_for(back)))


bp = admin_blueprint("admin", __name__)


def admin_user() -> User:
    return current_user._get_current_object()


@bp.get("/")
def dashboard():
    """Show the admin dashboard."""
    return render_template("admin/dashboard.html", waiting=admin_waiting())


# --- Users ------------------------------------------------------------------------------


def search_users(query: str, before: int | None) -> list[User]:
    """Return a page of accounts whose email, handle (typed with its "@" or without) or
    name contains ``query``."""
    statement = sa.select(User).order_by(User.id.desc()).limit(PAGE_SIZE)
    if query:
        needle = query.lower()
        handle = accounts.typed_handle(query)
        statement = statement.where(
            sa.or_(
                unicode_lower(User.email).contains(needle, autoescape=True),
                unicode_lower(User.handle).contains(handle, autoescape=True),
                unicode_lower(User.display_name).contains(needle, autoescape=True),
            )
        )
    if before is not None:
        statement = statement.where(User.id < before)
    return list(db.session.scalars(statement))


@bp.get("/users")
def users():
    """List and search accounts."""
    query = request.args.get("q", "").replace("\x00", "").strip()[:254]
    found = search_users(query, query_id("before"))
    next_before = found[-1].id if len(found) == PAGE_SIZE else None
    return render_template(
        "admin/users.html",
        users=found,
        q=query,
        next_before=next_before,
        standing_of=membership.standing,
    )


def load_user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def history_of(user: User, limit: int = 20) -> list[AuditEntry]:
    """The latest admin actions on ``user``'s account and on their comments.

    A moderator deciding on a freeze wants to see the comments removed before it.
    """
    own_comments = sa.select(sa.cast(Comment.id, AuditEntry.target_id.type)).where(
        Comment.author_id == user.id
    )
    statement = (
        sa.select(AuditEntry)
        .where(
            sa.or_(
                sa.and_(AuditEntry.target_type == "user", AuditEntry.target_id == str(user.id)),
                sa.and_(
                    AuditEntry.target_type == "comment", AuditEntry.target_id.in_(own_comments)
                ),
            )
        )
        .order_by(AuditEntry.id.desc())
        .limit(limit)
        .options(sa.orm.selectinload(AuditEntry.actor))
    )
    return list(db.session.scalars(statement))


def render_user(user: User, status: int = 200, freeze_form: FreezeForm | None = None):
    page = render_template(
        "admin/user.html",
        member=user,
        member_standing=membership.standing(user),
        freeze_in_force=membership.is_moderator_freeze_in_force(user, utcnow()),
        freeze_form=freeze_form or FreezeForm(formdata=None),
        button_form=EmptyForm(),
        history=history_of(user),
        appeal=moderation.current_appeal(user),
    )
    return page, status


@bp.get("/users/<int:user_id>")
def user_detail(user_id: int):
    """Show one account: standing, moderation controls and its audit history."""
    return render_user(load_user_or_404(user_id))


@bp.post("/users/<int:user_id>/freeze")
@form_on("admin.user_detail", args=("user_id",))
def freeze_user(user_id: int):
    """Freeze an account with a reason and an optional end date."""
    user = load_user_or_404(user_id)
    form = FreezeForm()
    if form.validate():
        try:
            membership.freeze(
                user, by=admin_user(), reason=form.reason.data, until=form.until_datetime()
            )
        except ValueError as error:
            db.session.rollback()
            form.reason.errors.append(str(error).capitalize() + ".")
        else:
            moderation.notify_frozen(user)
            frozen = f"@{user.handle} is frozen; we emailed them the reason."
            return committed_back_to(user_id, frozen)
    return render_user(user, status=400, freeze_form=form)


@bp.post("/users/<int:user_id>/unfreeze")
@form_on("admin.user_detail", args=("user_id",))
def unfreeze_user(user_id: int):
    """Lift a moderator's freeze."""
    user = load_user_or_404(user_id)
    if not EmptyForm().validate():
        abort(400)
    try:
        moderation.lift_freeze(user, by=admin_user())
    except ValueError:
        # A freeze that ended on its date, or another admin lifted it meanwhile.
        # Back to the page by GET, so reloading it does not post again.
        flash(f"@{user.handle} is not frozen by a moderator; nothing was changed.", "error")
        return redirect(url_for("admin.user_detail", user_id=user.id), code=303)
    moderation.notify_unfrozen(user)
    return committed_back_to(user_id, f"@{user.handle} is no longer frozen; we emailed them.")


@bp.post("/users/<int:user_id>/complimentary")
@form_on("admin.user_detail", args=("user_id",))
def set_complimentary(user_id: int):
    """Grant (``grant=1``) or revoke (``grant=0``) a complimentary membership."""
    user = load_user_or_404(user_id)
    grant = request.form.get("grant")
    if not EmptyForm().validate() or grant not in {"0", "1"}:
        abort(400)
    membership.set_complimentary(user, grant == "1", by=admin_user())
    verb = "now has" if grant == "1" else "no longer has"
    return committed_back_to(user_id, f"@{user.handle} {verb} a complimentary membership.")


def committed_back_to(user_id: int, message: str):
    """Commit, say ``message`` and go back to the account's page by GET.

    The message is written before the commit, which releases the account: its owner may
    delete it that moment, and reading it again afterwards would fail.
    """
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("admin.user_detail", user_id=user_id), code=303)


# --- Appeals ----------------------------------------------------------------------------


@bp.get("/appeals")
def appeals():
    """Show the queue of open appeals, oldest first."""
    return render_appeals()


def render_appeals(failed: tuple[int, AppealDecisionForm] | None = None, status: int = 200):
    """The appeals queue; ``failed`` is (appeal id, its refused form), shown with what the
    admin typed and why it was refused."""
    return render_template(
        "admin/appeals.html",
        appeals=moderation.open_appeals(),
        form=AppealDecisionForm(formdata=None),
        failed=failed,
    ), status


@bp.post("/appeals/<int:appeal_id>/<any(accept, reject):decision>")
@form_on("admin.appeals")
def decide_appeal(appeal_id: int, decision: str):
    """Accept an appeal (lifting the freeze) or reject it with a reply."""
    appeal = db.session.get(Appeal, appeal_id) or abort(404)
    form = AppealDecisionForm()
    if form.validate():
        try:
            if decision == "accept":
                moderation.accept_appeal(appeal, by=admin_user(), reply=form.reply.data)
            else:
                moderation.reject_appeal(appeal, by=admin_user(), reply=form.reply.data or "")
        except moderation.ReplyRequired as refused:
            db.session.rollback()
            form.reply.errors.append(str(refused))  # at the field, with focus, as forms do
            return render_appeals(failed=(appeal.id, form), status=400)
        except moderation.AppealRefused as refused:
            db.session.rollback()
            flash(str(refused), "error")
            return redirect(url_for("admin.appeals"), code=303)
        moderation.notify_appeal_decided(appeal)
        decided = f"Appeal from @{appeal.user.handle} {decision}ed."  # before it commits
        db.session.commit()
        flash(decided, "success")
        return redirect(url_for("admin.appeals"), code=303)
    return render_appeals(failed=(appeal.id, form), status=400)


# --- Audit log --------------------------------------------------------------------------


@bp.get("/audit")
def audit_log():
    """Show the audit log, newest first, a page at a time (keyset on id), narrowed to one
    part of the site and one admin if asked: an OPML import's thousand rows must not bury
    a moderator's last freeze."""
    filters = AuditFilters.from_args()
    statement = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(PAGE_SIZE)
    before = query_id("before")
    if before is not None:
        statement = statement.where(AuditEntry.id < before)
    if filters.area:
        statement = statement.where(AuditEntry.action.in_(audit.actions_in(filters.area)))
    if filters.who:
        statement = statement.where(done_by(filters.who))
    entries = list(db.session.scalars(statement.options(sa.orm.selectinload(AuditEntry.actor))))
    next_before = entries[-1].id if len(entries) == PAGE_SIZE else None
    return render_template(
        "admin/audit.html",
        entries=entries,
        next_before=next_before,
        filters=filters,
        areas=audit.ACTION_AREAS,
        handles=handles_of_targets(entries),
        target_urls=audit_target_urls(entries),
        target_notes=audit.target_notes(entries),
    )


@dataclass(frozen=True)
class AuditFilters:
    """What the audit log is narrowed to: one part of the site, one account's handle."""

    area: str = ""
    who: str = ""

    @classmethod
    def from_args(cls) -> AuditFilters:
        area = request.args.get("area", "")
        who = accounts.typed_handle(request.args.get("who", "").replace("\x00", ""))[:30]
        return cls(area if area in audit.ACTION_AREAS else "", who)

    @property
    def args(self) -> dict[str, str]:
        """The filters as query parameters, for the next page's link."""
        return {name: value for name, value in (("area", self.area), ("who", self.who)) if value}


def done_by(handle: str) -> sa.ColumnElement[bool]:
    """The audit rows of the account with ``handle`` now (whatever it was called then), or
    of a deleted account that had it: the log keeps a deleted actor's handle alone."""
    gone = sa.and_(AuditEntry.actor_id.is_(None), AuditEntry.actor_handle == handle)
    account = accounts.find_by_handle(handle)
    return sa.or_(AuditEntry.actor_id == account.id, gone) if account is not None else gone


def handles_of_targets(entries: list[AuditEntry]) -> dict[str, str]:
    """The handle of each account the entries were about, if it still exists (by id)."""
    ids = {int(e.target_id) for e in entries if e.target_type == "user" and e.target_id}
    if not ids:
        return {}
    found = db.session.execute(sa.select(User.id, User.handle).where(User.id.in_(ids)))
    return {str(user_id): handle for user_id, handle in found}


def init_app(app: Flask) -> None:
    """Register the admin shell and its account pages."""
    from club.web import add_admin_waiting, add_nav_link

    app.register_blueprint(bp)
    app.add_template_filter(audit.describe, "audit_action")
    app.add_template_filter(audit.actor_name, "audit_actor")
    add_nav_link(app, "Members", "admin.users", admin=True)
    add_nav_link(app, "Appeals", "admin.appeals", admin=True)
    add_admin_waiting(
        app, "Appeals", "admin.appeals", moderation.open_appeal_count, "waiting for a decision"
    )
    add_nav_link(app, "Audit log", "admin.audit_log", admin=True)
