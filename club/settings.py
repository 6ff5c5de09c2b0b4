"""Settings (blueprint ``settings``): reachable in every standing.

Every POST here is ``allowed_while_frozen``: a frozen account must still be able to fix
its password, send an appeal, export its data or leave. What the account may change is
still decided by the policy (a moderator's freeze closes profile editing).
"""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import HTTPException
from wtforms import Field

from club import accounts, auth, membership, moderation, signals, tokens
from club.clock import utcnow
from club.extensions import db, limiter
from club.form_pages import form_on
from club.forms import (
    AppealForm,
    DeleteAccountForm,
    EmailChangeForm,
    EmptyForm,
    PasswordChangeForm,
    ProfileForm,
)
from club.models import User
from club.web import per_account, render_error, time_to_wait

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.before_request
@login_required
def require_login() -> None:
    """Every settings page belongs to a signed-in account."""


def me() -> User:
    return current_user._get_current_object()


# The page section each form lives in: an error is named at the top of the page, since
# the form itself may be far below where the page opens.
SECTIONS = {
    "profile_form": ("profile", "Profile"),
    "email_form": ("email", "Email"),
    "password_form": ("password", "Password"),
    "appeal_form": ("status", "Account status"),
    "delete_form": ("delete", "Delete account"),
}


# What a form behind the password says when the one typed is not the account's.
MISTYPED = "That is not your password."


def validate_with_password(form: FlaskForm, field: Field, user: User, wrong: str) -> bool:
    """Validate ``form`` and check the account's password in ``field``, every error at once.

    Checked only once the rest was right, a wrong password came back after the member had
    fixed everything else, and they typed the new password (or address) a second time.
    """
    valid = form.validate()
    if field.data and not field.errors and not user.check_password(field.data):
        field.errors.append(wrong)
        return False
    return valid


def render_settings(status: int = 200, **forms: FlaskForm):
    """Render the settings page; forms passed in (with their errors) replace fresh ones."""
    failed = [SECTIONS[name] for name, form in forms.items() if form.errors and name in SECTIONS]
    user = me()
    forms.setdefault("profile_form", ProfileForm(obj=user, formdata=None, account=user))
    forms.setdefault("password_form", PasswordChangeForm(formdata=None))
    forms.setdefault("email_form", EmailChangeForm(formdata=None))
    forms.setdefault("appeal_form", AppealForm(formdata=None))
    forms.setdefault("delete_form", DeleteAccountForm(formdata=None))
    page = render_template(
        "settings/index.html",
        user=user,
        can_edit_profile=membership.can_edit_profile(user),
        appeal=moderation.current_appeal(user),
        can_appeal=moderation.can_appeal(user),
        decided_appeal=moderation.latest_decided_appeal(user),
        moderator_freeze_in_force=membership.is_moderator_freeze_in_force(user, utcnow()),
        removal_date=accounts.removal_date(user),
        pending_email=accounts.pending_email_change(user),
        button_form=EmptyForm(),
        failed_sections=failed,
        **forms,
    )
    return page, status


@bp.get("")
def index():
    """Show profile, password, account status, billing, export and deletion."""
    return render_settings()


@bp.post("/profile")
@form_on("settings.index", anchor="profile")
@membership.allowed_while_frozen
def profile():
    """Change display name, handle and bio, if the policy allows it."""
    user = me()
    if not membership.can_edit_profile(user):
        flash(
            "You cannot change your profile while a moderator's freeze is in force. "
            "See the account status section below.",
            "error",
        )
        return render_settings(status=403)
    form = ProfileForm(account=user)
    if form.validate():
        old_name = user.display_name
        try:
            accounts.update_profile(
                user,
                display_name=form.display_name.data,
                handle=form.handle.data,
                bio=form.bio.data or "",
            )
        except accounts.HandleTaken:
            db.session.rollback()
            form.handle.errors.append("That handle is taken. Choose another.")
        else:
            db.session.commit()
            if user.display_name != old_name:
                signals.announce_contact_changed(user)
            flash("Your profile has been saved.", "success")
            return redirect(url_for("settings.index"), code=303)
    return render_settings(status=400, profile_form=form)


