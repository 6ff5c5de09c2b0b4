"""Stripe events as received: each event id is stored once, so a redelivery is a no-op."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from club.clock import UTCDateTime, utcnow
from club.extensions import db

# What a processed event about nobody's customer keeps: its id and type (which make a
# redelivery a no-op), not the name, email and address Stripe sent.
FORGOTTEN_PAYLOAD = '{"data": {"object": {}}, "forgotten": "no account holds this customer"}'


class StripeEvent(db.Model):
    """One verified webhook delivery; ``processed_at`` is set once its handler has run.

    ``last_error`` holds why the latest attempt failed. With ``processed_at`` set too, the
    failure was permanent (Stripe no longer has the object, or refuses the request) and
    the event was given up; without it, the sweeper will try again.
    """

    __tablename__ = "stripe_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stripe may deliver an event more than once; the unique id makes the second a no-op.
    event_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    type: Mapped[str] = mapped_column(sa.String(100))
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    livemode: Mapped[bool] = mapped_column(default=False)
    payload: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(sa.Text)

    def __repr__(self) -> str:
        return f"<StripeEvent {self.event_id} {self.type}>"
