"""Billionaire Club: the core package and the application factory."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from dotenv import load_dotenv
from flask import Flask

from club import config as club_config
from club.extensions import csrf, db, limiter, login_manager, migrate
from club.log_redaction import install_log_redaction


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the site: configuration, extensions, the membership guard and every blueprint."""
    app = Flask(
        __name__,
        template_folder=str(club_config.PROJECT_ROOT / "templates"),
        instance_path=str(club_config.INSTANCE_DIR),
    )
    app.config.update(load_settings())
    if config:
        app.config.update(config)
    # Decided by the database finally in use (a test or a script may override the URL).
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        club_config.engine_options(
            app.config["SQLALCHEMY_DATABASE_URI"], app.config.get("DATABASE_STATEMENT_TIMEOUT", 0)
        ),
    )
    configure_logging(app)
    init_extensions(app)
    register_parts(app)
    return app


def load_settings(dotenv_path: os.PathLike | str | None = None) -> dict:
    """Read ``.env`` (when present) and the environment; a bad value exits with one line.

    Variables already in the environment win over the file.
    """
    load_dotenv(dotenv_path or club_config.PROJECT_ROOT / ".env", override=False)
    try:
        return club_config.load(os.environ)
    except club_config.ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def configure_logging(app: Flask) -> None:
    """Log to stderr at INFO unless the host already configured logging; never a token."""
    install_log_redaction()
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )


def init_extensions(app: Flask) -> None:
    """Bind the extension objects to ``app``."""
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(club_config.PROJECT_ROOT / "migrations"),
        # SQLite can only ALTER tables by copying them; batch mode does that for us.
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"


def register_parts(app: Flask) -> None:
    """Wire in the policy, club's own blueprints, and the other packages."""
    import articles
    import billing
    import worker
    from club import accounts, admin, cli, community, membership, web

    # Before any blueprint adds a route, so every <int:…> id is capped.
    app.url_map.converters["int"] = web.IdConverter
    membership.init_app(app)
    web.init_app(app)
    accounts.init_app(app)
    admin.init_app(app)
    cli.init_app(app)
    community.init_app(app)
    # The only place club reaches into the packages that build on it.
    articles.init_app(app)
    billing.init_app(app)
    worker.init_app(app)
