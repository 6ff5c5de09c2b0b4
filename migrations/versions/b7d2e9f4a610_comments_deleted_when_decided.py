"""comments remember that their author asked for them to be deleted

Revision ID: b7d2e9f4a610
Revises: a4c7e19b3d58
Create Date: 2026-11-29 02:10:00

A member who leaves with "delete my comments" keeps a comment under review for the
moderators; if they then kept it, it came back in public, words and all.
"""

import sqlalchemy as sa
from alembic import op

revision = "b7d2e9f4a610"
down_revision = "a4c7e19b3d58"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "comments",
        sa.Column(
            "delete_when_decided", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
    )


def downgrade():
    op.drop_column("comments", "delete_when_decided")
