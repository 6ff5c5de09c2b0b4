"""Ingestion benchmark: feedparser with its defaults vs. our whole pipeline into SQLite.

Generates 200 feeds x 50 entries (about 1.5 KB of HTML each) in memory, then prints, in
one run: ``feedparser.parse`` entries/s with its defaults (its own sanitiser and URI
resolution on), the pipeline's entries/s (parse with those off → nh3 clean → store into a
throwaway SQLite database, committed per feed), and their ratio.
Target: ratio ≥ 2 and 10,000 entries stored in under 5 s.

The machine is shared and noisy, so each measurement runs ``--rounds`` times, interleaved,
and the best run of each counts. The step breakdown shows where the pipeline's time goes.

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


def bench_feedparser(documents: list[bytes]) -> tuple[int, float]:
    started = time.perf_counter()
    count = sum(len(feedparser.parse(io.BytesIO(doc)).entries) for doc in documents)
    return count, time.perf_counter() - started


def bench_pipeline(documents: list[bytes]) -> tuple[int, float]:
    import sqlalchemy as sa

    from articles import curation
    from articles.models import Article
    from articles.refresh import ingest_document
    from club import create_app
    from club.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
                "SECRET_KEY": "bench",
                "TESTING": True,
            }
        )
        with app.app_context():
            db.create_all()
            feeds = [
                curation.create_feed(f"https://site{n}.example.com/feed.xml", auto_publish=True)
                for n in range(len(documents))
            ]
            db.session.commit()
            started = time.perf_counter()
            for feed, document in zip(feeds, documents, strict=True):
                ingest_document(feed, document)
                db.session.commit()
            elapsed = time.perf_counter() - started
            stored = db.session.scalar(sa.select(sa.func.count(Article.id)))
            db.session.remove()
            db.engine.dispose()
    return stored, elapsed


def bench_steps(documents: list[bytes]) -> dict[str, float]:
    """Seconds spent in parse and in clean alone, over every document."""
    from articles.clean import clean_entry
    from articles.parse import parse_feed
    from club.clock import utcnow

    started = time.perf_counter()
    parsed = [parse_feed(doc) for doc in documents]
    parse_time = time.perf_counter() - started
    now = utcnow()
    started = time.perf_counter()
    for feed in parsed:
        for entry in feed.entries:
            clean_entry(entry, "https://bench.example.com/feed.xml", now)
    return {"parse": parse_time, "clean": time.perf_counter() - started}


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
    steps = {"parse": float("inf"), "clean": float("inf")}
    for _ in range(args.rounds):
        best["feedparser"] = min(best["feedparser"], bench_feedparser(documents)[1])
        best["pipeline"] = min(best["pipeline"], bench_pipeline(documents)[1])
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
    store = best["pipeline"] - steps["parse"] - steps["clean"]
    print(
        f"steps: parse {steps['parse']:.2f} s, clean {steps['clean']:.2f} s, "
        f"store + commit {store:.2f} s"
    )


if __name__ == "__main__":
    main()
