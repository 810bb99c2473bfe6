"""Single sign-on on PostgreSQL, committing for real: an account made by a
first SSO login, the same identity again, an email-matching identity that
must not get in, and identities going with their account."""

from __future__ import annotations

import flask_migrate
import sqlalchemy as sa
from tests.helpers.data import PASSWORD
from tests.helpers.e2e import dispose, e2e_config
from tests.helpers.oidc import running_provider, sso_login

from app import create_app
from app.models import OidcIdentity, User, db

from .conftest import FreshContextClient


def test_sso_accounts_on_postgres(fresh_database):
    with running_provider() as provider, fresh_database() as url:
        provider.set_user("carol-sub", email="carol@example.com", email_verified=True)
        provider.set_user("mallory-sub", email="Carol@Example.com", email_verified=True)
        provider.set_user("eve-sub", email="carol@example.com", email_verified=False)
        app = create_app({**e2e_config(url), **provider.app_config(OIDC_AUTO_CREATE=True, REGISTRATION="open")})
        app.test_client_class = FreshContextClient
        try:
            with app.app_context():
                flask_migrate.upgrade()
                client = app.test_client()
                assert sso_login(client, "carol-sub").headers["Location"] == "/notes/"
                client.post("/auth/logout")
                assert sso_login(client, "carol-sub").headers["Location"] == "/notes/"
                client.post("/auth/logout")

                # Another identity naming carol's email (in other case) does not get in, nor makes a second account.
                other = app.test_client()
                assert sso_login(other, "mallory-sub").headers["Location"] == "/auth/oidc/link"
                assert other.post("/auth/oidc/link", data={"password": PASSWORD}).status_code == 401
                assert other.get("/account/").status_code == 302
                # One whose provider does not vouch for the address is not even sent to prove it.
                unverified = sso_login(app.test_client(), "eve-sub")
                assert unverified.status_code == 400 and "Location" not in unverified.headers
                assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
                assert db.session.scalars(sa.select(OidcIdentity.subject)).all() == ["carol-sub"]

                # Deleting the account (as an administrator would) takes its identities along.
                db.session.execute(sa.delete(User))
                db.session.commit()
                assert db.session.scalar(sa.select(sa.func.count()).select_from(OidcIdentity)) == 0
        finally:
            dispose(app)