def no_password_typed() -> bool:
    """A post without the password guesses nothing and mails no one: it is not counted."""
    return not request.form.get("password")


# Every post with a password counts here, as it arrives: each is a guess from whoever
# holds the session, and a limit counted after the answer lets a parallel burst of them
# through. One without (a member who forgot to type it) does not use up the hour's five.
@bp.post("/email")
@form_on("settings.index", anchor="email")
@membership.allowed_while_frozen
@limiter.limit("5 per hour", key_func=per_account("email-change"), exempt_when=no_password_typed)
def email():
    """Start an email change: the password, then a link sent to the new address."""
    user = me()
    form = EmailChangeForm()
    if validate_with_password(form, form.password, user, MISTYPED):
        if form.new_email.data == user.email:
            form.new_email.errors.append("That is already your email address.")
        else:
            if auth.may_send_email_change_mail(form.new_email.data):
                accounts.request_email_change(user, form.new_email.data)
            accounts.note_email_change_asked(user, form.new_email.data)
            db.session.commit()
            flash(
                f"We sent a link to {form.new_email.data}. Your email changes when you open it.",
                "success",
            )
            return redirect(url_for("settings.index"), code=303)
    return render_settings(status=400, email_form=form)


@bp.route("/email/<token>", methods=["GET", "POST"])
@membership.allowed_while_frozen
def change_email(token: str):
    """Finish an email change from the emailed link (the GET only shows a button)."""
    user = me()
    form = EmptyForm()
    try:
        claims = tokens.read(tokens.CHANGE_EMAIL, token)
        if claims.user.id != user.id:
            raise tokens.TokenInvalid("This link belongs to another account.")
        if form.validate_on_submit():
            old_email = accounts.change_email(user, token)
            db.session.commit()
            signals.announce_contact_changed(user)
            accounts.send_email_changed_notice(old_email, user)
            flash(f"Your email is now {user.email}.", "success")
            return redirect(url_for("settings.index"), code=303)
    except (tokens.TokenError, accounts.EmailTaken) as error:
        db.session.rollback()
        message = str(error) if isinstance(error, tokens.TokenError) else EMAIL_TAKEN
        return auth.token_failed(message, again=url_for("settings.index") + "#email")
    page = render_template("settings/change_email.html", form=form, new_email=claims.data)
    return auth.no_referrer(page)


EMAIL_TAKEN = "That address now belongs to another account, so your email has not changed."


@bp.post("/password")
@form_on("settings.index", anchor="password")
@membership.allowed_while_frozen
@limiter.limit("10 per hour", key_func=per_account("password-change"))  # as /email's
def password():
    """Change the password (current one required); every other session is signed out."""
    user = me()
    form = PasswordChangeForm(account=user)
    refused = "That is not your current password."
    valid = validate_with_password(form, form.current_password, user, refused)
    if valid and form.new_password.data == form.current_password.data:
        # Nothing to change: no sign-out, and no "was it you?" mail to alarm the member.
        form.new_password.errors.append("That is already your password: choose a new one.")
        valid = False
    if valid:
        user.set_password(form.new_password.data)
        db.session.commit()
        accounts.send_password_changed_notice(user)
        keep_signed_in(user)
        flash(auth.NOTICE_PASSWORD_CHANGED, "success")
        return redirect(url_for("settings.index"), code=303)
    return render_settings(status=400, password_form=form)


def keep_signed_in(user: User) -> None:
    """Re-issue this browser's session (and remember cookie) for the new session token.

    The log-in keeps its start: changing the password does not lengthen it.
    """
    remembered = current_app.config["REMEMBER_COOKIE_NAME"] in request.cookies
    auth.start_session(
        user, remember=remembered, signed_in_at=accounts.signed_in_at(session.get("_user_id"))
    )


