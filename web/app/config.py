"""Configuration classes for every kind of app the factory builds.

`create_app()` picks one from ``APP_ENV`` (``dev`` or ``prod``); tests pass a
dict instead, which the factory applies last.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar

# Values shipped in .env.example. Production must never run with one of them.
PLACEHOLDER_SECRETS = frozenset(
    {
        "change-me",
        "changeme",
        "replace-me-with-a-long-random-string-of-64-characters-or-more",
        "dev",
        "secret",
    }
)
MIN_SECRET_KEY_LENGTH = 32
MAX_PROXY_HOPS = 5
# Who may set X-Forwarded-* unless FORWARDED_ALLOW_IPS says otherwise; the
# same default and variable as gunicorn's forwarded_allow_ips.
DEFAULT_FORWARDED_ALLOW_IPS = "127.0.0.1,::1"
GENERATE_HINT = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"


def is_placeholder(value: str) -> bool:
    """True when ``value`` is, or looks like, a placeholder from .env.example."""
    return value in PLACEHOLDER_SECRETS or value.lower().startswith(("change", "replace"))


class ConfigError(RuntimeError):
    """Raised when the environment cannot produce a safe configuration."""


# The settings that may come from a file instead (NAME_FILE=/path), as the
# official Docker images allow: Docker Swarm and Kubernetes hand secrets to a
# container as files under /run/secrets, never as environment variables.
FILE_SETTINGS = ("SECRET_KEY", "DATABASE_URL", "ENCRYPTION_KEY", "MAIL_PASSWORD", "OIDC_CLIENT_SECRET")


def read_environment(environ: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """``environ`` (default ``os.environ``) with each ``NAME_FILE`` of FILE_SETTINGS replaced by ``NAME``.

    ``NAME`` gets the file's text without its surrounding whitespace (the
    trailing newline an editor or ``echo`` leaves). An empty ``NAME`` or
    ``NAME_FILE`` counts as unset, as in the official images' entrypoints.
    Raises ConfigError when both ``NAME`` and ``NAME_FILE`` are set, when
    the file cannot be read (naming the path and the reason) or holds nothing.
    """
    env = os.environ if environ is None else environ
    resolved: dict[str, str] | None = None
    for name in FILE_SETTINGS:
        path = env.get(f"{name}_FILE", "")
        if not path:
            continue
        if env.get(name):
            raise ConfigError(
                f"{name} and {name}_FILE are both set; unset one of them (on Docker Swarm, keep {name}_FILE)"
            )
        try:
            with open(path, encoding="utf-8") as fh:
                value = fh.read().strip()
        except OSError as exc:
            raise ConfigError(
                f"{name}_FILE={path!r} cannot be read ({exc.strerror or exc}); "
                f"point it at a readable file that holds {name}, like /run/secrets/{name.lower()}"
            ) from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{name}_FILE={path!r} is not UTF-8 text; write {name} into it as plain text") from exc
        if not value:
            raise ConfigError(f"{name}_FILE={path!r} is empty; write {name} into it")
        if resolved is None:
            resolved = dict(env)
        resolved[name] = value
    return env if resolved is None else resolved


class BaseConfig:
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None
    # No pool_pre_ping: app/db/pool.py finds closed PostgreSQL connections
    # without a round trip per request.
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {}
    # Notes are text; 1 MiB per request leaves room for long notes while a
    # runaway upload is refused before it reaches the database.
    MAX_CONTENT_LENGTH = 1024 * 1024
    # How long a SQLite write waits for another's lock before the request
    # gets a 503 (the embedded default; PostgreSQL locks per row).
    SQLITE_BUSY_TIMEOUT_MS = 5000
    NOTES_PER_PAGE = 20
    # Notes in the trash longer than this are deleted by `flask notes purge-trash`.
    TRASH_RETENTION_DAYS = 30
    # A note's history (app/notes/history.py): saves by the same client this
    # close together fold into one revision; revisions whose last save is
    # older than REVISIONS_KEEP_DAYS go in `flask notes purge-trash` (None:
    # keep them as long as their note). Dev and prod read both from the environment.
    REVISION_FOLD_WINDOW = timedelta(minutes=2)
    REVISIONS_KEEP_DAYS: int | None = None
    # Attachments (app/notes/attachments.py): where their bytes live (None: the
    # instance folder's attachments/), the largest file, and what one user may
    # hold in all. With ATTACHMENTS_ACCEL_REDIRECT (the stack: nginx's internal
    # location) the app checks who may read a file and nginx sends it.
    ATTACHMENTS_DIR: str | None = None
    ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    ATTACHMENT_QUOTA_BYTES = 100 * 1024 * 1024
    ATTACHMENTS_ACCEL_REDIRECT = ""
    API_MAX_PAGE_SIZE = 100
    # Imports and exports read or write a whole notebook: per user, at most
    # this many in USAGE_WINDOW (app/limits/).
    IMPORTS_PER_WINDOW = 10
    EXPORTS_PER_WINDOW = 30
    USAGE_WINDOW = timedelta(hours=1)
    # What one import may hold (app/notes/transfer.py): this many notes, and an
    # archive this large besides its files (ATTACHMENT_QUOTA_BYTES bounds those).
    # Its entries may number twice the notes, and its text may expand to five
    # times the archive (past that it is a zip bomb). Dev and prod read both
    # from the environment (IMPORT_MAX_NOTES, IMPORT_MAX_MB).
    IMPORT_MAX_NOTES = 10_000
    IMPORT_MAX_BYTES = 20 * 1024 * 1024
    # API calls (app/api/ratelimit.py): per token and per user (all their
    # tokens and browser sessions together), in fixed windows of this many seconds.
    API_RATE_LIMIT_PER_TOKEN = 600
    API_RATE_LIMIT_PER_USER = 1200
    API_RATE_LIMIT_WINDOW_SECONDS = 60

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)
    # Server-side session limits (app/accounts/sessions.py). A "remember me" session
    # may idle as long as its cookie lives; others end after two idle hours.
    SESSION_IDLE_TIMEOUT = timedelta(hours=2)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(days=30)

    # Login throttling (app/accounts/throttle.py): failures allowed per window.
    LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
    LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP = 5
    LOGIN_MAX_FAILURES_PER_DEVICE = 10
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 20
    LOGIN_MAX_FAILURES_PER_IP = 100
    DEVICE_COOKIE_NAME = "device"

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session does

    # argon2id at OWASP's first recommended setting (m=19 MiB, t=2, p=1).
    PASSWORD_HASH_TIME_COST = 2
    PASSWORD_HASH_MEMORY_KIB = 19 * 1024
    PASSWORD_HASH_PARALLELISM = 1

    # flask-smorest / OpenAPI
    API_TITLE = "Notes API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.1.0"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_REDOC_PATH = "docs"
    # Only switches the page on: app/api/docs.py builds the script's URL per request.
    OPENAPI_REDOC_URL = "/static/vendor/redoc/redoc.standalone.js"

    ACCESS_LOG = True
    # "text" (one readable line) or "json" (one object per line, for log
    # collectors): the app's logs; gunicorn.conf.py reads LOG_FORMAT too.
    LOG_FORMAT = "text"
    # The port of the metrics listener (app/metrics/exposition.py): /metrics
    # is answered on connections to it only. 0: no metrics served.
    METRICS_PORT = 0
    # Where the stack's own jobs leave their state for the metrics
    # (app/metrics/status.py): the certificate's and the backups'. "": none.
    OPS_STATUS_DIR = ""

    # Who may create an account (app/accounts/rules.py): "open", "invite"
    # (a link from an administrator) or "closed". Production reads REGISTRATION.
    REGISTRATION = "open"

    # Two-factor login (app/accounts/twofactor.py). With REQUIRE_2FA, an
    # account without it can only set it up (or log out) after logging in.
    # Production reads REQUIRE_2FA (1 or 0). ENCRYPTION_KEY, when set, seals
    # the TOTP secrets instead of SECRET_KEY (see docs/security.md).
    REQUIRE_2FA = False
    ENCRYPTION_KEY: str | None = None
    # How long a right password waits for its code before the login starts over.
    TWO_FACTOR_LOGIN_TIMEOUT = timedelta(minutes=5)

    # A request that waited longer than this (seconds) between nginx and the
    # app is answered 503 at once instead of run (app/http/overload.py).
    # Measured in docs/reliability.md ("overload"); 0 turns shedding off.
    REQUEST_QUEUE_TIMEOUT = 1.0

    # Outgoing mail (app/accounts/mail.py), for password reset links. No
    # MAIL_SERVER: no mail, and the login page says to ask an administrator.
    MAIL_BACKEND = "smtp"  # Flask-Mailman would pick an in-memory outbox under TESTING
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_DEFAULT_SENDER = "Notes <notes@localhost>"
    # Seconds an SMTP server gets to answer before the send is given up (and logged).
    MAIL_TIMEOUT = 10
    # Password reset links (app/accounts/resets.py): how long one works, and
    # how many may be asked for per email address and per client address in
    # PASSWORD_RESET_WINDOW, so that nobody can flood an inbox.
    PASSWORD_RESET_TTL = timedelta(minutes=30)
    PASSWORD_RESET_WINDOW = timedelta(hours=1)
    PASSWORD_RESET_MAX_PER_EMAIL = 3
    PASSWORD_RESET_MAX_PER_IP = 20

    # The proxies whose X-Forwarded-* headers are believed (app/http/proxies.py),
    # when PROXY_HOPS is above 0. A client reaching the app any other way
    # cannot pick its own address or scheme with such headers.
    TRUSTED_PROXIES: tuple[str, ...] = ("127.0.0.1/32", "::1/128")

    # Single sign-on with an OpenID Connect provider (app/accounts/sso.py):
    # off while OIDC_ISSUER is empty. Dev and prod read them from the environment.
    OIDC_ISSUER = ""
    OIDC_CLIENT_ID = ""
    OIDC_CLIENT_SECRET = ""
    OIDC_BUTTON_LABEL = "Log in with SSO"
    # Create an account on a first SSO login, as far as REGISTRATION allows.
    OIDC_AUTO_CREATE = False
    # False: /auth/login offers SSO only; /auth/login/password stays for administrators.
    PASSWORD_LOGIN = True

    # The path Notes is served under, like "/notes" for https://example.com/notes/;
    # "" for the root of a domain. Links, redirects, cookies and the OpenAPI
    # document follow it (app/http/prefix.py). Dev and prod read URL_PREFIX.
    URL_PREFIX = ""
    # The login throttle's device cookie is sent to the login pages only.
    DEVICE_COOKIE_PATH = "/auth/"


class DevConfig(BaseConfig):
    """A laptop: SQLite file in the instance folder, a fixed dev secret."""

    ENV_NAME = "dev"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = read_environment(environ)
        self.DEBUG = env.get("FLASK_DEBUG", "0") == "1"
        # None: the factory uses a random key kept in the instance folder, so
        # that a laptop's sessions cannot be forged with a well-known key.
        self.SECRET_KEY = env.get("SECRET_KEY") or None
        # None means "a SQLite file under the instance folder"; the factory
        # fills it in because the instance path is known only once the app is.
        url = env.get("DATABASE_URL")
        self.SQLALCHEMY_DATABASE_URI = validate_database_url(url) if url else None
        _read_api_rate_limits(self, env)
        _read_observability(self, env, default_log_format="text")
        _read_revisions(self, env)
        _read_attachments(self, env)
        _read_transfer(self, env)
        self.REGISTRATION = validate_registration(env.get("REGISTRATION", "open"))
        _read_mail(self, env)
        _read_two_factor(self, env)
        _read_oidc(self, env)
        self.URL_PREFIX = validate_url_prefix(env.get("URL_PREFIX", ""))


class TestConfig(BaseConfig):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production-000000"  # noqa: S105 - tests only
    SQLALCHEMY_DATABASE_URI = "sqlite:///:memory:"
    WTF_CSRF_ENABLED = False
    # Real argon2 parameters are slow on purpose; hundreds of tests log in,
    # so tests use the cheapest legal parameters. The algorithm is the same.
    PASSWORD_HASH_TIME_COST = 1
    PASSWORD_HASH_MEMORY_KIB = 8
    ACCESS_LOG = False


class ProdConfig(BaseConfig):
    """Production: every secret comes from the environment, nothing defaults."""

    ENV_NAME = "prod"
    DEBUG = False
    TESTING = False
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-session"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_NAME = "__Host-remember"
    # __Secure- rather than __Host-: it is scoped to /auth/, which __Host- forbids.
    DEVICE_COOKIE_NAME = "__Secure-device"
    PREFERRED_URL_SCHEME = "https"
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {"pool_size": 5, "max_overflow": 5}

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = read_environment(environ)
        self.SECRET_KEY = validate_secret_key(env.get("SECRET_KEY"))
        self.SQLALCHEMY_DATABASE_URI = validate_database_url(env.get("DATABASE_URL"))
        hosts = env.get("TRUSTED_HOSTS", "").strip()
        self.TRUSTED_HOSTS = [h.strip() for h in hosts.split(",") if h.strip()] or None
        # Production runs behind nginx: one proxy hop unless told otherwise
        # (e.g. 2 behind a cloud load balancer, 0 when exposed directly).
        self.PROXY_HOPS = validate_proxy_hops(env.get("PROXY_HOPS", "1"))
        self.TRUSTED_PROXIES = validate_trusted_proxies(env.get("FORWARDED_ALLOW_IPS", DEFAULT_FORWARDED_ALLOW_IPS))
        self.SESSION_IDLE_TIMEOUT = timedelta(minutes=_positive_int(env, "SESSION_IDLE_MINUTES", 120))
        self.SESSION_ABSOLUTE_TIMEOUT = timedelta(days=_positive_int(env, "SESSION_ABSOLUTE_DAYS", 30))
        self.REMEMBER_COOKIE_DURATION = min(self.SESSION_ABSOLUTE_TIMEOUT, BaseConfig.REMEMBER_COOKIE_DURATION)
        self.REQUEST_QUEUE_TIMEOUT = _whole_number(env, "REQUEST_QUEUE_TIMEOUT_MS", 1000) / 1000
        _read_api_rate_limits(self, env)
        _read_observability(self, env, default_log_format="json")
        _read_revisions(self, env)
        _read_attachments(self, env)
        _read_transfer(self, env)
        # A server reachable by strangers lets in only whom an administrator invites, unless told otherwise.
        self.REGISTRATION = validate_registration(env.get("REGISTRATION", "invite"))
        _read_mail(self, env)
        if self.MAIL_SERVER and not self.TRUSTED_HOSTS:
            # A reset link is built from the request's Host header, which
            # whoever asks for the reset chooses: the mail would carry their link.
            raise ConfigError(
                "MAIL_SERVER is set but TRUSTED_HOSTS is not, so a reset link could name any host a stranger "
                "asks with; set TRUSTED_HOSTS to the server's host name, like TRUSTED_HOSTS=notes.example.com"
            )
        _read_two_factor(self, env, production=True)
        _read_oidc(self, env, production=True)
        self.URL_PREFIX = validate_url_prefix(env.get("URL_PREFIX", ""))


LOG_FORMATS = ("text", "json")


def _read_observability(config: BaseConfig, env: Mapping[str, str], *, default_log_format: str) -> None:
    """LOG_FORMAT (text or json), METRICS_PORT (0: off) and OPS_STATUS_DIR, checked."""
    log_format = env.get("LOG_FORMAT", "").strip().lower() or default_log_format
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT={env['LOG_FORMAT']!r}: use LOG_FORMAT=json or LOG_FORMAT=text")
    config.LOG_FORMAT = log_format
    port = _whole_number(env, "METRICS_PORT", 0)
    if port > 65535:
        raise ConfigError(f"METRICS_PORT={port} is not a TCP port; use 1-65535, or 0 for no metrics")
    config.METRICS_PORT = port
    config.OPS_STATUS_DIR = env.get("OPS_STATUS_DIR", "").strip()


OIDC_REDIRECT_HINT = "register https://YOUR-SERVER/auth/oidc/callback as its redirect URI"
_ON = ("on", "true", "yes", "1")
_OFF = ("off", "false", "no", "0")


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    """``env[name]`` as on or off (also true/false, yes/no, 1/0), ``default`` when unset; ConfigError otherwise."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _ON:
        return True
    if raw in _OFF:
        return False
    raise ConfigError(
        f"{name}={env[name]!r} is neither on nor off; set it like {name}={'off' if default else 'on'} "
        f"(or {name}={'on' if default else 'off'}, the default)"
    )


