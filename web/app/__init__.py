"""Notes: a self-hosted notes service.

``create_app`` is the one factory behind every app: tests, a laptop and
gunicorn in production (``gunicorn "app:create_app()"``). It reads as the
table of contents of the package; docs/architecture.md is the map.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from flask import Flask, redirect, url_for

from . import accounts, api, db, health, http, metrics, notes
from .config import BaseConfig, TestConfig, config_for_environment, validate_url_prefix
from .extensions import csrf, login_manager, mail, migrate, sso
from .extensions import db as database
from .http import prefix as url_prefix
from .http.proxies import TrustedProxyFix
from .models import include_in_autogenerate, render_alembic_type

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def create_app(config: dict[str, Any] | type[BaseConfig] | BaseConfig | None = None) -> Flask:
    """Build a Notes app.

    ``config`` may be:
    - None: APP_ENV picks DevConfig (default) or ProdConfig, which raises
      ``ConfigError`` when a required secret is missing or a placeholder;
    - a config class or object, used as it is;
    - a dict, applied last over TestConfig when it sets TESTING, otherwise
      over the configuration APP_ENV picks (the flaskr tutorial's test override).
    """
    app = Flask(__name__, instance_relative_config=True)
    _configure(app, config)

    # The database: engines, pool checks, SQLite pragmas; migrations.
    database.init_app(app)
    db.init_app(app)
    migrate.init_app(
        app,
        database,
        directory=MIGRATIONS_DIR,
        compare_type=True,
        render_item=render_alembic_type,
        include_object=include_in_autogenerate,
    )

    # Browser security and logins.
    csrf.init_app(app)
    login_manager.init_app(app)
    # Mail (password reset links), when MAIL_SERVER is set.
    mail.init_app(app)
    sso.init_app(app)

    # The domains, each with its pages, API resources and CLI commands. Notes
    # first: the OpenAPI document lists operations in the order they are added.
    api.init_app(app)
    notes.init_app(app)
    accounts.init_app(app)
    health.init_app(app)
    api.register(app)

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        return redirect(url_for("notes.index"))

    # Cross-cutting HTTP: errors, request log, security headers.
    http.init_app(app)
    # Prometheus metrics: counted on every request, served on METRICS_PORT
    # only (the outermost middleware, so the public port never reaches it).
    metrics.init_app(app)
    return app


def _configure(app: Flask, config: dict[str, Any] | type[BaseConfig] | BaseConfig | None) -> None:
    """Load ``config`` as ``create_app`` describes, then fill in what only the instance folder can give."""
    if isinstance(config, dict):
        base = TestConfig if config.get("TESTING") else config_for_environment()
        app.config.from_object(base)
        app.config.update(config)
    else:
        app.config.from_object(config if config is not None else config_for_environment())

    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "notes.db")
    if not app.config.get("ATTACHMENTS_DIR"):
        app.config["ATTACHMENTS_DIR"] = os.path.join(app.instance_path, "attachments")
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = db.pool.engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    )

    # Served under a path (https://example.com/notes/)? Then the app is
    # mounted there and its cookies are scoped to it (app/http/prefix.py).
    prefix = validate_url_prefix(app.config.get("URL_PREFIX") or "")
    app.config["URL_PREFIX"] = prefix
    if prefix:
        url_prefix.configure(app.config, prefix)
        app.wsgi_app = url_prefix.PrefixMount(app.wsgi_app, prefix)  # type: ignore[method-assign]

    hops = int(app.config.get("PROXY_HOPS", 0))
    if hops:
        # Exactly as many proxies as we run (nginx), and only from them, so a
        # client cannot forge its address or scheme with headers of its own.
        # Outside the mount: a proxy's X-Forwarded-Prefix (believed only under
        # a URL_PREFIX) tells it the prefix is already stripped.
        app.wsgi_app = TrustedProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, hops, app.config["TRUSTED_PROXIES"], prefix=bool(prefix)
        )


def _instance_secret_key(instance_path: str) -> str:
    """The dev secret key: read from ``instance/secret_key``, created on first use.

    Only dev gets here; production refuses to start without SECRET_KEY.
    """
    path = os.path.join(instance_path, "secret_key")
    os.makedirs(instance_path, exist_ok=True)
    try:
        with open(path, encoding="ascii") as fh:
            key = fh.read().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key)
    return key