@bp.post("/confirmation")
@form_on("settings.index", anchor="status")
@membership.allowed_while_frozen
@limiter.limit("5 per hour", key_func=per_account("resend-confirmation"))
def resend_confirmation():
    """Email the confirmation link again."""
    user = me()
    if not EmptyForm().validate():
        return render_settings(status=400)
    if user.is_email_confirmed:
        flash("Your email address is already confirmed.", "info")
    else:
        accounts.send_confirmation(user)
        flash(f"We sent a new confirmation link to {user.email}.", "success")
    return redirect(url_for("settings.index"), code=303)


@bp.post("/appeal")
@form_on("settings.index", anchor="status")
@membership.allowed_while_frozen
def appeal():
    """Send the one appeal allowed against the current moderator's freeze."""
    form = AppealForm()
    if form.validate():
        try:
            moderation.submit_appeal(me(), form.text.data)
        except moderation.AppealRefused as refused:
            db.session.rollback()
            flash(str(refused), "error")
            return render_settings(status=409)
        db.session.commit()
        flash("Your appeal has been sent. An admin will answer here.", "success")
        return redirect(url_for("settings.index"), code=303)
    return render_settings(status=400, appeal_form=form)


@bp.post("/export")
@form_on("settings.index", anchor="export")
@membership.allowed_while_frozen
@limiter.limit("10 per hour", key_func=per_account("export"))
def export():
    """Download everything the site holds about this account as JSON."""
    if not EmptyForm().validate():
        return render_settings(status=400)
    user = me()
    body = json.dumps(accounts.export_account(user), indent=2, ensure_ascii=False, default=str)
    filename = f"billionaire-club-{user.handle}-{utcnow():%Y%m%d}.json"
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/delete")
@form_on("settings.index", anchor="delete")
@membership.allowed_while_frozen
@limiter.limit("10 per hour", key_func=per_account("delete"))
def delete():
    """Delete the account after checking the password; comments stay as "deleted member"
    unless the member asks for them to go too."""
    user = me()
    form = DeleteAccountForm()
    if validate_with_password(form, form.password, user, MISTYPED):
        try:
            accounts.delete_account(user, delete_comments=form.delete_comments.data)
        except signals.DeletionBlocked as blocked:
            db.session.rollback()
            flash(f"Your account was not deleted: {blocked}", "error")
            return render_settings(status=409)
        db.session.commit()
        session.clear()
        logout_user()
        # Said to everyone who leaves, paying or not: many accounts never were members.
        flash("Your account has been deleted. Thank you for reading with us.", "success")
        return redirect("/", code=303)
    return render_settings(status=400, delete_form=form)


# The forms a limit may refuse, and what the member was doing, for the refusal's words.
LIMITED_FORMS = {
    "settings.email": ("email_form", EmailChangeForm, "asked to change your email"),
    "settings.password": ("password_form", PasswordChangeForm, "tried to change your password"),
    "settings.delete": ("delete_form", DeleteAccountForm, "tried to delete your account"),
    "settings.export": (None, None, "downloaded your data"),
    "settings.resend_confirmation": (None, None, "asked for the confirmation link"),
}


@bp.errorhandler(429)
def too_often(error: HTTPException):
    """A settings form over its limit: the page again, saying which and how long to wait,
    with what was typed (but passwords) kept in the form."""
    limited = LIMITED_FORMS.get(request.endpoint or "")
    if limited is None or membership.wants_json():
        return render_error(error)
    name, form_class, doing = limited
    wait = time_to_wait() or "a while"
    message = f"You have {doing} too often, so nothing was done. Try again in {wait}."
    if name is None:
        flash(message, "error")
        return render_settings(status=429)
    form = form_class()  # filled from the post; a password field never shows its value
    form.form_errors.append(message)
    return render_settings(status=429, **{name: form})


def init_app(app) -> None:
    """Register the settings pages."""
    app.register_blueprint(bp)
