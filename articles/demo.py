"""Demo content: the bundled sample feeds under ``articles/samples/``, ingested offline."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

SAMPLES = Path(__file__).parent / "samples"
# (file, the feed's identity URL, topic)
SAMPLE_FEEDS = (
    ("health.xml", "https://everyday-health-notes.example.org/feed.xml", "Health"),
    ("nutrition.xml", "https://kitchen-table.example.net/feed.atom", "Nutrition"),
    (
        "videos.xml",
        "https://www.youtube.com/feeds/videos.xml?channel_id=UCmovewellsample000000",
        "Movement",
    ),
)


def seed_sample_feeds() -> list[dict]:
    """Ingest every sample feed (auto-published); idempotent. The caller commits.

    A new sample feed is paused: its address is a placeholder, so fetching it would only
    fill the feeds page with DNS errors. An admin may still resume it.
    """
    from articles import curation
    from articles.cli import ingest_file

    summaries = []
    for name, url, topic in SAMPLE_FEEDS:
        is_new = curation.feed_at(url) is None
        summaries.append(ingest_file(SAMPLES / name, url, topic))
        feed = curation.feed_at(url)  # None if the document failed: nothing was kept
        if is_new and feed is not None:
            curation.set_paused(feed, True)
    return summaries


def on_demo_seeding(sender, **kwargs) -> None:
    """Add the sample articles when ``flask demo seed`` runs."""
    seed_sample_feeds()


def init_app(app: Flask) -> None:
    """Hook into club's demo seeding when the core provides the signal."""
    try:
        from club.signals import demo_seeding
    except ImportError:  # the Makefile's seed target ingests the samples instead
        return
    demo_seeding.connect(on_demo_seeding)  # idempotent: blinker keeps one connection
