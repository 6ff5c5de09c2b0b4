"""Sign-up, log-in, log-out, email confirmation and password reset (blueprint ``auth``).

Responses never reveal whether an address has an account: sign-up, log-in and reset
answer the same way for both. Links in mail are single-use and expire (``club.tokens``).
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from limits import parse as parse_limit
from werkzeug.exceptions import HTTPException
from werkzeug.security import generate_password_hash

from club import accounts, membership, tokens
from club.clock import utcnow
from club.extensions import db, limiter
from club.forms import (
    ConfirmEmailForm,
    ForgotPasswordForm,
    LogInForm,
    ResetPasswordForm,
    SignUpForm,
)
from club.models import User
from club.web import (
    carried_next,
    is_accepted,
    render_csrf_error,
    render_error,
    safe_next,
    time_to_wait,
)

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)
NOTICE_PASSWORD_CHANGED = "Your password has been changed. Every other session has been signed out."  # noqa: S105 - a message

# The hash Werkzeug produces today; older hashes are upgraded at the next log-in.
CURRENT_HASH_PREFIX = generate_password_hash("x").split("$", 1)[0] + "$"


def posted_email() -> str:
    """Rate-limit key: the address being tried, so one account is not guessed from many IPs.

    Normalised as accounts are looked up, so spelling an address another way (a
    decomposed "ü") does not open a second allowance for the same account.
    """
    return "email:" + accounts.normalise_email(request.form.get("email") or "")


# Mails of one kind one address may receive an hour, however many clients ask for them.
MAILS_PER_ADDRESS = "5 per hour"


def may_send_reset_mail(email: str) -> bool:
    """Count one reset mail to ``email``; False once the address had its share this hour.

    Over the share the form still answers as usual, and no mail goes out. A 429 there
    would let anyone lock an owner out (their log-in limit spent too), whereas the owner
    who asks finds the links already sent waiting in the inbox: a reset link is how a
    locked-out owner gets back in, and it signs them in.
    """
    return _may_mail("reset-mail", email)


def may_send_signup_notice(email: str) -> bool:
    """Count one "you already have an account" notice to ``email``, as reset mails are.

    Sign-up answers the same either way (no account enumeration), so without this cap
    anyone could fill an owner's inbox by signing up with their address from many clients.
    """
    return _may_mail("signup-notice", email)


def may_send_email_change_mail(email: str) -> bool:
    """Count one email-change mail to ``email`` (a link, or a notice that it is taken).

    Settings answers the same either way, and throwaway accounts cost nothing, so
    without this cap anyone could fill a stranger's inbox by asking to move to it.
    """
    return _may_mail("email-change-mail", email)


def _may_mail(kind: str, email: str) -> bool:
    if not limiter.enabled:
        return True
    share = parse_limit(MAILS_PER_ADDRESS)
    try:
        return limiter.limiter.hit(share, kind, accounts.normalise_email(email))
    except Exception:  # the counters' store is down: like RATELIMIT_SWALLOW_ERRORS, let it pass
        log.exception("could not count a %s; sending it", kind)
        return True


def start_session(user: User, remember: bool = False, signed_in_at: datetime | None = None) -> None:
    """Sign ``user`` in on a fresh session (nothing from before log-in survives).

    ``signed_in_at`` (now unless given) starts the log-in's fixed lifetime.
    """
    session.clear()
    login_user(user, remember=remember)
    # Flask-Login keeps this id in the session and writes it into the remember cookie.
    session["_user_id"] = accounts.session_id(user, signed_in_at or utcnow())


def rehash_if_outdated(user: User, password: str) -> None:
    """Store the password with today's hash parameters if it was hashed with older ones."""
    if not user.password_hash.startswith(CURRENT_HASH_PREFIX):
        user.password_hash = generate_password_hash(password)


@bp.errorhandler(CSRFError)
def expired_log_in(error: CSRFError):
    """A log-in page left open too long: ask for the password again, the email kept."""
    if request.endpoint != "auth.login" or membership.wants_json():
        return render_csrf_error(error)
    form = LogInForm()  # filled from the post: the email comes back, a password never does
    form.form_errors.append(
        NO_COOKIE_AT_LOG_IN if error.description == NO_SESSION_TOKEN else EXPIRED_LOG_IN
    )
    return login_page(form), 400


