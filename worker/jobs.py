"""Job entry points: thin functions that take plain values and call domain code.

Each runs inside an app context (the worker provides one; inline runs already have one).
"""

from __future__ import annotations


def send_mail(to: str, subject: str, body: str) -> None:
    """Send one email."""
    from club.mail import send_mail as deliver

    deliver(to, subject, body)


def refresh_feed(feed_id: int) -> str:
    """Fetch, parse, clean and store one feed; return what happened."""
    from articles.refresh import refresh_feed as refresh

    return refresh(feed_id).describe()


def process_stripe_event(event_row_id: int) -> None:
    """Process one stored Stripe webhook event."""
    from billing.webhooks import process_event

    process_event(event_row_id)
