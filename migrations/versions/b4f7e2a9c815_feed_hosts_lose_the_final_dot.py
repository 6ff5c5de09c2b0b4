"""feed addresses saved with a fully qualified host ("example.com.") lose the final dot

Revision ID: b4f7e2a9c815
Revises: a9d4c6e2f173
Create Date: 2026-11-29 11:40:00

Feed addresses are now written one way without the final dot, so the site knows
"https://example.com./rss" and "https://example.com/rss" for one feed. An OPML import
saved the dotted spelling as written before; left so, importing the file again would
add the feed a second time. Rewritten here, unless the plain spelling is a feed of its
own already (then both stay, as they were).
"""

from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from alembic import op

revision = "b4f7e2a9c815"
down_revision = "a9d4c6e2f173"
branch_labels = None
depends_on = None

feeds = sa.table("feeds", sa.column("id", sa.Integer), sa.column("url", sa.String))


def without_final_dot(url: str) -> str:
    """``url`` with its host's final dot dropped (the netloc holds no credentials)."""
    parts = urlsplit(url)
    if parts.netloc.startswith("[") or "@" in parts.netloc:
        return url
    host, colon, port = parts.netloc.partition(":")
    if not host.endswith(".") or not host.rstrip("."):
        return url
    return urlunsplit(parts._replace(netloc=host.rstrip(".") + colon + port))


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.select(feeds.c.id, feeds.c.url)).all()
    taken = {url for _, url in rows}
    for feed_id, url in rows:
        plain = without_final_dot(url)
        if plain != url and plain not in taken:
            bind.execute(sa.update(feeds).where(feeds.c.id == feed_id).values(url=plain))
            taken.add(plain)


def downgrade():
    pass  # the plain spelling names the same host: nothing to put back