def _read_oidc(config: BaseConfig, env: Mapping[str, str], *, production: bool = False) -> None:
    """The single sign-on settings from ``env``; ConfigError when they are half set or contradict each other."""
    issuer = env.get("OIDC_ISSUER", "").strip()
    client_id = env.get("OIDC_CLIENT_ID", "").strip()
    secret = env.get("OIDC_CLIENT_SECRET", "").strip()
    label = env.get("OIDC_BUTTON_LABEL", "").strip()
    config.OIDC_ISSUER, config.OIDC_CLIENT_ID, config.OIDC_CLIENT_SECRET = validate_oidc(
        issuer, client_id, secret, production=production
    )
    config.OIDC_BUTTON_LABEL = label[:60] or BaseConfig.OIDC_BUTTON_LABEL
    config.OIDC_AUTO_CREATE = _switch(env, "OIDC_AUTO_CREATE", False)
    config.PASSWORD_LOGIN = _switch(env, "PASSWORD_LOGIN", True)
    if not config.PASSWORD_LOGIN and not config.OIDC_ISSUER:
        raise ConfigError(
            "PASSWORD_LOGIN=off needs single sign-on: set OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET, "
            "or set PASSWORD_LOGIN=on"
        )


def validate_oidc(issuer: str, client_id: str, secret: str, *, production: bool = False) -> tuple[str, str, str]:
    """The issuer, client id and secret of single sign-on, all three or none.

    Raises ConfigError naming what is missing: half-configured SSO must not
    start. In production the issuer must be https (a loopback address aside).
    """
    given = {"OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": client_id, "OIDC_CLIENT_SECRET": secret}
    missing = [name for name, value in given.items() if not value]
    if len(missing) == len(given):
        return "", "", ""
    if missing:
        raise ConfigError(
            f"single sign-on is half configured: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set; "
            "set OIDC_ISSUER (the provider's issuer URL), OIDC_CLIENT_ID and OIDC_CLIENT_SECRET "
            f"(the client registered at the provider; {OIDC_REDIRECT_HINT}), or none of them"
        )
    if production and is_placeholder(secret):
        raise ConfigError("OIDC_CLIENT_SECRET is the placeholder from .env.example; set the secret the provider gave")
    loopback = issuer.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
    if not issuer.startswith("https://") and not (loopback or not production):
        raise ConfigError(
            f"OIDC_ISSUER={issuer!r} is not an https URL; set it like OIDC_ISSUER=https://sso.example.com/realms/main"
        )
    if not issuer.startswith(("https://", "http://")):
        raise ConfigError(
            f"OIDC_ISSUER={issuer!r} is not a URL; set it like OIDC_ISSUER=https://sso.example.com/realms/main"
        )
    # Kept exactly as given: it must equal the "iss" of every ID token (some end in "/").
    return issuer, client_id, secret


