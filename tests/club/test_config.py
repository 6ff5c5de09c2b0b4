"""Configuration from the environment (#2 point 2): typed, documented, fails in one line."""

from __future__ import annotations

import os
import re
import runpy
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from club import config, create_app
from club.config import ConfigError, engine_options

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")
SECRET = {"SECRET_KEY": "k" * 40}


def load(**env: str) -> dict:
    return config.load({**SECRET, **env})


def test_it_defaults_to_a_local_site_on_sqlite(tmp_path, monkeypatch):
    loaded = load()
    assert loaded["CLUB_ENV"] == "local" and not loaded["PRODUCTION"]
    assert loaded["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert loaded["SQLALCHEMY_DATABASE_URI"].endswith("instance/club.sqlite3")
    assert loaded["REDIS_URL"] is None and loaded["RATELIMIT_STORAGE_URI"] == "memory://"
    assert loaded["SITE_NAME"] == "Billionaire Club"
    assert loaded["BILLING_GRACE_DAYS"] == 3
    assert loaded["BILLING_BACKEND"] == "local"


def test_it_reads_the_operating_limits_from_the_environment():
    defaults = load()
    assert (defaults["STRIPE_TIMEOUT_SECONDS"], defaults["STRIPE_MAX_NETWORK_RETRIES"]) == (10, 1)
    # A member waiting on a hung Stripe gets our message before gunicorn's 30 s kill.
    attempts = defaults["STRIPE_MAX_NETWORK_RETRIES"] + 1
    assert defaults["STRIPE_TIMEOUT_SECONDS"] * attempts <= 25
    assert defaults["COMMENT_RATE_LIMIT"] == "5 per minute; 100 per day"
    assert defaults["COMMUNITY_HIDE_AFTER_REPORTS"] == 3
    assert defaults["FEEDS_TRUSTED_ADDRESSES"] == []
    assert defaults["FEEDS_FIRST_FETCH_MAX_AGE_DAYS"] == 30
    loaded = load(
        STRIPE_TIMEOUT_SECONDS="20",
        STRIPE_MAX_NETWORK_RETRIES="0",
        COMMENT_RATE_LIMIT="2 per minute",
        COMMUNITY_HIDE_AFTER_REPORTS="5",
        FEEDS_TRUSTED_ADDRESSES="10.0.0.5, FD00:0::7",
        FEEDS_FIRST_FETCH_MAX_AGE_DAYS="7",
    )
    assert (loaded["STRIPE_TIMEOUT_SECONDS"], loaded["STRIPE_MAX_NETWORK_RETRIES"]) == (20, 0)
    assert loaded["COMMENT_RATE_LIMIT"] == "2 per minute"
    assert loaded["COMMUNITY_HIDE_AFTER_REPORTS"] == 5
    assert loaded["FEEDS_TRUSTED_ADDRESSES"] == ["10.0.0.5", "fd00::7"]
    assert loaded["FEEDS_FIRST_FETCH_MAX_AGE_DAYS"] == 7


def test_it_uses_the_psycopg_driver_for_postgres_urls():
    loaded = load(DATABASE_URL="postgres://u:p@db.example:5432/club")
    assert loaded["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example:5432/club"


def test_it_keeps_rate_limit_counters_in_redis_when_configured():
    loaded = load(REDIS_URL="redis://127.0.0.1:6379/1")
    assert loaded["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/1"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://u@h"}, "DATABASE_URL"),
        ({"MAIL_PORT": "abc"}, "MAIL_PORT"),
        ({"MAIL_PORT": "0"}, "MAIL_PORT"),
        ({"BILLING_GRACE_DAYS": "three"}, "BILLING_GRACE_DAYS"),
        ({"BILLING_GRACE_DAYS": "-1"}, "BILLING_GRACE_DAYS"),
        ({"MAIL_USE_TLS": "maybe"}, "MAIL_USE_TLS"),
        ({"REDIS_URL": "http://localhost"}, "REDIS_URL"),
        ({"BASE_URL": "club.example"}, "BASE_URL"),
        ({"STRIPE_API_BASE": "localhost:8420"}, "STRIPE_API_BASE"),
        ({"CLUB_ENV": "staging"}, "CLUB_ENV"),
        ({"TRUSTED_PROXY_HOPS": "x"}, "TRUSTED_PROXY_HOPS"),
        ({"BILLING_BACKEND": "paypal"}, "BILLING_BACKEND"),
        ({"STRIPE_TIMEOUT_SECONDS": "0"}, "STRIPE_TIMEOUT_SECONDS"),
        ({"STRIPE_MAX_NETWORK_RETRIES": "-1"}, "STRIPE_MAX_NETWORK_RETRIES"),
        ({"COMMENT_RATE_LIMIT": "five a minute"}, "COMMENT_RATE_LIMIT"),
        ({"COMMENT_RATE_LIMIT": "0 per minute"}, "COMMENT_RATE_LIMIT"),
        ({"COMMUNITY_HIDE_AFTER_REPORTS": "0"}, "COMMUNITY_HIDE_AFTER_REPORTS"),
        ({"FEEDS_TRUSTED_ADDRESSES": "10.0.0.5, feeds.internal"}, "FEEDS_TRUSTED_ADDRESSES"),
        ({"FEEDS_FIRST_FETCH_MAX_AGE_DAYS": "a month"}, "FEEDS_FIRST_FETCH_MAX_AGE_DAYS"),
        # A publishable key pasted by mistake, the example file's placeholder, anything:
        # a key that does not say "live" would make a live site drop every live event.
        ({"STRIPE_SECRET_KEY": "pk_live_abc123"}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_SECRET_KEY": "sk_live_..."}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_SECRET_KEY": "hello world"}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_WEBHOOK_SECRET": "whsec_..."}, "STRIPE_WEBHOOK_SECRET"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/abc"}, "REDIS_URL"),  # redis-py reads it as 0
        ({"REDIS_URL": "unix:/run/redis.sock"}, "REDIS_URL"),  # redis-py needs unix://
        ({"DATABASE_URL": "postgresql://u:p@db:abc/club"}, "DATABASE_URL"),
    ],
)
def test_it_names_the_variable_with_a_bad_value(env, named):
    with pytest.raises(ConfigError) as error:
        load(**env)
    assert str(error.value).startswith(named)
    assert "\n" not in str(error.value)


