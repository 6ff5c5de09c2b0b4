"""index only video rows for the videos page

Revision ID: c41f0e7b9d22
Revises: a257232dae82
Create Date: 2026-11-26 06:10:00

Every stored article paid for ix_articles_status_kind_published_id although only the
videos page reads it. A partial index over video rows serves that page, and storing an
ordinary article no longer updates it.
"""

import sqlalchemy as sa
from alembic import op

revision = "c41f0e7b9d22"
down_revision = "a257232dae82"
branch_labels = None
depends_on = None

VIDEO_ROWS = "kind = 'video'"


def upgrade():
    op.create_index(
        "ix_articles_videos_status_published_id",
        "articles",
        ["status", "published_at", "id"],
        sqlite_where=sa.text(VIDEO_ROWS),
        postgresql_where=sa.text(VIDEO_ROWS),
    )
    op.drop_index("ix_articles_status_kind_published_id", table_name="articles")


def downgrade():
    op.create_index(
        "ix_articles_status_kind_published_id",
        "articles",
        ["status", "kind", "published_at", "id"],
    )
    op.drop_index("ix_articles_videos_status_published_id", table_name="articles")
