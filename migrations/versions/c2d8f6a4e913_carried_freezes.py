"""keep a moderator's freeze when a frozen account is deleted

Revision ID: c2d8f6a4e913
Revises: b9e1f3a7c520
Create Date: 2026-11-26 21:30:00

A member frozen by a moderator could delete the account and sign up again with the same
address, free. The freeze now outlives the account, under a keyed hash of the address.
"""

import sqlalchemy as sa
from alembic import op

revision = "c2d8f6a4e913"
down_revision = "b9e1f3a7c520"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "carried_freezes",
        sa.Column("email_digest", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("email_digest", name=op.f("pk_carried_freezes")),
    )
    op.create_index(op.f("ix_carried_freezes_until"), "carried_freezes", ["until"])


def downgrade():
    op.drop_index(op.f("ix_carried_freezes_until"), table_name="carried_freezes")
    op.drop_table("carried_freezes")
