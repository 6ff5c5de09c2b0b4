"""accounts remember that they once paid for a membership

Revision ID: c3e8a1f5d290
Revises: b7d2e9f4a610
Create Date: 2026-11-29 05:10:00

A member who came back was welcomed as new when the new subscription waited
"incomplete" first (a bank's check, a declined card tried again): the status before it
no longer said the membership had ended.
"""

import sqlalchemy as sa
from alembic import op

revision = "c3e8a1f5d290"
down_revision = "b7d2e9f4a610"
branch_labels = None
depends_on = None

# Stripe reaches these after a subscription's first payment went through (all but a
# subscription cancelled while still incomplete, rare enough to welcome back wrongly).
ONCE_PAID = ("active", "trialing", "past_due", "unpaid", "paused", "canceled")


def upgrade():
    op.add_column(
        "users",
        sa.Column("has_paid", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    users = sa.table("users", sa.column("has_paid"), sa.column("subscription_status"))
    op.execute(
        users.update()
        .where(users.c.subscription_status.in_(ONCE_PAID))
        .values(has_paid=sa.true())
    )


def downgrade():
    op.drop_column("users", "has_paid")