EXPIRED_LOG_IN = (
    "This page had been open too long, so you were not logged in. Enter your password again."
)
# Flask-WTF's words when the form came without the session cookie it is checked against:
# cookies blocked for the site, or a session that ended while the page stood open.
NO_SESSION_TOKEN = "The CSRF session token is missing."  # noqa: S105 (a message)
NO_COOKIE_AT_LOG_IN = (
    "You were not logged in: this page had been open too long, or your browser keeps no "
    "cookies for this site (allow them if this happens again). Enter your password again."
)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"], deduct_when=is_accepted)
@limiter.limit("30 per hour", methods=["POST"])
@membership.public_write
def signup():
    """Create an account; answer the same whether or not the email already has one.

    A ``next`` on this site rides along in the emailed links, so the new member comes
    back to the page they signed up from once their address is confirmed.
    """
    if current_user.is_authenticated:
        return redirect(url_for("settings.index"))
    next_url = carried_next(safe_next(request.args.get("next")))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            result = accounts.sign_up(
                email=form.email.data,
                handle=form.handle.data,
                display_name=form.display_name.data,
                password=form.password.data,
            )
        except accounts.HandleTaken:
            form.handle.errors.append(HANDLE_TAKEN)
        else:
            db.session.commit()
            if result.user is not None:
                accounts.send_confirmation(result.user, next_url=next_url)
            elif may_send_signup_notice(result.existing.email):
                accounts.send_signup_notice(result.existing, next_url=next_url)
            return redirect(url_for("auth.check_email", next=next_url), code=303)
    elif form.is_submitted() and not form.handle.errors and _handle_is_taken(form.handle.data):
        # Say so now, with the other problems, not after they are fixed and the password
        # typed again. Handles are public: this tells nobody anything new.
        form.handle.errors.append(HANDLE_TAKEN)
    status = 400 if form.is_submitted() else 200
    return signup_page(form), status


def signup_page(form: SignUpForm) -> str:
    """The sign-up form, its log-in link keeping the page to come back to."""
    next_url = safe_next(request.args.get("next"))
    return render_template("auth/signup.html", form=form, next_url=next_url)


@bp.errorhandler(429)
def too_many_sign_ups(error: HTTPException):
    """Sign-up over its limit: the form comes back as typed (but the password), saying why.

    The limit counts per network address, so the person refused may be the first to try
    from a busy office or campus: they should not have to type it all again.
    """
    if request.endpoint != "auth.signup" or membership.wants_json():
        return render_error(error)
    form = SignUpForm()  # filled from the post; a password field never shows its value
    wait = time_to_wait() or "a while"
    form.form_errors.append(
        "Too many accounts were created from your network just now, so this one was not. "
        f"Try again in {wait}; what you typed is kept below, all but the password."
    )
    return signup_page(form), 429


HANDLE_TAKEN = "That handle is taken. Choose another."


def _handle_is_taken(handle: str | None) -> bool:
    return bool(handle) and accounts.find_by_handle(handle) is not None


@bp.get("/signup/check-email")
def check_email():
    """Tell a new member to look for the confirmation email."""
    return render_template("auth/check_email.html", next_url=safe_next(request.args.get("next")))


def failed_log_in(response: Response) -> bool:
    """Count only log-ins that did not succeed: people behind one office, campus or mobile
    network share an address, and their correct passwords must not lock each other out."""
    return response.status_code != 303


# A limit that counts failures is checked before the request and counted after it, so
# requests sent in parallel all pass its check. The ceilings per address and per email
# count every attempt as it arrives, so no burst of guesses gets past them; the one per
# address leaves room for the members of one office or campus logging in.
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 60 per hour", methods=["POST"], deduct_when=failed_log_in)
@limiter.limit("30 per minute; 300 per hour", methods=["POST"])
@limiter.limit("20 per hour", methods=["POST"], key_func=posted_email, deduct_when=failed_log_in)
@limiter.limit("40 per hour", methods=["POST"], key_func=posted_email)
@membership.public_write
def login():
    """Log in with email and password; go back to ``next`` if it is on this site."""
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or "/")
    form = LogInForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            accounts.record_log_in(user)
            rehash_if_outdated(user, form.password.data)
            db.session.commit()
            start_session(user, remember=form.remember.data)
            return redirect(next_url or "/", code=303)
        form.form_errors.append("That email and password do not match an account.")
    status = 400 if form.is_submitted() else 200
    return login_page(form), status