def test_a_bad_address_is_shown_without_its_password():
    with pytest.raises(ConfigError) as error:
        load(DATABASE_URL="postgresql:/club:S3cretPw@db.internal:5432/club")
    assert "S3cretPw" not in str(error.value)
    for url in (
        "redis://default:pa/ss-S3cretPw@redis.example.com:6379/0",  # a "/" in the password
        "redis://:S3cretPw@cache:6379/db",
        "redis://default:ab:S3cretPw@cache:6379/db",  # a password holding ":" and "@"
        "redis://cache:6379/db?password=S3cretPw",
        "redis://cache:6379/zero?client_name=ops@corp&password=S3cretPw",  # an "@" in the query
        "rediz://:pa?S3cretPw@cache:6379/0",  # a "?" in the password
        "redis://[::1:6379/0?password=S3cretPw",  # no URL Python can read
    ):
        with pytest.raises(ConfigError) as error:
            load(REDIS_URL=url)
        assert "S3cretPw" not in str(error.value)
    for url in (
        "postgresql://u:p@ss:S3cretPw@db:54x2/club?password=S3cretPw",
        "postgres://club:pa/S3cretPw@db.example.com:notaport/club",
        "host=db.example.com dbname=club password=S3cretPw",  # libpq's keywords
    ):
        with pytest.raises(ConfigError) as error:
            load(DATABASE_URL=url)
        assert "S3cretPw" not in str(error.value)


def test_it_starts_while_the_webhook_secret_is_rotated():
    """Two secrets, comma-separated, as the endpoint's roll in Stripe's dashboard needs."""
    loaded = load(STRIPE_SECRET_KEY="sk_live_51Habc", STRIPE_WEBHOOK_SECRET="whsec_old, whsec_new")
    assert loaded["STRIPE_WEBHOOK_SECRET"] == "whsec_old, whsec_new"
    with pytest.raises(ConfigError, match=r"^STRIPE_WEBHOOK_SECRET"):
        load(STRIPE_SECRET_KEY="sk_live_51Habc", STRIPE_WEBHOOK_SECRET="whsec_old,whsec_...")


@pytest.mark.parametrize("secrets", [",", " , ", ",,"])
def test_it_refuses_a_webhook_secret_setting_that_holds_no_secret(secrets):
    with pytest.raises(ConfigError, match=r"^STRIPE_WEBHOOK_SECRET"):
        load(**PRODUCTION | {"STRIPE_WEBHOOK_SECRET": secrets})


