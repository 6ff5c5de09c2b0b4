"""Reading pages, open to everyone: home, topics, videos, article, search and /feed.xml."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup, escape

from articles import reading, topics
from articles.clean import clean_html
from articles.media import credit_line
from articles.models import Article
from articles.search import search_articles
from articles.text import slug_of, strip_control, tidy
from club import membership
from club.clock import utcnow
from club.web import query_id

bp = Blueprint("articles", __name__, static_folder="static", static_url_path="/articles/static")

YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
FEED_MAX_AGE = 300  # seconds a reader or proxy may reuse /feed.xml


@bp.get("/")
def home():
    """Featured articles first, then the latest, with an "Older" link."""
    cursor = reading.Cursor.decode(request.args.get("before"))
    featured = reading.featured_articles()  # every page leaves them out of the latest
    page = reading.latest_page(cursor, exclude=[article.id for article in featured])
    return render_template(
        "articles/home.html",
        featured=featured if cursor is None else [],
        page=page,
        tab="latest",
        topics=reading.all_topics(),
    )


@bp.get("/videos")
def videos():
    """Only the videos."""
    page = reading.latest_page(reading.Cursor.decode(request.args.get("before")), videos_only=True)
    return render_template("articles/home.html", featured=[], page=page, tab="videos")


@bp.get("/topics/<slug>")
def topic(slug: str):
    """The latest articles on one topic (a former address redirects to it for good)."""
    found = reading.topic_by_slug(slug)
    if found is None:
        moved = topics.topic_moved_from(slug)
        if moved is None:
            abort(404)
        # Only the page's own parameter: url_for reads "_external" and "_scheme" too.
        before = request.args.get("before")
        response = redirect(url_for("articles.topic", slug=moved.slug, before=before), code=301)
        # A browser keeps a 301 without caching rules for good, but an admin can rename a
        # topic back or give the old address to a new topic: a kept 301 would then loop
        # or hide that topic. Search engines still read the move as permanent.
        response.cache_control.no_cache = True
        return response
    page = reading.latest_page(reading.Cursor.decode(request.args.get("before")), topic=found)
    return render_template("articles/topic.html", topic=found, page=page)


@bp.get("/articles/<int:article_id>")
@bp.get("/articles/<int:article_id>/<slug>")
def article(article_id: int, slug: str | None = None):
    """One article (admins may also preview unpublished ones)."""
    found = reading.article_for_page(article_id)
    if found is None or not (found.is_published or _is_admin()):
        abort(404)
    return render_template("articles/article.html", article=found)


@bp.get("/search")
def search():
    """Full-text search over published articles."""
    results = search_articles(request.args.get("q", ""), query_id("page") or 1)
    return render_template("articles/search.html", results=results)


@bp.get("/feed.xml")
def atom_feed():
    """An Atom feed of the latest published articles, crediting each source."""
    page = reading.latest_page(None, size=50)
    # The feed changed when its latest entry did (RFC 4287 4.2.15): an entry's update
    # counts, not only the newest publication.
    changes = [article.updated_at or article.published_at for article in page.articles]
    updated = max(changes, default=None) or utcnow()
    # Characters XML forbids make the whole feed unreadable; ingestion strips them, and
    # this keeps any stored before it did from breaking every subscriber's reader.
    xml = strip_control(
        render_template("articles/feed.xml", articles=page.articles, updated=updated)
    )
    response = Response(xml, mimetype="application/atom+xml")
    # Feed readers poll: an unchanged feed answers 304 to If-None-Match.
    response.cache_control.public = True
    response.cache_control.max_age = FEED_MAX_AGE
    response.add_etag()
    return response.make_conditional(request)


def _is_admin() -> bool:
    return current_user.is_authenticated and membership.can_administer(current_user)


def article_body(article: Article) -> Markup:
    """The article's sanitised HTML (re-cleaned on the way out), or its excerpt."""
    if not article.content or (article.feed is not None and not article.feed.full_content):
        return Markup("<p>") + escape(article.summary) + Markup("</p>")
    return Markup(clean_html(article.content or ""))  # noqa: S704 (nh3 output)


def shows_image(body: Markup, url: str | None) -> bool:
    """Tell whether the article's body already shows the image at ``url``.

    The lead image is often the body's own first picture (that is where ``clean`` finds
    it when the feed names none): shown above the body too, it would appear twice.
    """
    return bool(url) and f'src="{escape(url)}"' in body


def youtube_embed_url(video_id: str | None) -> str | None:
    """The privacy-enhanced player URL for a YouTube id (the site builds it, never the feed)."""
    if video_id and YOUTUBE_ID.match(video_id):
        return f"https://www.youtube-nocookie.com/embed/{video_id}"
    return None


def article_url(article: Article, external: bool = False) -> str:
    """The article's page on this site, with a readable slug."""
    return url_for(
        "articles.article", article_id=article.id, slug=_slug(article.title), _external=external
    )


def _slug(title: str | None) -> str:
    """The title in the address, for people to read (the id alone finds the page)."""
    return slug_of(title or "", 80) or "article"


def absolute_url(path: str) -> str:
    """``path`` on the public site (BASE_URL), for feeds and Open Graph tags."""
    return current_app.config.get("BASE_URL", "").rstrip("/") + path


def rfc3339(when: datetime) -> str:
    """``when`` as Atom writes dates: ``2026-11-27T08:00:00Z`` (the year always four digits,
    which ``strftime("%Y")`` does not give for years before 1000)."""
    return when.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def init_app(app) -> None:
    """Register the reading pages and their template helpers."""
    from club.web import add_nav_link

    app.register_blueprint(bp)
    add_nav_link(app, "Videos", "articles.videos")
    add_nav_link(app, "Search", "articles.search")
    app.jinja_env.globals.update(
        article_body=article_body,
        credit_line=credit_line,
        shows_image=shows_image,
        youtube_embed_url=youtube_embed_url,
        article_url=article_url,
        absolute_url=absolute_url,
    )
    app.add_template_filter(rfc3339)
    # Jinja's truncate drops a whole word that crosses the limit: a summary whose 221st
    # character fell in a long address showed as "A summary with…".
    app.add_template_filter(tidy)
