"""Site-wide web plumbing: security headers, error pages, template helpers, and what every
view reads the same way (ids in URLs and forms, rate-limit keys)."""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import limits
import sqlalchemy as sa
from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask.globals import request_ctx
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from club import membership
from club.extensions import db, limiter
from club.form_pages import form_page_for_get

log = logging.getLogger(__name__)

ERROR_TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Not allowed",
    404: "Page not found",
    405: "Wrong kind of request",
    413: "Too large",
    429: "Slow down",
    500: "Something went wrong",
}

# No inline script anywhere: every script is a file under /static.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' https: data:",
        "media-src 'self' https:",
        "frame-src https://www.youtube-nocookie.com",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self' https://checkout.stripe.com https://billing.stripe.com",
        "frame-ancestors 'none'",
    ]
)


def add_security_headers(response: Response) -> Response:
    """Set the security headers on every response, error pages and static files included."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure or current_app.config.get("PRODUCTION"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if session.get("_user_id") and "Cache-Control" not in headers:
        # A signed-in page carries the member's name and a CSRF token: no shared cache, and
        # no copy left on a shared computer's disk. (The session, not current_user, so that
        # an error page never needs the database.)
        headers["Cache-Control"] = "private, no-store"
    return response


# A script's write refused for a session that is no longer valid: the page that sent it
# still shows the member's name, so it most likely ended elsewhere ("Log out" ends them
# all). Without one the request never had a log-in at all.
LOGGED_OUT = "You are logged out (perhaps on another device)."
NOT_LOGGED_IN = "You need to log in to do that."


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or any(ch in target for ch in "\\\t\r\n") or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def referring_path() -> str | None:
    """Return the path (and query) of the page on this site that sent the request, if any."""
    parts = urlsplit(request.referrer or "")
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


def page_to_return_to() -> str | None:
    """Return the page a member should come back to after logging in, None for the front page.

    A form says where it was sent from in ``next``; a script's request has only its
    Referer; a page asked for is its own answer. The log-in pages lead nowhere back.
    """
    if request.blueprint == "auth":
        return None
    if request.method == "GET":
        target = safe_next(request.full_path if request.query_string else request.path)
    else:
        target = posted_next() or referring_path()
    return None if target == "/" else carried_next(target)


def posted_next() -> str | None:
    """Return the posted form's ``next`` if it is safe; None for a body refused unread."""
    try:
        return safe_next(request.form.get("next"))
    except HTTPException:  # the 413 page for a body too large to read links here too
        return None


def login_url() -> str:
    """Return the log-in page's address, bringing the member back to this page afterwards."""
    return url_for("auth.login", next=page_to_return_to())


def signup_url() -> str:
    """Return the sign-up page's address, bringing the new member back to this page once
    they have confirmed their email (the ``next`` travels in the confirmation link)."""
    return url_for("auth.signup", next=page_to_return_to())


# The longest page address a log-in or sign-up link carries along. %-encoded (up to three
# times as long), and in the emailed link beside a token, a longer one can pass the
# 4094-byte request line gunicorn accepts: the link would be refused with a 400.
MAX_CARRIED_NEXT = 1000


def carried_next(target: str | None) -> str | None:
    """``target`` if it is short enough to ride along in a sign-up or emailed link."""
    return target if target and len(target) <= MAX_CARRIED_NEXT else None


def render_error(error: HTTPException):
    """Render an HTTP error in the site's own look (JSON for scripts)."""
    code = error.code or 500
    if request_ctx.url_adapter is None:
        # The Host header was refused (TRUSTED_HOSTS): no URLs can be built for a page.
        return Response(f"{ERROR_TITLES.get(code, error.name)}\n", code, mimetype="text/plain")
    if code == 405 and not membership.wants_json():
        to_form = form_page_for_get()
        if to_form is not None:
            return to_form
    if membership.wants_json():
        body = {"error": ERROR_TITLES.get(code, error.name), "message": error.description}
        if code == 401:
            ended = session.get("_user_id") is not None
            body.update(message=LOGGED_OUT if ended else NOT_LOGGED_IN, login=login_url())
        response = make_response(body, code)
    else:
        title = ERROR_TITLES.get(code, error.name)
        retry_in = time_to_wait() if code == 429 else None
        response = render_page(
            "errors/error.html", code, code=code, title=title, error=error, retry_in=retry_in
        )
    response.vary.add("Accept")  # one URL, two bodies: a cache must keep them apart
    return response


