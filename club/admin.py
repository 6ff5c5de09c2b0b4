"""The admin shell: every admin page lives on a blueprint made by ``admin_blueprint``.

The factory attaches the admin check once, in ``before_request``, so no admin view can
forget it (a test walks every /admin rule as a member and expects 403).
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, render_template
from flask_login import current_user

from club import membership


def require_admin() -> None:
    """Refuse the request unless the signed-in account may administer."""
    if not current_user.is_authenticated:
        abort(401)
    if not membership.can_administer(current_user):
        abort(403)


def admin_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """Return a blueprint mounted under /admin whose every view requires an admin."""
    bp = Blueprint(name, import_name, url_prefix="/admin" + url_prefix)
    bp.before_request(require_admin)
    return bp


bp = admin_blueprint("admin", __name__)


@bp.get("/")
def dashboard():
    """Show the admin dashboard."""
    return render_template("admin/dashboard.html")


def init_app(app: Flask) -> None:
    """Register the admin shell."""
    app.register_blueprint(bp)
