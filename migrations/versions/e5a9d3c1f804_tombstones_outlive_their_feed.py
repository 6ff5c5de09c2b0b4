"""keep tombstones when their feed is deleted

Revision ID: e5a9d3c1f804
Revises: c41f0e7b9d22
Create Date: 2026-11-26 10:50:00

A rejected or deleted entry must never come back, even when its feed is deleted and added
again. Tombstones were deleted with their feed (ON DELETE CASCADE); now they stay, no
longer tied to a feed, and still bury the entry by its canonical URL.
"""

from alembic import op

revision = "e5a9d3c1f804"
down_revision = "c41f0e7b9d22"
branch_labels = None
depends_on = None

CONSTRAINT = "fk_article_tombstones_feed_id_feeds"


def _refer_to_feeds(ondelete: str) -> None:
    with op.batch_alter_table("article_tombstones") as batch_op:
        batch_op.drop_constraint(CONSTRAINT, type_="foreignkey")
        batch_op.create_foreign_key(CONSTRAINT, "feeds", ["feed_id"], ["id"], ondelete=ondelete)


def upgrade():
    _refer_to_feeds("SET NULL")


def downgrade():
    op.execute("DELETE FROM article_tombstones WHERE feed_id IS NULL")
    _refer_to_feeds("CASCADE")