def time_to_wait() -> str | None:
    """How long until the limit this request broke lets it through, in words.

    The same reset time Flask-Limiter sends as Retry-After: "a moment" read wrong when
    the wait is most of an hour. None if no limit says, or its counters cannot be read.
    """
    broken = limiter.current_limit
    if broken is None:
        return None
    try:
        reset_at = broken.reset_at
    except Exception:  # the counters' store is down: the page still answers
        log.warning("could not read the broken limit's reset time", exc_info=True)
        return None
    return wait_in_words(reset_at - time.time())


def wait_in_words(seconds: float) -> str:
    """Say a wait of ``seconds`` roughly, never shorter than it is ("about 58 minutes").

    Whole seconds first, as Retry-After counts them (Flask-Limiter sends the whole
    seconds to its reset time): that reset time is itself rounded up to the next whole
    second, so a one-minute window reads 60.4 s, and "about 2 minutes" would double it.
    Then up to whole minutes, so no wait is shorter than said to the second: 60 s is "a
    minute", 61 s "about 2 minutes". From two hours, whole hours, up too but for the first
    minute past one: 150 minutes is "about 3 hours" (the nearest hour, 2, was half an hour
    short), 121 "about 2 hours".
    """
    minutes = math.ceil(int(seconds) / 60)
    if minutes <= 1:
        return "a minute"
    if minutes == 60:
        return "about an hour"
    if minutes < 120:
        return f"about {minutes} minutes"
    return f"about {math.ceil((minutes - 1) / 60)} hours"


def limit_in_words(limit: str) -> str:
    """Say a rate limit as members read it: "5 per minute; 100 per day" is "5 a minute and
    100 a day" (Flask-Limiter's own wording is "5 per 1 minute")."""
    return " and ".join(_one_limit_in_words(item) for item in limits.parse_many(limit))


