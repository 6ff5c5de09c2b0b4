"""search: PostgreSQL finds accented words typed without accents

Revision ID: b7e3f9a1c524
Revises: a4d7c2e9f316
Create Date: 2026-11-27 03:00:00

SQLite's FTS5 removes diacritics; PostgreSQL's 'english' configuration kept them, so
"meniere" found "Ménière's disease" locally and nothing in production. A configuration
copied from English reads words through the unaccent dictionary first, and the GIN
index is rebuilt with it. SQLite is unchanged.
"""

from alembic import op

revision = "b7e3f9a1c524"
down_revision = "a4d7c2e9f316"
branch_labels = None
depends_on = None

# As articles.search.POSTGRES_SEARCH_CONFIG_DDL was when this was written.
SEARCH_CONFIG_DDL = (
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "DO $$ BEGIN "
    "CREATE TEXT SEARCH CONFIGURATION club_search (COPY = pg_catalog.english); "
    "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    "ALTER TEXT SEARCH CONFIGURATION club_search "
    "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem",
)


def _search_index(config: str) -> str:
    def weighted(column: str, weight: str) -> str:
        return (
            f"setweight(to_tsvector('{config}'::regconfig, coalesce({column}, '')), "
            f"'{weight}'::\"char\")"
        )

    document = " || ".join(
        weighted(column, weight) for column, weight in (("title", "A"), ("summary", "B"), ("body_text", "C"))
    )
    return f"CREATE INDEX ix_articles_search ON articles USING gin (({document}))"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in SEARCH_CONFIG_DDL:
        op.execute(statement)
    op.execute("DROP INDEX IF EXISTS ix_articles_search")
    op.execute(_search_index("club_search"))


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_articles_search")
    op.execute(_search_index("english"))
    op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS club_search")
