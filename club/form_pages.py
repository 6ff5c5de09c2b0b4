"""The page that holds each form, for its address opened with GET.

A form the server refuses is drawn again, with its errors, at the address it was posted
to (``/settings/password``). That address then sits in the address bar: reloading the
page, bookmarking it or sharing it asks for it with GET, which its view does not take.
Instead of a "Wrong kind of request" page, such a request is sent on to the page the
form is on (``/settings#password``). Scripts asking for JSON still get the plain 405.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, redirect, request, url_for
from flask.globals import request_ctx
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

View = TypeVar("View", bound=Callable[..., Any])


def form_on(page: str, *, anchor: str | None = None, args: tuple[str, ...] = ()):
    """Mark a POST-only view with the page its form is on.

    ``page`` is that page's endpoint, ``anchor`` the form's id on it, and ``args`` the
    view arguments the page's address takes too (``user_id`` for a member's admin page).
    """

    def mark(view: View) -> View:
        view.form_page = (page, anchor, args)  # type: ignore[attr-defined]
        return view

    return mark


def form_page_for_get() -> Response | None:
    """Send a GET of a form's POST-only address on to the form's page; None if unmarked."""
    if request.method not in ("GET", "HEAD") or request_ctx.url_adapter is None:
        return None
    try:
        endpoint, view_args = request_ctx.url_adapter.match(method="POST")
    except HTTPException:
        return None
    marked = getattr(current_app.view_functions.get(endpoint), "form_page", None)
    if marked is None:
        return None
    page, anchor, names = marked
    return redirect(url_for(page, _anchor=anchor, **{n: view_args[n] for n in names}), 303)
