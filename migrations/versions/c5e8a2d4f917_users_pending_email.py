"""remember an email change waiting for its link

Revision ID: c5e8a2d4f917
Revises: 9f44484ccf5e
Create Date: 2026-11-28 16:00:00

Settings said an email change waited only in the message right after it was asked for;
a member coming back later saw no sign of it and asked again.
"""

import sqlalchemy as sa
from alembic import op

revision = "c5e8a2d4f917"
down_revision = "9f44484ccf5e"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases (see b7d2f4a91c36): a batch "move and copy" would
# drop the users table, and SQLite would cascade that into every table referring to it.


def upgrade():
    op.add_column("users", sa.Column("pending_email", sa.String(254), nullable=True))
    op.add_column("users", sa.Column("pending_email_at", sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column("users", "pending_email_at")
    op.drop_column("users", "pending_email")
