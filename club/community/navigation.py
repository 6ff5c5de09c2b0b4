"""Where to send a member after a form: back where they were, never off the site."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request, url_for

from articles.models import Article


def is_safe_path(target: str | None) -> bool:
    """Tell whether ``target`` is a path on this site (no scheme, host or ``//`` trick)."""
    if not target or any(ch in target for ch in "\\\t\r\n") or not target.isprintable():
        return False
    parts = urlsplit(target)
    return (
        not parts.scheme
        and not parts.netloc
        and target.startswith("/")
        and not target.startswith("//")
    )


def article_url(article: Article, anchor: str = "", comment_page: int = 1) -> str:
    """Return the article's page, through the ``article_url`` helper articles registers.

    ``comment_page`` past the first adds ``?comments=N``: which page of comment threads.
    """
    builder = current_app.jinja_env.globals.get("article_url")
    url = builder(article) if builder else url_for("articles.article", article_id=article.id)
    if comment_page > 1:
        url += f"?comments={comment_page}"
    return url + (f"#{anchor}" if anchor else "")


def back_to(fallback: str, anchor: str = "") -> str:
    """Return the form's ``next`` path if it is safe, else ``fallback``; add ``anchor``."""
    target = request.form.get("next") or request.args.get("next")
    if not is_safe_path(target):
        return fallback + (f"#{anchor}" if anchor and "#" not in fallback else "")
    return target.split("#", 1)[0] + (f"#{anchor}" if anchor else "")
