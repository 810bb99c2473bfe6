"""Accounts: users, passwords, login sessions and their throttle, API tokens.

- ``rules``: what an email, a password and a token name may be.
- ``models``: the tables. ``service``, ``passwords``, ``sessions``,
  ``devices``, ``throttle``, ``tokens``, ``invites``, ``admin``, ``audit``, ``sso``:
  what can be done, as functions that return results or raise domain errors.
- ``views`` (pages), ``admin_views`` (/admin), ``sso_views`` (single sign-on), ``api`` (/api/v1/tokens,
  /api/v1/sessions, /api/v1/account, /api/v1/password-resets),
  ``admin_api`` (/api/v1/admin), ``forms``, ``schemas``, ``cli``: the ways
  in, which turn requests into service calls.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the account pages, the tokens API, Flask-Login's loader and ``flask users``.

    Imported here rather than at the top, so that importing a service module
    (``app.accounts.service``) loads no view.
    """
    from . import admin_api, admin_views, api, cli, sso_views, views  # noqa: F401  (the API modules add routes to its blueprint)

    views.init_app(app)
    admin_views.init_app(app)
    sso_views.init_app(app)
    cli.init_app(app)