def test_a_redis_unix_socket_starts_the_site_with_its_rate_limits_kept_there(tmp_path, monkeypatch):
    """redis-py reads unix:///path; the rate limiter's library needs redis+unix:///path."""
    monkeypatch.setenv("REDIS_URL", "UNIX:///run/redis/redis.sock")
    app = create_app(
        {"SECRET_KEY": "k" * 40, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/club.db"}
    )
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis+unix:///run/redis/redis.sock"


def test_it_never_prints_a_stripe_key_it_refuses():
    with pytest.raises(ConfigError) as error:
        load(STRIPE_SECRET_KEY="pk_live_notsecret123")
    assert "pk_live_notsecret123" not in str(error.value)


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ({"SECRET_KEY": "change-me"}, "SECRET_KEY must be a random value of 32 characters"),
        ({"BASE_URL": "http://club.example"}, "BASE_URL must start with https://"),
    ],
)
def test_it_refuses_a_production_site_members_could_not_trust(setting, said):
    with pytest.raises(ConfigError, match=f"^{said}"):
        load(**PRODUCTION | setting)


def test_it_requires_a_secret_key_in_production():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        config.load({"CLUB_ENV": "production", "BASE_URL": "https://club.example"})


def test_it_requires_the_site_address_in_production():
    with pytest.raises(ConfigError, match="BASE_URL"):
        load(CLUB_ENV="production", STRIPE_SECRET_KEY="sk_live_x")


PRODUCTION = {
    "CLUB_ENV": "production",
    "BASE_URL": "https://club.example",
    "STRIPE_SECRET_KEY": "sk_live_x",
    "STRIPE_WEBHOOK_SECRET": "whsec_x",
    "STRIPE_PRICE_ID": "price_x",
    "MAIL_SERVER": "smtp.example",
    "MAIL_FROM": "Club <no-reply@club.example>",
    "REDIS_URL": "redis://redis.example:6379/0",
}


@pytest.mark.parametrize(
    "missing",
    ["STRIPE_WEBHOOK_SECRET", "STRIPE_PRICE_ID", "MAIL_SERVER", "MAIL_FROM", "REDIS_URL"],
)
def test_it_refuses_a_production_start_without_the_services_members_rely_on(missing):
    env = {name: value for name, value in PRODUCTION.items() if name != missing}
    with pytest.raises(ConfigError, match=f"^{missing} must be set"):
        load(**env)


def test_it_starts_production_without_stripe_only_when_told_to_use_the_test_checkout():
    env = {k: v for k, v in PRODUCTION.items() if not k.startswith("STRIPE_")}
    with pytest.raises(ConfigError, match="STRIPE_SECRET_KEY"):
        load(**env)
    assert load(**env, BILLING_BACKEND="local")["BILLING_BACKEND"] == "local"


def test_it_hardens_cookies_and_hosts_in_production():
    loaded = load(**PRODUCTION)
    assert loaded["SESSION_COOKIE_NAME"] == "__Host-session" and loaded["SESSION_COOKIE_SECURE"]
    assert loaded["REMEMBER_COOKIE_NAME"] == "__Host-remember" and loaded["REMEMBER_COOKIE_SECURE"]


def test_it_reads_a_list_of_trusted_hosts():
    assert load(TRUSTED_HOSTS="a.example, b.example,")["TRUSTED_HOSTS"] == [
        "a.example",
        "b.example",
    ]


def test_it_generates_a_local_secret_key_once_and_keeps_it(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path / "instance")
    first = config.load({})["SECRET_KEY"]
    second = config.load({})["SECRET_KEY"]
    assert first == second and len(first) >= 40
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.read_text() == first
    assert key_file.stat().st_mode & 0o777 == 0o600


# --- Start-up through the real `flask` command ------------------------------------------


