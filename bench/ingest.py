"""Ingestion benchmark: feedparser with its defaults vs. our whole pipeline into SQLite.

Generates 200 feeds x 50 entries (about 1.5 KB of HTML each) in memory, then prints, in
one run: ``feedparser.parse`` entries/s with its defaults (its own sanitiser and URI
resolution on), the pipeline's entries/s (parse with those off → nh3 clean → store into a
throwaway SQLite database, each document in its own app context and committed once, as a
worker's refresh job runs it), and their ratio.
Target: ratio ≥ 2 and 10,000 entries stored in under 5 s.

The machine is shared and noisy, so each measurement runs ``--rounds`` times, interleaved,
and the best run of each counts. The step breakdown times parse, clean and store
(+ commit) each on its own, so it shows where the pipeline's time goes.

Usage: python bench/ingest.py [--feeds 200] [--entries 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time

import feedparser

PARAGRAPH = (
    "<p>Regular walking strengthens the muscles that support the spine and improves "
    'blood flow to the discs. <a href="/guides/walking?utm_source=feed">Read our guide</a> '
    "or <em>talk to a physiotherapist</em> if pain persists.</p>"
)


def entry_html(n: int) -> str:
    """About 1.5 KB of typical article HTML, with relative links and an image."""
    body = PARAGRAPH * 5
    return (
        f'<h2>Part {n}</h2>{body}<figure><img src="/img/{n}.jpg" alt="Photo {n}">'
        f"<figcaption>Photo {n}</figcaption></figure><ul><li>One</li><li>Two</li></ul>"
    )


def make_feed(feed_no: int, entries: int) -> bytes:
    items = "".join(
        f"<item><title>Feed {feed_no} entry {n}: walking and back pain</title>"
        f"<link>https://site{feed_no}.example.com/posts/{n}</link>"
        f'<guid isPermaLink="false">f{feed_no}-e{n}</guid>'
        f"<pubDate>Mon, 23 Nov 2026 08:{n % 60:02d}:00 GMT</pubDate>"
        f"<description><![CDATA[{entry_html(n)}]]></description></item>"
        for n in range(entries)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Bench source {feed_no}</title><link>https://site{feed_no}.example.com/</link>"
        f"{items}</channel></rss>"
    ).encode()


def bench_feedparser(documents: list[bytes]) -> tuple[float, float]:
    """Wall and CPU seconds for ``feedparser.parse`` with its defaults over every document."""
    started, cpu = time.perf_counter(), time.process_time()
    for doc in documents:
        feedparser.parse(io.BytesIO(doc))
    return time.perf_counter() - started, time.process_time() - cpu


def bench_site(tmp: str):
    """The site's app on a throwaway SQLite database in ``tmp``."""
    from club import create_app
    from club.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
            "SECRET_KEY": "bench",
            "TESTING": True,
        }
    )
    return app, db


def make_feeds(count: int) -> list[int]:
    """Create the schema and ``count`` auto-publishing feeds; return their ids."""
    from articles import curation
    from club.extensions import db

    db.create_all()
    feeds = [
        curation.create_feed(f"https://site{n}.example.com/feed.xml", auto_publish=True)
        for n in range(count)
    ]
    db.session.commit()
    return [feed.id for feed in feeds]


def count_articles() -> int:
    """How many articles the database holds."""
    import sqlalchemy as sa

    from articles.models import Article
    from club.extensions import db

    return db.session.scalar(sa.select(sa.func.count(Article.id)))


def bench_pipeline(documents: list[bytes]) -> tuple[float, float]:
    """Parse → clean → store each document the way a worker's refresh job does: in its own
    app context (a fresh session), loading its feed, committing once."""
    from articles.models import Feed
    from articles.parse import parse_feed
    from articles.refresh import ingest_document

    with tempfile.TemporaryDirectory() as tmp:
        app, db = bench_site(tmp)
        with app.app_context():
            feed_ids = make_feeds(len(documents))
        started, cpu = time.perf_counter(), time.process_time()
        for feed_id, document in zip(feed_ids, documents, strict=True):
            with app.app_context():
                ingest_document(db.session.get(Feed, feed_id), document)
                db.session.commit()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        with app.app_context():
            stored = count_articles()
            db.engine.dispose()
    # Every generated document has the same number of entries, all new.
    if stored != len(documents) * len(parse_feed(documents[0]).entries):
        raise SystemExit(f"the pipeline stored {stored} articles, not every entry")
    return elapsed, cpu


def bench_steps(documents: list[bytes]) -> dict[str, float]:
    """Seconds spent in parse, in clean and in store (+ commit) alone, over every document."""
    from articles.clean import clean_entry
    from articles.curation import rules_for
    from articles.models import Feed
    from articles.parse import parse_feed
    from articles.store import store_entries
    from club.clock import utcnow

    started = time.perf_counter()
    parsed = [parse_feed(doc) for doc in documents]
    parse_time = time.perf_counter() - started
    now = utcnow()
    started = time.perf_counter()
    cleaned = [
        [clean_entry(entry, "https://bench.example.com/feed.xml", now) for entry in feed.entries]
        for feed in parsed
    ]
    clean_time = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        app, db = bench_site(tmp)
        with app.app_context():
            feed_ids = make_feeds(len(documents))
        started = time.perf_counter()
        for feed_id, entries in zip(feed_ids, cleaned, strict=True):
            with app.app_context():
                feed = db.session.get(Feed, feed_id)
                store_entries(feed, entries, rules=rules_for(feed), now=now)
                db.session.commit()
        store_time = time.perf_counter() - started
        with app.app_context():
            db.engine.dispose()
    return {"parse": parse_time, "clean": clean_time, "store": store_time}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    documents = [make_feed(n, args.entries) for n in range(args.feeds)]
    total = args.feeds * args.entries
    size = sum(len(d) for d in documents) / total
    print(f"{args.feeds} feeds x {args.entries} entries, {size / 1024:.1f} KB per entry")
    best = {"feedparser": float("inf"), "pipeline": float("inf")}
    cpu = {"feedparser": float("inf"), "pipeline": float("inf")}
    steps = {"parse": float("inf"), "clean": float("inf"), "store": float("inf")}
    for _ in range(args.rounds):
        for name, run in (("feedparser", bench_feedparser), ("pipeline", bench_pipeline)):
            wall, used = run(documents)
            best[name], cpu[name] = min(best[name], wall), min(cpu[name], used)
        for name, seconds in bench_steps(documents).items():
            steps[name] = min(steps[name], seconds)
    fp_rate = total / best["feedparser"]
    print(f"feedparser.parse (defaults): {best['feedparser']:.2f} s = {fp_rate:,.0f} entries/s")
    rate = total / best["pipeline"]
    print(
        f"pipeline into SQLite: {best['pipeline']:.2f} s = {rate:,.0f} entries/s, "
        f"{rate / fp_rate:.2f}x feedparser (target >= 2x), "
        f"10,000 entries in {10_000 / rate:.2f} s (target < 5 s)"
    )
    print(
        f"steps alone: parse {steps['parse']:.2f} s, clean {steps['clean']:.2f} s, "
        f"store + commit {steps['store']:.2f} s"
    )
    print(
        f"CPU time (less inflated by other processes than wall time; excludes disk waits): "
        f"feedparser {cpu['feedparser']:.2f} s, pipeline {cpu['pipeline']:.2f} s, "
        f"{cpu['feedparser'] / cpu['pipeline']:.2f}x"
    )


if __name__ == "__main__":
    main()
