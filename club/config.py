"""Configuration, read once from the environment through small typed helpers.

A malformed value stops start-up with one line naming the variable (``ConfigError``);
``club.create_app`` turns that into a clean exit rather than a traceback.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
ENVIRONMENTS = ("local", "production")
# How long a web request waits on Redis (seconds) before treating it as down. Redis
# answers in a millisecond or two; a second covers a loaded server, not a hung one.
REDIS_TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 1.0}
# The rate limiter asks a failing Redis twice (the count, then Flask-Limiter's own check
# before it falls back to memory): half each, so the first request after a hang waits
# about as long on the limiter as on the queue. An answer later than that makes the
# process count in its own memory until Redis answers again (platform/README.md).
RATELIMIT_REDIS_TIMEOUTS = {"socket_connect_timeout": 0.25, "socket_timeout": 0.5}


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message names the variable."""


def env_str(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    """Return the variable's value stripped, or the default when it is unset or empty."""
    value = env.get(name, "").strip()
    return value or default


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    """Return the variable as an integer of at least ``minimum``."""
    raw = env_str(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    """Return the variable as a boolean (1/0, true/false, yes/no, on/off)."""
    raw = env_str(env, name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def env_url(
    env: Mapping[str, str], name: str, schemes: tuple[str, ...], default: str | None = None
) -> str | None:
    """Return the variable as a URL with one of ``schemes`` and a host."""
    raw = env_str(env, name)
    if raw is None:
        return default
    try:
        parts = urlsplit(raw)
    except ValueError:  # an unclosed "[" around the host
        parts = urlsplit("")
    # A Unix socket's URL names a path, not a host: unix:///run/redis.sock
    has_place = parts.netloc or (parts.scheme == "unix" and raw[5:7] == "//")
    if parts.scheme not in schemes or not has_place:
        allowed = ", ".join(f"{s}://" for s in schemes)
        raise ConfigError(f"{name} must be a URL starting with {allowed}, got {shown(raw)!r}")
    # "UNIX://…" or "Redis://…" as every library reads it: some match the scheme as written.
    return parts.scheme + raw[len(parts.scheme) :]


def shown(url: str) -> str:
    """``url`` as an error message may print it, as platform logs keep what start-up
    prints: everything before the host's "@" starred out (a user name and a password,
    which may hold ":", "/" or "@" themselves), and the query and fragment, which may
    carry a password too (libpq's ``?password=``). A value that is no URL at all and may
    hold a password (libpq's "host=… password=…") is not shown."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return "(not shown: it may hold a password)" if "@" in url or "=" in url else url
    before, at, rest = rest.rpartition("@")
    if "?" in before or "#" in before:
        # The last "@" is in the query or fragment, or the password holds "?" or "#":
        # which of them, nothing tells, so nothing after the scheme is shown.
        return f"{scheme}://***"
    for mark in "?#":
        if mark in rest:
            rest = rest.partition(mark)[0] + mark + "***"
    return f"{scheme}://{'***@' if at else ''}{rest}"


def env_list(env: Mapping[str, str], name: str) -> list[str] | None:
    """Return the variable as a comma-separated list of non-empty items, or None if unset."""
    raw = env_str(env, name)
    if raw is None:
        return None
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_seconds(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """Return the variable as comma-separated whole seconds ("30,300,1800")."""
    raw = env_str(env, name)
    if raw is None:
        return default
    try:
        values = tuple(int(part) for part in raw.split(","))
    except ValueError:
        raise ConfigError(
            f"{name} must be whole seconds separated by commas, got {raw!r}"
        ) from None
    if any(value < 0 for value in values):
        raise ConfigError(f"{name} must not be negative, got {raw!r}")
    return values


def env_rate_limit(env: Mapping[str, str], name: str, default: str) -> str:
    """Return the variable as a rate limit in Flask-Limiter's notation ("5 per minute")."""
    raw = env_str(env, name, default)
    try:
        usable = all(item.amount >= 1 for item in parse_many(raw))
    except ValueError:
        usable = False
    if not usable:
        raise ConfigError(f"{name} must be limits like '5 per minute; 100 per day', got {raw!r}")
    return raw


def env_addresses(env: Mapping[str, str], name: str) -> list[str]:
    """Return the variable as IP addresses, written the way the resolver reports them."""
    addresses = []
    for item in env_list(env, name) or []:
        try:
            addresses.append(str(ipaddress.ip_address(item)))
        except ValueError:
            raise ConfigError(f"{name} must list IP addresses, got {item!r}") from None
    return addresses


def database_url(env: Mapping[str, str]) -> str:
    """Return the SQLAlchemy URL: ``DATABASE_URL`` or a SQLite file under ``instance/``."""
    raw = env_str(env, "DATABASE_URL")
    if raw is None:
        return f"sqlite:///{INSTANCE_DIR / 'club.sqlite3'}"
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy needs the driver named.
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw.removeprefix("postgres://")
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw.removeprefix("postgresql://")
    try:
        url = make_url(raw)
        url.port  # noqa: B018 (a port that is not a number fails here, not at connect)
    except (ArgumentError, ValueError):
        raise ConfigError(f"DATABASE_URL is not a database URL: {shown(raw)!r}") from None
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigError("DATABASE_URL must point at PostgreSQL or SQLite")
    if url.get_backend_name() == "postgresql" and not url.database:
        raise ConfigError("DATABASE_URL must name a database")
    return raw


# Secret keys as Stripe issues them: a secret (sk_) or restricted (rk_) key, live or test.
# A publishable key (pk_) or a placeholder would start and then fail every Stripe call;
# worse, a key that does not say "live" makes the site drop every live event it receives.
STRIPE_SECRET_KEY_FORMAT = re.compile(r"[sr]k_(?:live|test)_[A-Za-z0-9]+")
WEBHOOK_SECRET_FORMAT = re.compile(r"whsec_[A-Za-z0-9+/=_-]+")
# A REDIS_URL's path names a database by number; redis-py reads anything else as 0.
REDIS_DATABASE_PATH = re.compile(r"/?\d*")
# Sessions and emailed links are signed with SECRET_KEY: a short or guessable one lets
# anyone sign their own (confirm an address they do not own, say).
MIN_SECRET_KEY_LENGTH = 32


def check_formats(env: Mapping[str, str], redis_url: str | None) -> None:
    """Refuse values that are set but cannot be what they name (never echoing secrets)."""
    stripe_key = env_str(env, "STRIPE_SECRET_KEY")
    if stripe_key is not None and not STRIPE_SECRET_KEY_FORMAT.fullmatch(stripe_key):
        raise ConfigError(
            "STRIPE_SECRET_KEY must be a Stripe secret key (sk_live_…, sk_test_… or a "
            "restricted rk_… key), not a publishable key or a placeholder"
        )
    # Two while the endpoint's secret is rotated: "whsec_old,whsec_new".
    webhook_secret = env_str(env, "STRIPE_WEBHOOK_SECRET")
    webhook_secrets = [s.strip() for s in (webhook_secret or "").split(",") if s.strip()]
    if webhook_secret is not None and not (
        webhook_secrets and all(map(WEBHOOK_SECRET_FORMAT.fullmatch, webhook_secrets))
    ):
        raise ConfigError(
            "STRIPE_WEBHOOK_SECRET must be the endpoint's signing secret (whsec_…, or two "
            "separated by a comma while rotating), not a placeholder"
        )
    path = urlsplit(redis_url or "").path
    if redis_url and not redis_url.startswith("unix:") and not REDIS_DATABASE_PATH.fullmatch(path):
        raise ConfigError(
            f"REDIS_URL must end in a database number (…:6379/0), got {shown(redis_url)!r}"
        )


def limiter_storage(redis_url: str | None) -> str:
    """Where Flask-Limiter keeps its counters: ``REDIS_URL``'s Redis, or memory without it.

    The ``limits`` package spells a Unix socket ``redis+unix://`` (redis-py, ``unix://``).
    """
    if not redis_url:
        return "memory://"
    return f"redis+{redis_url}" if redis_url.startswith("unix:") else redis_url


def check_production_secrets(secret_key: str, base_url: str) -> None:
    """Refuse a production site whose signatures or cookies would not protect members."""
    if len(secret_key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"SECRET_KEY must be a random value of {MIN_SECRET_KEY_LENGTH} characters or more "
            'when CLUB_ENV=production (python -c "import secrets; '
            'print(secrets.token_urlsafe(48))")'
        )
    if not base_url.startswith("https://"):
        raise ConfigError(
            "BASE_URL must start with https:// when CLUB_ENV=production: session cookies are "
            "sent over HTTPS only, so no one could log in over http://"
        )


def local_secret_key() -> str:
    """Return the secret key kept in ``instance/``, generating it on first use."""
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def require_production_services(env: Mapping[str, str], billing_backend: str) -> None:
    """Refuse a production start-up that would fail members quietly later.

    Without a webhook secret every Stripe event is refused; without a price there is
    nothing to sell; without a mail server confirmation and reset links would only be
    written to a file on one web node; without Redis no periodic job (feed refreshes,
    the Stripe event sweep, reconcile) ever runs under gunicorn, and each web process
    keeps its own rate limits; without a sender of the site's own domain, mail goes out
    from no-reply@localhost, which relays refuse and spam filters bin.
    """
    needed = ["MAIL_SERVER", "MAIL_FROM", "REDIS_URL"]
    if billing_backend == "stripe":
        needed += ["STRIPE_WEBHOOK_SECRET", "STRIPE_PRICE_ID"]
    for name in needed:
        if env_str(env, name) is None:
            raise ConfigError(f"{name} must be set when CLUB_ENV=production")


# libpq's TCP settings: probe an idle connection after 10 s, every 5 s, give up after 3
# unanswered probes; and give up on data the server has not acknowledged for 20 s.
POSTGRES_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 20_000,  # milliseconds
}


def engine_options(uri: str, statement_timeout: int = 0) -> dict:
    """How the site connects: a database that does not answer fails a request in seconds.

    Without a connect timeout, reaching an unreachable PostgreSQL host waits for TCP's own
    (minutes), holding a gunicorn thread while the visitor stares at a blank page. With
    ``statement_timeout`` (seconds; gunicorn's settings give web processes one) a statement
    that runs or waits on a lock longer is cancelled, and the visitor gets the 503 page.

    A pooled connection to a database the network has cut off (a fail-over, a partition)
    would wait on TCP's own retransmissions, about 15 minutes: keepalive probes and a TCP
    user timeout end it within half a minute, and the visitor gets the 503 page.
    """
    options: dict = {"pool_pre_ping": True}
    if uri.startswith("postgresql"):
        options["connect_args"] = {"connect_timeout": 5, **POSTGRES_KEEPALIVES}
        if statement_timeout:
            options["connect_args"]["options"] = f"-c statement_timeout={statement_timeout}s"
        options["pool_timeout"] = 10
    return options


def load(env: Mapping[str, str] | None = None) -> dict:
    """Build the Flask configuration from the environment."""
    env = os.environ if env is None else env
    club_env = env_str(env, "CLUB_ENV", "local")
    if club_env not in ENVIRONMENTS:
        raise ConfigError(f"CLUB_ENV must be one of {', '.join(ENVIRONMENTS)}, got {club_env!r}")
    production = club_env == "production"

    secret_key = env_str(env, "SECRET_KEY")
    if secret_key is None:
        if production:
            raise ConfigError("SECRET_KEY must be set when CLUB_ENV=production")
        secret_key = local_secret_key()

    stripe_key = env_str(env, "STRIPE_SECRET_KEY")
    billing_backend = env_str(env, "BILLING_BACKEND", "stripe" if stripe_key else "local")
    if billing_backend not in {"stripe", "local"}:
        raise ConfigError(f"BILLING_BACKEND must be stripe or local, got {billing_backend!r}")
    if billing_backend == "stripe" and not stripe_key:
        raise ConfigError("STRIPE_SECRET_KEY must be set unless BILLING_BACKEND=local")
    if production and not stripe_key and env_str(env, "BILLING_BACKEND") != "local":
        raise ConfigError("STRIPE_SECRET_KEY must be set when CLUB_ENV=production")
    if billing_backend == "local" and stripe_key:
        raise ConfigError("BILLING_BACKEND=local cannot be combined with STRIPE_SECRET_KEY")

    site_name = env_str(env, "SITE_NAME", "Billionaire Club")
    redis_url = env_url(env, "REDIS_URL", ("redis", "rediss", "unix"))
    base_url = env_url(env, "BASE_URL", ("http", "https"), "http://127.0.0.1:5000")
    if production and env_str(env, "BASE_URL") is None:
        raise ConfigError("BASE_URL must be set when CLUB_ENV=production (links in emails use it)")
    check_formats(env, redis_url)
    if production:
        check_production_secrets(secret_key, base_url)
        require_production_services(env, billing_backend)
    # Cookies are Secure and __Host- prefixed whenever the site is served over HTTPS,
    # and always in production (where it must be).
    secure_cookies = production or base_url.startswith("https://")
    cookie_prefix = "__Host-" if secure_cookies else ""

    return {
        "CLUB_ENV": club_env,
        "PRODUCTION": production,
        "SECRET_KEY": secret_key,
        "SITE_NAME": site_name,
        "BASE_URL": base_url.rstrip("/"),
        "SQLALCHEMY_DATABASE_URI": database_url(env),
        # Seconds a PostgreSQL statement may run or wait on a lock; 0: as long as it takes
        # (migrations, workers and commands). platform/gunicorn.conf.py sets it for web.
        "DATABASE_STATEMENT_TIMEOUT": env_int(env, "DATABASE_STATEMENT_TIMEOUT", 0),
        "REDIS_URL": redis_url,
        # Waits before each retry of a failed fetch, mail or billing job (worker.queues).
        "JOB_RETRY_INTERVALS": env_seconds(env, "JOB_RETRY_INTERVALS", (30, 300, 1800)),
        "RQ_ASYNC": True,
        "STRIPE_SECRET_KEY": stripe_key,
        "STRIPE_WEBHOOK_SECRET": env_str(env, "STRIPE_WEBHOOK_SECRET"),
        "STRIPE_PRICE_ID": env_str(env, "STRIPE_PRICE_ID"),
        "STRIPE_API_BASE": env_url(env, "STRIPE_API_BASE", ("http", "https")),
        # Each Stripe call from a job or a click waits at most this long, and is retried
        # (Stripe's idempotency keys make retries safe) this many times.
        "STRIPE_TIMEOUT_SECONDS": env_int(env, "STRIPE_TIMEOUT_SECONDS", 10, minimum=1),
        # One retry: a hung call then ends in about 20 s, inside a request's 30 s.
        "STRIPE_MAX_NETWORK_RETRIES": env_int(env, "STRIPE_MAX_NETWORK_RETRIES", 1),
        "BILLING_BACKEND": billing_backend,
        "BILLING_GRACE_DAYS": env_int(env, "BILLING_GRACE_DAYS", 3),
        # An account whose address is not confirmed within this many days is deleted, so
        # sign-ups with addresses nobody reads do not hold handles for ever.
        "UNCONFIRMED_ACCOUNT_DAYS": env_int(env, "UNCONFIRMED_ACCOUNT_DAYS", 14, minimum=1),
        "MAIL_SERVER": env_str(env, "MAIL_SERVER"),
        "MAIL_PORT": env_int(env, "MAIL_PORT", 587, minimum=1),
        "MAIL_USERNAME": env_str(env, "MAIL_USERNAME"),
        "MAIL_PASSWORD": env_str(env, "MAIL_PASSWORD"),
        "MAIL_USE_TLS": env_bool(env, "MAIL_USE_TLS", True),
        "MAIL_FROM": env_str(env, "MAIL_FROM") or f"{site_name} <no-reply@localhost>",
        "MAIL_OUTBOX_DIR": str(INSTANCE_DIR / "outbox"),
        # Where members write when something is wrong with their account (shown in mails).
        "SUPPORT_EMAIL": env_str(env, "SUPPORT_EMAIL"),
        "FEEDS_ALLOW_PRIVATE_NETWORKS": env_bool(env, "FEEDS_ALLOW_PRIVATE_NETWORKS", False),
        # Exact addresses a feed may resolve to although private (an internal feed host).
        "FEEDS_TRUSTED_ADDRESSES": env_addresses(env, "FEEDS_TRUSTED_ADDRESSES"),
        # Entries this much older than a feed's first fetch are its archive, never stored.
        "FEEDS_FIRST_FETCH_MAX_AGE_DAYS": env_int(
            env, "FEEDS_FIRST_FETCH_MAX_AGE_DAYS", 30, minimum=1
        ),
        "COMMENT_RATE_LIMIT": env_rate_limit(
            env, "COMMENT_RATE_LIMIT", "5 per minute; 100 per day"
        ),
        # Reports from this many different members hide a comment until a moderator looks.
        "COMMUNITY_HIDE_AFTER_REPORTS": env_int(env, "COMMUNITY_HIDE_AFTER_REPORTS", 3, minimum=1),
        "SESSION_COOKIE_NAME": f"{cookie_prefix}session",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_NAME": f"{cookie_prefix}remember",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 30,
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 24 * 30,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Requests naming another Host are refused (400). Opt-in, because many load
        # balancers health-check with the instance's own address as Host; links in mail
        # never use the Host header either way (they are built from BASE_URL).
        "TRUSTED_HOSTS": env_list(env, "TRUSTED_HOSTS"),
        # How many reverse proxies in front of the site set X-Forwarded-For/-Proto;
        # 0 trusts none, so a client cannot spoof its address to dodge rate limits.
        "TRUSTED_PROXY_HOPS": env_int(env, "TRUSTED_PROXY_HOPS", 0),
        "RATELIMIT_STORAGE_URI": limiter_storage(redis_url),
        # A Redis that hangs must cost a request a moment, not redis-py's default 5 s a
        # call; the limiter then counts in memory and checks Redis again now and then.
        "RATELIMIT_STORAGE_OPTIONS": RATELIMIT_REDIS_TIMEOUTS if redis_url else {},
        "RATELIMIT_HEADERS_ENABLED": True,
        # A Redis outage must not take log-in down with it.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
    }
