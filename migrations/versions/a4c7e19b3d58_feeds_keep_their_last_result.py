"""feeds keep what their last fetch stored and skipped

Revision ID: a4c7e19b3d58
Revises: c5e8a2d4f917
Create Date: 2026-11-28 18:30:00

A feed whose first fetch found only entries older than the first-fetch limit showed no
articles and no reason on the feeds page: the reason was only in "Refresh now"'s message.
"""

import sqlalchemy as sa
from alembic import op

revision = "a4c7e19b3d58"
down_revision = "c5e8a2d4f917"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("feeds", sa.Column("last_result", sa.String(500), nullable=True))


def downgrade():
    op.drop_column("feeds", "last_result")
