"""the audit log keeps who acted after their account is deleted

Revision ID: a4d7c2e9f316
Revises: c2d8f6a4e913
Create Date: 2026-11-27 00:40:00

actor_id is set to NULL when the acting account is deleted, and the log then credited a
deleted admin's freezes and decisions to "system". actor_handle keeps an admin's handle,
or "" for a member (a person, with no personal data kept); NULL still means the system.
"""

import sqlalchemy as sa
from alembic import op

revision = "a4d7c2e9f316"
down_revision = "c2d8f6a4e913"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_entries") as batch:
        batch.add_column(sa.Column("actor_handle", sa.String(length=30), nullable=True))
    # Rows written before: fill in from the accounts that still exist.
    op.execute(
        "UPDATE audit_entries SET actor_handle = ("
        "SELECT CASE WHEN users.is_admin THEN users.handle ELSE '' END "
        "FROM users WHERE users.id = audit_entries.actor_id"
        ") WHERE actor_id IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table("audit_entries") as batch:
        batch.drop_column("actor_handle")