API_RATE_LIMIT_SETTINGS = ("API_RATE_LIMIT_PER_TOKEN", "API_RATE_LIMIT_PER_USER", "API_RATE_LIMIT_WINDOW_SECONDS")


def _read_api_rate_limits(config: BaseConfig, env: Mapping[str, str]) -> None:
    """Set the API rate limits from ``env`` where given; ConfigError for one that is not a whole number above zero."""
    for name in API_RATE_LIMIT_SETTINGS:
        setattr(config, name, _positive_int(env, name, getattr(BaseConfig, name)))


def _read_attachments(config: BaseConfig, env: Mapping[str, str]) -> None:
    """ATTACHMENTS_DIR, ATTACHMENT_MAX_MB, ATTACHMENT_QUOTA_MB and ATTACHMENTS_ACCEL_REDIRECT.

    Raises ConfigError for a bad one, saying how to set it.
    """
    config.ATTACHMENTS_DIR = env.get("ATTACHMENTS_DIR", "").strip() or None
    mib = 1024 * 1024
    config.ATTACHMENT_MAX_BYTES = _positive_int(env, "ATTACHMENT_MAX_MB", BaseConfig.ATTACHMENT_MAX_BYTES // mib) * mib
    config.ATTACHMENT_QUOTA_BYTES = (
        _positive_int(env, "ATTACHMENT_QUOTA_MB", BaseConfig.ATTACHMENT_QUOTA_BYTES // mib) * mib
    )
    if config.ATTACHMENT_QUOTA_BYTES < config.ATTACHMENT_MAX_BYTES:
        raise ConfigError(
            "ATTACHMENT_QUOTA_MB is below ATTACHMENT_MAX_MB, so no file of the largest size would fit; "
            "raise ATTACHMENT_QUOTA_MB or lower ATTACHMENT_MAX_MB"
        )
    accel = env.get("ATTACHMENTS_ACCEL_REDIRECT", "").strip()
    if accel and not re.fullmatch(r"/[A-Za-z0-9_/-]*/", accel):
        raise ConfigError(
            f"ATTACHMENTS_ACCEL_REDIRECT={accel!r} is not an nginx location path; "
            "set it like ATTACHMENTS_ACCEL_REDIRECT=/_attachments/ (slashes at both ends), or leave it empty"
        )
    config.ATTACHMENTS_ACCEL_REDIRECT = accel


TRANSFER_SETTINGS = ("IMPORT_MAX_NOTES", "IMPORTS_PER_WINDOW", "EXPORTS_PER_WINDOW")


def _read_transfer(config: BaseConfig, env: Mapping[str, str]) -> None:
    """IMPORT_MAX_NOTES, IMPORT_MAX_MB, IMPORTS_PER_WINDOW and EXPORTS_PER_WINDOW.

    Raises ConfigError for one that is not a whole number above zero, saying how to set it.
    """
    for name in TRANSFER_SETTINGS:
        setattr(config, name, _positive_int(env, name, getattr(BaseConfig, name)))
    mib = 1024 * 1024
    config.IMPORT_MAX_BYTES = _positive_int(env, "IMPORT_MAX_MB", BaseConfig.IMPORT_MAX_BYTES // mib) * mib


def _read_revisions(config: BaseConfig, env: Mapping[str, str]) -> None:
    """REVISION_FOLD_SECONDS (0: every save is a revision) and REVISIONS_KEEP_DAYS (unset: keep all)."""
    config.REVISION_FOLD_WINDOW = timedelta(seconds=_whole_number(env, "REVISION_FOLD_SECONDS", 120))
    config.REVISIONS_KEEP_DAYS = _positive_int(env, "REVISIONS_KEEP_DAYS", 0) or None


def _read_mail(config: BaseConfig, env: Mapping[str, str]) -> None:
    """The SMTP settings and the reset links' lifetime from ``env``; ConfigError for one that cannot work.

    Nothing here is required: without MAIL_SERVER no mail is sent.
    """
    config.MAIL_SERVER = env.get("MAIL_SERVER", "").strip() or None
    config.MAIL_USE_TLS = _switch(env, "MAIL_USE_TLS", False)
    config.MAIL_USE_SSL = _switch(env, "MAIL_USE_SSL", False)
    if config.MAIL_USE_TLS and config.MAIL_USE_SSL:
        raise ConfigError(
            "MAIL_USE_TLS and MAIL_USE_SSL are both set; use MAIL_USE_TLS=true for STARTTLS (port 587) "
            "or MAIL_USE_SSL=true for TLS from the start (port 465), not both"
        )
    default_port = 465 if config.MAIL_USE_SSL else 587 if config.MAIL_USE_TLS else 25
    config.MAIL_PORT = _positive_int(env, "MAIL_PORT", default_port)
    if config.MAIL_PORT > 65535:
        raise ConfigError(f"MAIL_PORT={config.MAIL_PORT} is not a port; set it like MAIL_PORT={default_port}")
    config.MAIL_USERNAME = env.get("MAIL_USERNAME") or None
    config.MAIL_PASSWORD = env.get("MAIL_PASSWORD") or None
    config.MAIL_DEFAULT_SENDER = env.get("MAIL_FROM", "").strip() or BaseConfig.MAIL_DEFAULT_SENDER
    config.PASSWORD_RESET_TTL = timedelta(minutes=_positive_int(env, "PASSWORD_RESET_MINUTES", 30))


def _read_two_factor(config: BaseConfig, env: Mapping[str, str], *, production: bool = False) -> None:
    """REQUIRE_2FA (on/off) and ENCRYPTION_KEY from ``env``; ConfigError for a bad value."""
    config.REQUIRE_2FA = _switch(env, "REQUIRE_2FA", False)
    key = env.get("ENCRYPTION_KEY", "").strip() or None
    if key is not None and production and (is_placeholder(key) or len(key) < MIN_SECRET_KEY_LENGTH):
        raise ConfigError(
            f"ENCRYPTION_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters and not a placeholder; {GENERATE_HINT}"
        )
    config.ENCRYPTION_KEY = key


# Who may create an account: anyone, holders of an invitation link from an
# administrator, or nobody (accounts then come from `flask users create`).
REGISTRATION_MODES = ("open", "invite", "closed")


def validate_registration(value: str) -> str:
    """``value`` as a REGISTRATION mode; ConfigError naming the choices otherwise."""
    mode = value.strip().lower()
    if mode not in REGISTRATION_MODES:
        raise ConfigError(
            f"REGISTRATION={value!r} is not one of {', '.join(REGISTRATION_MODES)}; set it like REGISTRATION=invite"
        )
    return mode


# ASCII digits only: str.isdigit() also takes "²", which int() then refuses with a traceback.
_DIGITS = re.compile(r"[0-9]+")


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    """``env[name]`` as a whole number above zero; ConfigError otherwise."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not _DIGITS.fullmatch(raw) or int(raw) < 1:
        raise ConfigError(f"{name}={raw!r} is not a whole number above zero; set it like {name}={default}")
    return int(raw)


def _whole_number(env: Mapping[str, str], name: str, default: int) -> int:
    """``env[name]`` as a whole number, zero allowed; ConfigError otherwise."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not _DIGITS.fullmatch(raw):
        raise ConfigError(f"{name}={raw!r} is not a whole number (0 or more); set it like {name}={default}")
    return int(raw)


def validate_secret_key(value: str | None) -> str:
    """Return ``value`` if it is a usable production secret key.

    Raises ConfigError with a one-line fix when it is missing, too short or a
    placeholder copied from .env.example.
    """
    if not value:
        raise ConfigError(f"SECRET_KEY is not set; {GENERATE_HINT}")
    if is_placeholder(value):
        raise ConfigError(f"SECRET_KEY is the placeholder from .env.example; {GENERATE_HINT}")
    if len(value) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"SECRET_KEY is {len(value)} characters, needs at least {MIN_SECRET_KEY_LENGTH}; {GENERATE_HINT}"
        )
    return value


def validate_proxy_hops(value: str) -> int:
    """Return ``value`` as the number of trusted proxies in front of the app.

    Raises ConfigError unless it is a whole number from 0 to 5: a wrong count
    lets clients forge their address and scheme, so a typo must not start.
    """
    try:
        hops = int(value.strip())
    except ValueError:
        hops = -1
    if not 0 <= hops <= MAX_PROXY_HOPS:
        raise ConfigError(
            f"PROXY_HOPS={value!r} is not a whole number from 0 to {MAX_PROXY_HOPS}; "
            "set it to the number of proxies in front of the app (1 for nginx alone)"
        )
    return hops


def validate_trusted_proxies(value: str) -> tuple[str, ...]:
    """``value`` (comma-separated addresses or networks, or ``*``) as the networks of the trusted proxies.

    Raises ConfigError for an entry that is neither, or an empty list: a typo
    must not start an app that believes every client's forwarded headers.
    """
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    if entries == ["*"]:
        return ("0.0.0.0/0", "::/0")
    networks = []
    for entry in entries:
        try:
            networks.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError as exc:
            raise ConfigError(
                f"FORWARDED_ALLOW_IPS has {entry!r}, which is not an IP address or network; "
                "list the addresses of the proxies in front of the app, e.g. 172.16.238.0/24"
            ) from exc
    if not networks:
        raise ConfigError("FORWARDED_ALLOW_IPS is empty; list the proxies in front of the app, e.g. 172.16.238.0/24")
    return tuple(networks)


# One path segment of URL_PREFIX: RFC 3986's unreserved characters, which
# need no escaping anywhere a prefix goes (URLs, cookie paths, nginx locations).
_PREFIX_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")
URL_PREFIX_HINT = "set it like URL_PREFIX=/notes, or leave it empty to serve Notes at the root of its domain"


def validate_url_prefix(value: str) -> str:
    """``value`` as the path Notes is served under: "" (the root) or like "/notes" or "/apps/notes".

    "/" counts as the root. Raises ConfigError saying what to fix for a value
    that does not start with "/", ends with "/", has an empty, "." or ".."
    segment, or characters other than letters, digits and ``-._~``: a prefix
    goes unescaped into links, cookie paths and nginx's locations.
    """
    prefix = value.strip()
    if prefix in ("", "/"):
        return ""
    if not prefix.startswith("/"):
        raise ConfigError(f"URL_PREFIX={value!r} does not start with '/'; {URL_PREFIX_HINT}")
    if prefix.endswith("/"):
        raise ConfigError(
            f"URL_PREFIX={value!r} ends with '/'; drop the trailing slash (URL_PREFIX={prefix.rstrip('/')})"
        )
    for segment in prefix[1:].split("/"):
        if segment in ("", ".", ".."):
            raise ConfigError(f"URL_PREFIX={value!r} has an empty, '.' or '..' segment; {URL_PREFIX_HINT}")
        if not _PREFIX_SEGMENT.fullmatch(segment):
            raise ConfigError(
                f"URL_PREFIX={value!r} has characters other than letters, digits and '-._~' in {segment!r}; "
                f"{URL_PREFIX_HINT}"
            )
    return prefix


def validate_database_url(value: str | None) -> str:
    """Return a SQLAlchemy URL for ``value``; raise ConfigError when missing."""
    if not value:
        raise ConfigError("DATABASE_URL is not set; set it to postgresql+psycopg://USER:PASSWORD@HOST:5432/DBNAME")
    # Providers hand out postgres:// URLs; SQLAlchemy needs the psycopg driver.
    if value.startswith("postgres://"):
        value = "postgresql+psycopg://" + value[len("postgres://") :]
    elif value.startswith("postgresql://"):
        value = "postgresql+psycopg://" + value[len("postgresql://") :]
    return value


def config_for_environment(environ: Mapping[str, str] | None = None) -> BaseConfig | type[BaseConfig]:
    """Pick the configuration named by APP_ENV (default ``dev``)."""
    env = os.environ if environ is None else environ
    name = env.get("APP_ENV", "dev").strip().lower()
    if name in ("prod", "production"):
        return ProdConfig(env)
    if name in ("dev", "development", ""):
        return DevConfig(env)
    if name == "test":
        return TestConfig
    raise ConfigError(f"APP_ENV={name!r} is not known; use 'dev' or 'prod'")
