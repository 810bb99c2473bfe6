"""Accounts: users, passwords, login sessions and their throttle, API tokens.

- ``rules``: what an email, a password and a token name may be.
- ``models``: the tables. ``service``, ``passwords``, ``sessions``,
  ``throttle``, ``tokens``: what can be done, as functions that return
  results or raise domain errors.
- ``views`` (pages), ``api`` (/api/v1/tokens), ``forms``, ``schemas``,
  ``cli``: the ways in, which turn requests into service calls.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the account pages, the tokens API, Flask-Login's loader and ``flask users``.

    Imported here rather than at the top, so that importing a service module
    (``app.accounts.service``) loads no view.
    """
    from . import api, cli, views  # noqa: F401  (api adds its routes to the API blueprint)

    views.init_app(app)
    cli.init_app(app)