def login_page(form: LogInForm) -> str:
    """The log-in form, its sign-up link keeping the page to come back to."""
    next_url = safe_next(request.args.get("next"))
    return render_template("auth/login.html", form=form, next_url=next_url)


@bp.post("/logout")
@membership.allowed_while_frozen
def logout():
    """Log out everywhere: every copy of this account's session and remember cookie dies."""
    accounts.end_all_sessions(current_user._get_current_object())
    db.session.commit()
    session.clear()
    logout_user()
    # Said, since readers of other sites expect one device: a copied cookie must die too
    # (it cannot be told from the browser it was copied from), so every session ends.
    flash("You have been logged out, here and on every other device.", "success")
    return redirect("/", code=303)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@membership.public_write
def confirm_email(token: str):
    """Confirm an email address; the GET only shows a button, so scanners confirm nothing.

    The link's ``next`` (the page the member signed up from) is where they go afterwards,
    if it is on this site: the link is in a mail anyone could have edited.
    """
    form = ConfirmEmailForm()
    next_url = safe_next(request.args.get("next"))
    try:
        claims = tokens.read(tokens.CONFIRM_EMAIL, token)
        if claims.user.email_confirmed_at is not None:
            # An older link of several sent, once a newer one confirmed the address.
            return after_confirmation(claims.user, next_url, ALREADY_CONFIRMED)
        if form.validate_on_submit():
            user = accounts.confirm_email(token)
            db.session.commit()
            return after_confirmation(user, next_url)
    except tokens.TokenError as error:
        db.session.rollback()
        holder = tokens.bound_holder(tokens.CONFIRM_EMAIL, token)
        if holder is not None and holder.email_confirmed_at is not None:
            # The link was pressed twice, or found again in the inbox: nothing is wrong.
            return after_confirmation(holder, next_url, ALREADY_CONFIRMED)
        return token_failed(str(error), again=url_for("settings.index"))
    return no_referrer(render_template("auth/confirm.html", form=form, user=claims.user))


# Not "your": whoever opens the link may be signed in as someone else.
ALREADY_CONFIRMED = "This email address is already confirmed."


def after_confirmation(user: User, next_url: str | None, message: str | None = None) -> Response:
    """Go on to ``next_url`` (settings without one), through the log-in page if needed."""
    own = current_user.is_authenticated and current_user.id == user.id
    someone_else = current_user.is_authenticated and not own
    if message is None and someone_else:
        # The confirm page named the address: this says which account it was, not "your".
        message = f"{user.email} is confirmed: log in as that account to use it."
    flash(message or "Thank you: your email address is confirmed.", "success")
    if own:
        return redirect(next_url or url_for("settings.index"), code=303)
    return redirect(url_for("auth.login", next=next_url), code=303)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"], deduct_when=is_accepted)
@limiter.limit("15 per hour", methods=["POST"])
@membership.public_write
def forgot_password():
    """Send a reset link if the address has an account; answer the same either way."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        if may_send_reset_mail(form.email.data):
            accounts.send_password_reset(form.email.data)
        return redirect(url_for("auth.reset_sent"), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template("auth/forgot.html", form=form), status


@bp.get("/reset/sent")
def reset_sent():
    """Tell the visitor to look for the reset email."""
    return render_template("auth/reset_sent.html")


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@membership.public_write
def reset_password(token: str):
    """Set a new password from an emailed link, then sign in on a fresh session."""
    try:
        claims = tokens.read(tokens.RESET_PASSWORD, token)
        form = ResetPasswordForm(account=claims.user)
        if form.validate_on_submit():
            user = accounts.reset_password(token, form.password.data)
            db.session.commit()
            accounts.send_password_changed_notice(user)
            start_session(user)
            flash(NOTICE_PASSWORD_CHANGED, "success")
            return redirect(url_for("settings.index"), code=303)
    except tokens.TokenError as error:
        db.session.rollback()
        return token_failed(str(error), again=url_for("auth.forgot_password"))
    status = 400 if form.is_submitted() else 200
    return no_referrer(render_template("auth/reset.html", form=form)), status


def token_failed(message: str, again: str) -> Response:
    """Answer a bad, expired or spent link with a clear page and a way to get a new one."""
    page = render_template("auth/link_failed.html", message=message, again=again)
    return no_referrer(Response(page, status=400))


def no_referrer(page: str | Response) -> Response:
    """Keep the token in this page's URL out of the Referer header of any link on it."""
    response = page if isinstance(page, Response) else Response(page)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