def run_flask(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    clean.update(SECRET)
    clean.update(env)
    return subprocess.run(
        [str(FLASK), "--app", "club", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DATABASE_URL", "nonsense"), ("MAIL_PORT", "abc"), ("REDIS_URL", "http://nope")],
)
def test_it_stops_start_up_with_one_line_naming_the_variable(tmp_path, variable, value):
    result = run_flask(tmp_path, "routes", **{variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Configuration error: {variable}")
    assert "Traceback" not in result.stderr + result.stdout


def test_it_starts_with_a_good_configuration(tmp_path):
    result = run_flask(tmp_path, "routes", DATABASE_URL=f"sqlite:///{tmp_path}/c.sqlite3")
    assert result.returncode == 0, result.stderr
    assert "/healthz" in result.stdout and "/settings" in result.stdout


def test_it_reads_a_dot_env_file_without_overriding_the_environment(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("SITE_NAME=Club From Dotenv\nBILLING_GRACE_DAYS=5\n")
    script = (
        "import sys, club; s = club.load_settings(sys.argv[1]); "
        "print(s['SITE_NAME'], s['BILLING_GRACE_DAYS'])"
    )
    env = {**os.environ, **SECRET, "BILLING_GRACE_DAYS": "7"}
    env.pop("SITE_NAME", None)
    result = subprocess.run(
        [sys.executable, "-c", script, str(dotenv)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.strip() == "Club From Dotenv 7", result.stderr


def test_the_production_example_documents_every_variable_the_site_reads():
    source = (PROJECT_ROOT / "club" / "config.py").read_text()
    names = set(re.findall(r'env_\w+\(\s*env,\s*"([A-Z_]+)"', source))
    example = (PROJECT_ROOT / "platform" / "env.example").read_text()
    # Each as a setting line ("NAME=…", or "# NAME=…" for one left unset), not a mention.
    listed = set(re.findall(r"^(?:# )?([A-Z_]+)=", example, re.MULTILINE))
    assert len(names) > 20
    assert names - listed == set()


def gunicorn_settings(monkeypatch, **env: str) -> dict:
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(PROJECT_ROOT / "platform" / "gunicorn.conf.py"))


def test_it_bounds_web_statements_on_postgresql_only_under_gunicorn(monkeypatch):
    monkeypatch.delenv("DATABASE_STATEMENT_TIMEOUT", raising=False)
    assert load()["DATABASE_STATEMENT_TIMEOUT"] == 0  # commands, workers, migrations
    web = gunicorn_settings(monkeypatch)  # sets it in the environment web processes read
    seconds = load(DATABASE_STATEMENT_TIMEOUT=os.environ["DATABASE_STATEMENT_TIMEOUT"])[
        "DATABASE_STATEMENT_TIMEOUT"
    ]
    assert 0 < seconds < web["timeout"]
    postgres = engine_options("postgresql+psycopg://club@db.internal/club", seconds)
    assert postgres["connect_args"]["options"] == f"-c statement_timeout={seconds}s"
    assert "connect_args" not in engine_options("sqlite:///instance/club.sqlite3", seconds)


def test_it_sizes_gunicorn_from_the_cores_it_may_use_and_caps_it(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)))
    assert gunicorn_settings(monkeypatch)["workers"] == 9  # not 129 on a 64-core host
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert gunicorn_settings(monkeypatch)["workers"] == 5
    assert gunicorn_settings(monkeypatch, WEB_CONCURRENCY="16")["workers"] == 16


def test_gunicorn_reads_its_settings_from_dotenv_and_the_environment_wins(tmp_path):
    # A copy of the file beside its own .env: the project's .env is never touched.
    (tmp_path / "platform").mkdir()
    shutil.copy(PROJECT_ROOT / "platform" / "gunicorn.conf.py", tmp_path / "platform")
    (tmp_path / ".env").write_text("DATABASE_STATEMENT_TIMEOUT=3\nGUNICORN_THREADS=7\nPORT=8123\n")
    report = (
        "import os, runpy; s = runpy.run_path('platform/gunicorn.conf.py');"
        "print(os.environ['DATABASE_STATEMENT_TIMEOUT'], s['threads'], s['bind'])"
    )
    names = ("DATABASE_STATEMENT_TIMEOUT", "GUNICORN_THREADS", "GUNICORN_BIND", "PORT")
    env = {k: v for k, v in os.environ.items() if k not in names}

    def run(**overrides: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", report],
            cwd=tmp_path,
            env={**env, **overrides},
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.split()

    assert run() == ["3", "7", "0.0.0.0:8123"]
    assert run(GUNICORN_THREADS="2", DATABASE_STATEMENT_TIMEOUT="9") == ["9", "2", "0.0.0.0:8123"]
    # Set but empty in the environment, as the app reads it: the default, not the file's.
    assert run(GUNICORN_THREADS="", PORT="") == ["3", "4", "0.0.0.0:8000"]
    # An empty statement timeout is gunicorn's default too, never the app's "none".
    assert run(DATABASE_STATEMENT_TIMEOUT="") == ["20", "7", "0.0.0.0:8123"]


def test_migrating_an_unreachable_database_says_so_in_one_line(tmp_path):
    """The release step: 150 lines of traceback hid the one that mattered."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    url = f"postgresql://club@127.0.0.1:{closed_port}/club"

    result = run_flask(tmp_path, "db", "upgrade", DATABASE_URL=url)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("Error: Cannot use the database: connection failed")
    )
