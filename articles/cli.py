"""``flask --app club feeds ...``: add, list, refresh, OPML, and offline ingestion."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app

from articles import curation, discover, opml, refresh, topics
from articles.models import Feed
from articles.parse import ParseError
from articles.urls import safe_url
from club import audit
from club.cli import SiteGroup
from club.clock import utcnow
from club.extensions import db

feeds = SiteGroup("feeds", help="Manage the site's feeds.")


def topic_option(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Refuse a topic name with no letter or digit: it would have no address of its own."""
    if value.strip() and not topics.is_topic_name(value):
        raise click.BadParameter(f"“{value.strip()}” is not a topic name: use letters or digits.")
    return value


@feeds.command("add")
@click.argument("url")
@click.option("--topic", default="", callback=topic_option, help="Topic for the feed's articles.")
@click.option("--auto-publish", is_flag=True, help="Publish new articles without review.")
@click.option("--excerpt", is_flag=True, help="Show only the excerpt, not the full article.")
@click.option(
    "--no-check",
    is_flag=True,
    help="Add the address as given, without reading it first (for a feed not reachable yet).",
)
def add_command(url: str, topic: str, auto_publish: bool, excerpt: bool, no_check: bool) -> None:
    """Add a feed by its URL or its site's URL (read first, as the admin's form does).

    Its articles are fetched at the next refresh.
    """
    title = site_url = ""
    if not no_check:
        found = _readable_new_feed(url)
        url, title, site_url = found.feed_url, found.title, found.site_url
    try:
        feed = curation.create_feed(
            url,
            title=title,
            site_url=site_url,
            topic_name=topic,
            auto_publish=auto_publish,
            full_content=not excerpt,
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    audit.record(None, "feed.add", feed, f"{feed.url} (command line)")
    db.session.commit()
    click.echo(f"Added feed {feed.id}: {feed.name} <{feed.url}>")


def _readable_new_feed(url: str) -> discover.Discovery:
    """The feed ``url`` leads to, read once; exit with the reason if there is none to add."""
    try:
        found = curation.discover_new_feed(curation.valid_feed_address(url), current_app.config)
    except curation.FeedExists as known:
        raise click.ClickException(f"{known} <{known.feed.url}>") from None
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    except discover.DiscoveryError as error:
        raise click.ClickException(
            f"could not read a feed at {url.strip()}: {error} (--no-check adds the address anyway)"
        ) from None
    if found.feed_url != curation.feed_address(url):
        click.echo(f"{url.strip()} leads to the feed {found.feed_url}")
    return found


@feeds.command("list")
def list_command() -> None:
    """List feeds with their health."""
    for feed in db.session.scalars(sa.select(Feed).order_by(Feed.id)):
        last = feed.last_fetched_at.strftime("%Y-%m-%d %H:%M") if feed.last_fetched_at else "never"
        error = f"  error: {feed.last_error}" if feed.last_error else ""
        click.echo(f"{feed.id:>4}  {feed.status:<8} {last:<16} {feed.url}{error}")


@feeds.command("refresh")
@click.argument("feed_id", required=False, type=click.IntRange(min=1))
@click.option("--due", is_flag=True, help="Refresh every feed whose next fetch time has come.")
@click.option("--all", "all_feeds", is_flag=True, help="Refresh every feed that is not paused.")
def refresh_command(feed_id: int | None, due: bool, all_feeds: bool) -> None:
    """Refresh one feed, the due feeds, or all of them (one pass)."""
    if sum((feed_id is not None, due, all_feeds)) != 1:
        raise click.UsageError("give exactly one of FEED_ID, --due or --all")
    if feed_id is not None:
        ids = [feed_id]
    elif due:
        ids = refresh.due_feed_ids()
    else:
        ids = list(db.session.scalars(sa.select(Feed.id).where(Feed.status != "paused")))
    failures = 0
    for one in ids:
        result = refresh.refresh_feed(one, force=not due)
        failures += result.outcome in ("error", "missing")
        click.echo(f"feed {one}: {result.outcome}: {result.describe()}")
    click.echo(f"{len(ids)} feed(s) refreshed, {failures} failed")
    if failures:
        sys.exit(1)  # so cron and scripts notice


@feeds.command("import-opml")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--keep-settings",
    is_flag=True,
    help="Apply the settings saved in the file (auto-publish, full text, interval, paused); "
    "only for an export of this site.",
)
def import_opml_command(path: Path, keep_settings: bool) -> None:
    """Add every feed an OPML file lists."""
    from articles.opml_import import import_outlines

    try:
        outlines = opml.read_opml(path.read_bytes())
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    result = import_outlines(outlines, keep_settings=keep_settings)
    audit.record(None, "feed.import_opml", None, f"{result.describe()} (command line)")
    db.session.commit()
    click.echo(f"{result.describe()}.")


@feeds.command("export-opml")
def export_opml_command() -> None:
    """Print the feed list as OPML."""
    rows = db.session.scalars(sa.select(Feed).order_by(Feed.title)).all()
    sys.stdout.buffer.write(opml.write_opml(rows, f"{current_app.config['SITE_NAME']} feeds"))
    sys.stdout.buffer.write(b"\n")


@feeds.command("ingest-file")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source-url", required=True, help="The feed's URL (its identity and base URL).")
@click.option("--topic", default="", callback=topic_option, help="Topic for a feed this creates.")
@click.option("--auto-publish/--review", default=True, help="For a feed this creates.")
@click.option(
    "--max-age-days", type=click.IntRange(min=1), default=None, help="Skip entries older than this."
)
def ingest_file_command(
    path: Path, source_url: str, topic: str, auto_publish: bool, max_age_days: int | None
) -> None:
    """Run parse → clean → store on a local feed document and print a JSON summary."""
    summary = ingest_file(path, source_url, topic, auto_publish, max_age_days)
    db.session.commit()
    click.echo(json.dumps(summary, indent=2))
    if summary["errors"]:
        sys.exit(1)


def _feed_for_file(source_url: str, topic: str, auto_publish: bool) -> Feed:
    """The feed at ``source_url`` however it is spelt, created (and audited) if new."""
    feed = curation.feed_at(source_url)
    if feed is not None:
        return feed
    try:
        feed = curation.create_feed(source_url, topic_name=topic, auto_publish=auto_publish)
    except ValueError as error:  # an address create_feed refuses
        raise click.BadParameter(str(error), param_hint="--source-url") from None
    audit.record(None, "feed.add", feed, f"{feed.url} (ingest-file)")
    return feed


def ingest_file(
    path: Path,
    source_url: str,
    topic: str = "",
    auto_publish: bool = True,
    max_age_days: int | None = None,
) -> dict:
    """Ingest one local document for the feed at ``source_url`` (created if new).

    Runs in a savepoint, so a document that fails leaves nothing behind; the caller commits.
    """
    if safe_url(source_url) is None:
        raise click.BadParameter("must be an http(s) URL", param_hint="--source-url")
    archive_before = utcnow() - timedelta(days=max_age_days) if max_age_days else None
    try:
        with db.session.begin_nested():
            feed = _feed_for_file(source_url, topic, auto_publish)
            summary = refresh.ingest_document(
                feed, path.read_bytes(), archive_before=archive_before
            )
    except ParseError as error:
        result = {"new": 0, "updated": 0, "unchanged": 0, "skipped": 0, "errors": 1}
        return {**result, "error": str(error)}
    result = summary.as_dict()
    result["feed_id"] = feed.id
    return result