def _one_limit_in_words(item: limits.RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    if item.multiples == 1:
        return f"{item.amount} {'an' if unit == 'hour' else 'a'} {unit}"
    return f"{item.amount} every {item.multiples} {unit}s"


CSRF_FAILED = (
    "This form has expired or did not come from this site, so nothing was saved. "
    "Go back, reload the page and try again."
)


CSRF_FAILED_KEPT = (
    "This form had expired, so nothing was posted. Your text is below: send it again."
)


# What people write at length: a comment, an appeal, a bio, a report's details, an
# admin's reply to an appeal. A post refused for the session or the form's age shows it
# back to copy, so nothing typed is lost.
KEPT_FIELDS = ("body", "text", "bio", "details", "reply")


def kept_form_text() -> str:
    """The text the refused form carried, to show for copying; "" if it carried none."""
    if request.method != "POST":
        return ""
    return next((request.form[name] for name in KEPT_FIELDS if request.form.get(name)), "")


def render_csrf_error(error: CSRFError):
    """Explain a missing or stale CSRF token in plain words (400).

    A comment typed into a page left open too long is not thrown away: the page shows it
    in the same form again, with a fresh token.
    """
    if membership.wants_json():
        return {"error": "csrf", "message": CSRF_FAILED}, 400
    if request.form.get("body"):
        return render_page("community/problem.html", 400, message=CSRF_FAILED_KEPT, back="/")
    return render_page(
        "errors/error.html", 400, code=400, title=ERROR_TITLES[400], message=CSRF_FAILED
    )


def render_page(template: str, status: int, **context) -> Response:
    """Render an error page, or the 503 page when the database it asks is down.

    Every page asks the database who is signed in: a 404 or a stale form met while the
    database is down must not turn into a bare 500.
    """
    try:
        return make_response(render_template(template, **context), status)
    except (sa.exc.OperationalError, sa.exc.TimeoutError) as down:
        return make_response(render_database_unavailable(down))


DATABASE_DOWN = "The site cannot reach its database right now. Please try again in a minute."
RETRY_AFTER_SECONDS = "30"


def render_database_unavailable(error: Exception):
    """Answer 503 with Retry-After while the database is unreachable, not a bare 500.

    The page does not extend ``base.html``, and it is rendered without the context
    processors: those ask the database who is signed in, and it is down.
    """
    log.error("database unavailable: %s", error)
    with contextlib.suppress(sa.exc.SQLAlchemyError):
        db.session.rollback()
    headers = {"Retry-After": RETRY_AFTER_SECONDS, "Cache-Control": "no-store"}
    if membership.wants_json():
        return {"error": "unavailable", "message": DATABASE_DOWN}, 503, headers
    page = current_app.jinja_env.get_template("errors/unavailable.html")
    return page.render(message=DATABASE_DOWN), 503, headers


ACCOUNT_GONE = "Your account was deleted while this was on its way, so nothing was saved."


def render_integrity_error(error: sa.exc.IntegrityError):
    """A write a constraint refused: from an account deleted meanwhile, a clean 401.

    Deleting an account locks its row first; a like or comment the account sent meanwhile
    waits, then breaks the foreign key to the row that is gone. Any other violation is a
    bug, and stays the 500 it was.
    """
    with contextlib.suppress(sa.exc.SQLAlchemyError):
        db.session.rollback()
    if not signed_in_account_is_gone():
        raise error
    logout_user()
    if membership.wants_json():
        return {"error": "account_gone", "message": ACCOUNT_GONE}, 401
    return render_page(
        "errors/error.html", 401, code=401, title="Account deleted", message=ACCOUNT_GONE
    )


def signed_in_account_is_gone() -> bool:
    """Tell whether the request's account no longer has a row (without loading it)."""
    from club.models import User

    state = sa.inspect(current_user._get_current_object(), raiseerr=False)
    if state is None or not state.identity:
        return False
    found = sa.select(User.id).where(User.id == state.identity[0])
    return db.session.scalar(found) is None


# Every id column is a PostgreSQL integer: a larger id names nothing, and PostgreSQL would
# refuse it with an error rather than find no row.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """The ``<int:…>`` URL converter, capped at ``MAX_ID``: a larger id is a 404."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def parse_id(raw: str | None) -> int | None:
    """Return ``raw`` as an id (ASCII digits, 1 to ``MAX_ID``), or None for anything else.

    Not ``str.isdigit``, which also accepts digits such as "²" that ``int`` refuses.
    """
    if not raw or len(raw) > 10 or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def query_id(name: str) -> int | None:
    """Return the query-string parameter ``name`` as an id, or None."""
    return parse_id(request.args.get(name))


def per_account(action: str) -> Callable[[], str]:
    """Rate-limit key for ``action``: the signed-in account, else the client's address.

    The account id, not ``get_id()``: that carries the session token, which every log-in
    renews, so logging out and in again would reset the limit.
    """

    def key() -> str:
        who = f"user:{current_user.id}" if current_user.is_authenticated else request.remote_addr
        return f"{action}:{who}"

    return key


def is_accepted(response: Response) -> bool:
    """Rate-limit filter: count a form only when it was accepted (the 303 after success).

    A member refused for a weak password or a typo tries again at once; counting those
    tries would lock them out for the hour. Pair it with a higher limit that counts every
    post, since a filtered limit is counted only after its answer and a burst passes it.
    """
    return response.status_code == 303


def refuse_nul() -> None:
    """Answer 404/400 to a NUL in the path or a form: PostgreSQL rejects it in text.

    Query strings are left to the views (search strips control characters from its query).
    """
    if "\x00" in request.path:
        abort(404)
    if any("\x00" in value for value in request.form.values()):
        abort(400, NUL_IN_FORM)


NUL_IN_FORM = (
    "What you sent holds an invisible NUL character, often pasted in from another "
    "program, and it cannot be saved. Remove it, or type that part again, and send it again."
)


class PublicResponseSafeSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, never written onto a response any cache may keep.

    A publicly cacheable response (``/feed.xml``, static files) can still change the
    session: a remember-me cookie signs the member in while its page renders. Saving
    that session would put the member's session cookie on a response a shared cache or
    CDN might hand to other visitors; it is saved by their next private page instead.
    """

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if response.cache_control.public:
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    """Install headers, error handlers, template globals and the health check."""
    from club import health

    app.session_interface = PublicResponseSafeSessions()

    hops = app.config.get("TRUSTED_PROXY_HOPS", 0)
    if hops:
        # Only behind exactly this many proxies we run; otherwise clients could forge addresses.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.register_blueprint(health.bp)
    app.before_request(refuse_nul)
    app.after_request(add_security_headers)
    app.register_error_handler(CSRFError, render_csrf_error)
    for unreachable in (sa.exc.OperationalError, sa.exc.TimeoutError):
        app.register_error_handler(unreachable, render_database_unavailable)
    app.register_error_handler(sa.exc.IntegrityError, render_integrity_error)
    app.register_error_handler(HTTPException, render_error)

    @app.errorhandler(500)
    def internal_error(error: Exception):
        # The page itself reads the database (who is signed in, their unread count), and a
        # failed statement leaves the transaction unusable until it is rolled back.
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            db.session.rollback()
        # Never show a traceback, SQL or a secret to the visitor; the log has the detail.
        try:
            return render_template("errors/error.html", code=500, title=ERROR_TITLES[500]), 500
        except Exception:
            # The page failed too (it asks the database who is signed in): a plain one.
            log.exception("the error page could not be rendered")
            page = current_app.jinja_env.get_template("errors/unavailable.html")
            return page.render(message=ERROR_TITLES[500] + "."), 500

    app.jinja_env.globals["badge_for"] = lambda user: membership.standing(user).badge
    app.jinja_env.globals["can_administer"] = membership.can_administer
    app.jinja_env.globals["site_name"] = app.config["SITE_NAME"]
    app.jinja_env.globals["kept_form_text"] = kept_form_text
    app.jinja_env.globals["login_url"] = login_url
    app.jinja_env.globals["signup_url"] = signup_url
    app.jinja_env.globals["admin_nav_waiting"] = admin_nav_waiting
    app.extensions["club_nav"] = []
    app.extensions["club_admin_nav"] = [("Dashboard", "admin.dashboard")]
    app.extensions["club_admin_waiting"] = []
    app.extensions["club_audit_links"] = {}
    app.extensions["club_admin_notices"] = []

    @app.context_processor
    def inject_navigation() -> dict:
        def links(key: str) -> list[dict]:
            items = [
                {"label": label, "endpoint": endpoint, "url": url_for(endpoint), "current": False}
                for label, endpoint in app.extensions[key]
            ]
            # The page's own link: the longest address the path is at or under.
            under = [i for i in items if request.path.startswith(i["url"].rstrip("/") or "/")]
            if under:
                max(under, key=lambda i: len(i["url"]))["current"] = True
            return items

        return {
            "nav_items": links("club_nav"),
            "admin_nav": links("club_admin_nav"),
            "admin_notices": app.extensions["club_admin_notices"],
        }


def add_nav_link(app: Flask, label: str, endpoint: str, admin: bool = False) -> None:
    """Add a link to the main navigation (or the admin navigation)."""
    app.extensions["club_admin_nav" if admin else "club_nav"].append((label, endpoint))


def add_admin_notice(app: Flask, text: str) -> None:
    """Show ``text`` at the top of every admin page: a setting admins must know about."""
    app.extensions["club_admin_notices"].append(text)


def add_admin_waiting(
    app: Flask,
    label: str,
    endpoint: str,
    count: Callable[[], int],
    what: str,
    what_plural: str | None = None,
    **url_arguments: str,
) -> None:
    """Add a line to the admin dashboard: how many ``what`` (``what_plural`` for any
    number but one) wait at ``endpoint`` (with ``url_arguments``, such as a filter that
    lists just them)."""
    waiting = (label, endpoint, url_arguments, count, what, what_plural or what)
    app.extensions["club_admin_waiting"].append(waiting)


def admin_waiting() -> list[dict]:
    """The dashboard's lines: what waits for an admin, counted once per request (the menu
    and the dashboard show the same counts)."""
    if "admin_waiting" not in g:
        g.admin_waiting = _count_admin_waiting()
    return g.admin_waiting


def _count_admin_waiting() -> list[dict]:
    lines = []
    for label, endpoint, arguments, count, one, many in current_app.extensions[
        "club_admin_waiting"
    ]:
        number = count()
        what = one if number == 1 else many
        url = url_for(endpoint, **arguments)
        lines.append(
            {"label": label, "endpoint": endpoint, "url": url, "count": number, "what": what}
        )
    return lines


def admin_nav_waiting() -> dict[str, dict]:
    """The dashboard's lines with something waiting, by the endpoint of the admin link
    they count for: the admin menu shows them on every admin page."""
    return {line["endpoint"]: line for line in admin_waiting() if line["count"]}


def add_audit_link(app: Flask, target_type: str, endpoint: str, argument: str, model: type) -> None:
    """Link the audit log's rows about ``target_type`` (rows of ``model``) to ``endpoint``,
    the target's id passed as ``argument``: each package links what it owns."""
    app.extensions["club_audit_links"][target_type] = (endpoint, argument, model)


def audit_target_urls(entries: list[Any]) -> dict[int, str | None]:
    """The page of what each audit row is about, by row id: None when it is gone.

    Rows whose type no package links are left out. A feed or article deleted since
    would answer 404; one query per type on the page says which still exist.
    """
    links = current_app.extensions["club_audit_links"]
    linked = [e for e in entries if e.target_type in links and str(e.target_id or "").isdigit()]
    existing: dict[str, set[int]] = {}
    for target_type in {entry.target_type for entry in linked}:
        model = links[target_type][2]
        ids = {int(entry.target_id) for entry in linked if entry.target_type == target_type}
        found = db.session.scalars(sa.select(model.id).where(model.id.in_(ids)))
        existing[target_type] = set(found)
    urls: dict[int, str | None] = {}
    for entry in linked:
        endpoint, argument, _ = links[entry.target_type]
        target_id = int(entry.target_id)
        exists = target_id in existing[entry.target_type]
        urls[entry.id] = url_for(endpoint, **{argument: target_id}) if exists else None
    return urls
