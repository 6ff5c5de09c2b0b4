"""the videos page's index leads with the kind

Revision ID: 9f44484ccf5e
Revises: a9c4e2f7b318
Create Date: 2026-11-28 03:12:00

With no statistics (SQLite's default), the planner saw the partial index over video rows
(status, published_at, id) and the index over every article with the same columns as
equals and took either: on the second the videos page reads every published article to
find the videos. Led by the kind, which the query matches too, the partial index is
plainly the better. The new one is built before the old one goes, so the page never
runs without one.
"""

import sqlalchemy as sa
from alembic import op

revision = "9f44484ccf5e"
down_revision = "a9c4e2f7b318"
branch_labels = None
depends_on = None

VIDEO_ROWS = "kind = 'video'"
OLD = ("ix_articles_videos_status_published_id", ["status", "published_at", "id"])
NEW = ("ix_articles_videos_kind_status_published_id", ["kind", "status", "published_at", "id"])


def replace_index(before: tuple[str, list[str]], after: tuple[str, list[str]]) -> None:
    name, columns = after
    op.create_index(
        name,
        "articles",
        columns,
        sqlite_where=sa.text(VIDEO_ROWS),
        postgresql_where=sa.text(VIDEO_ROWS),
    )
    op.drop_index(before[0], table_name="articles")


def upgrade():
    replace_index(OLD, NEW)


def downgrade():
    replace_index(NEW, OLD)
