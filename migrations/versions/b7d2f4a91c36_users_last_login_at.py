"""record each account's last log-in

Revision ID: b7d2f4a91c36
Revises: e5a9d3c1f804
Create Date: 2026-11-26 12:40:00

A password-reset link stops working once its owner logs in with the password after all
(the reset token is bound to this time), so an old reset email is not left usable.
"""

import sqlalchemy as sa
from alembic import op

revision = "b7d2f4a91c36"
down_revision = "e5a9d3c1f804"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases (SQLite has ADD and DROP COLUMN since 3.35): a
# batch "move and copy" would drop the users table, and with foreign keys on, SQLite
# would cascade that drop into every table that refers to an account.


def upgrade():
    op.add_column("users", sa.Column("last_login_at", sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column("users", "last_login_at")
