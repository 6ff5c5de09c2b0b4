import contextlib
import logging
from logging.config import fileConfig

import click
import sqlalchemy as sa
from alembic import context
from flask import current_app

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
# Without disable_existing_loggers=False, running migrations from a process that already
# logs (a test, `flask db upgrade` in a worker) would silence every logger made before.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")


def get_engine():
    # Flask-SQLAlchemy 3 (get_engine() is deprecated there).
    return current_app.extensions["migrate"].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
    except AttributeError:
        return str(get_engine().url).replace("%", "%%")


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, "metadatas"):
        return target_db.metadatas[None]
    return target_db.metadata


def skip_search_internals(name, type_, parent_names):
    """Leave SQLite's FTS5 search tables to the migration that creates them by hand."""
    return not (type_ == "table" and name and name.startswith("article_search"))


def include_on(dialect, obj, type_):
    """Skip schema items declared for another database (``Index(...).ddl_if(dialect=...)``)."""
    if type_ == "index":
        ddl_if = getattr(obj, "_ddl_if", None)
        if ddl_if is not None and ddl_if.dialect and ddl_if.dialect != dialect:
            return False
    return True


def render_club_types(type_, obj, autogen_context):
    """Render the project's UTC column type as a plain DateTime: storage is identical."""
    if type_ == "type" and obj.__class__.__name__ == "UTCDateTime":
        return "sa.DateTime()"
    return False


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True)

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()

    with connected(connectable) as connection:
        dialect = connection.dialect.name
        conf_args.setdefault("include_name", skip_search_internals)
        conf_args.setdefault(
            "include_object",
            lambda obj, name, type_, reflected, compare_to: include_on(dialect, obj, type_),
        )
        conf_args.setdefault("render_item", render_club_types)
        context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)

        with sqlite_foreign_keys_off(connection), context.begin_transaction():
            context.run_migrations()


@contextlib.contextmanager
def connected(engine):
    """A connection to the database, or one line saying why there is none (a release step
    run against an unreachable or missing database printed 150 lines of traceback)."""
    try:
        connection = engine.connect()
    except sa.exc.DBAPIError as error:
        from club.cli import database_problem

        raise click.ClickException(database_problem(error)) from None
    with connection:
        yield connection


@contextlib.contextmanager
def sqlite_foreign_keys_off(connection):
    """Let SQLite batch migrations rebuild a table other tables refer to.

    A batch migration copies the table and drops the old one; with foreign keys on,
    SQLite runs the drop as a DELETE and cascades it into every table that refers to
    it (comments, likes, ... for ``users``). Alembic's advice: switch them off around
    the migrations (the PRAGMA only works outside a transaction, so before it starts),
    then check nothing was left dangling.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        yield
        dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if dangling:
            raise RuntimeError(f"migrations left rows referring to nothing: {dangling[:5]}")
    finally:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
