"""The ceilings for `make bench`: bare Flask views, never part of the product.

The bench overlay runs this app from the web image, under the same
gunicorn.conf.py and behind the same nginx (TLS, proxy settings, upstream
keepalive) as Notes, so the gap between its figures and an endpoint's is what
Notes itself costs.

- ``/ceiling``, the framework ceiling: a small JSON object, no database.
- ``/floor``, the data floor of ``GET /api/v1/notes``: the same two
  statements (the token lookup of ``app.accounts.tokens`` and the page of
  ``app.notes.service``, imported, so they cannot drift apart) on the same
  database, and the same JSON (``app.notes.serialize``), on a plain SQLAlchemy
  engine in a bare view. What the list costs beyond this is Notes' own
  request path: its Flask extensions and hooks, flask-smorest and webargs,
  the ORM session.
- ``/floor/search?q=WORD``, the data floor of ``GET /api/v1/notes?q=WORD``:
  the same token lookup, then the app's own search (``app.notes.search``:
  the query's parse, its statement, the substring fallback and the
  highlighting, with the API's filters from ``note_filters``) run in a plain
  ORM session on the same engine, and the same JSON (``note_dict``). The
  search's statement selects ``Note`` objects, whose tags the relationship
  loads in one more query, so building those objects is in this floor, unlike
  in ``/floor``; what the search costs beyond it is Notes' request path (as
  above), Flask-SQLAlchemy's scoped session, and the token's once-a-minute
  ``last_used_at`` write. It leaves out the API's other parameters (tag,
  archived, trashed, pinned, limit): the bench searches with ``q`` alone.
- ``/notes/``, the data floor of the notes page (``GET /notes/`` with a login
  cookie): the page's statements, imported, in a plain ORM session on the
  same engine, and the app's own template rendered to the same HTML. That is:
  the Flask session cookie (signed with the app's SECRET_KEY) read for the
  login session id, the login session and its user
  (``session_lookup_statement``), the first page of live notes
  (``page_statement``) and their tags (the relationship's one more query),
  and the sidebar's tags with their stored counts (``tag_counts_statement``);
  the page's forms are the app's, with Flask-WTF's CSRF token. It is served
  at the page's own path with the endpoint names of the URLs the template
  builds, so the HTML is the same but for the CSRF token. What the page costs
  beyond it is Notes' request path: Flask-Login and the app's hooks (2FA
  check, request log, metrics, security headers), Flask-SQLAlchemy's scoped
  session, the login session's expiry check and once-a-minute
  ``last_seen_at`` write, and the page's query arguments (tag, q, cursor) and
  search form, which the bench's page does not use.
"""

import os
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa
from flask import Flask, Request, abort, jsonify, render_template, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm import Session

import app as notes_package
from app.accounts.sessions import session_lookup_statement
from app.accounts.tokens import token_lookup_statement
from app.config import BaseConfig, ProdConfig
from app.db.pool import engine_options
from app.http.forms import EmptyForm
from app.models import ApiToken, utcnow
from app.notes.forms import QuickNoteForm
from app.notes.search import search_notes
from app.notes.serialize import note_dict, note_row_dict
from app.notes.service import next_cursor, note_filters, page_params, page_statement
from app.notes.tags import TagCount, tag_counts_statement
from app.notes.views import list_url

NOTES_PACKAGE = Path(notes_package.__file__).parent
app = Flask(__name__, template_folder=NOTES_PACKAGE / "templates", static_folder=NOTES_PACKAGE / "static")
# What the notes page's floor needs to read the app's session cookie and make
# CSRF tokens as the app does: the same key, cookie name and token lifetime.
app.config.update(
    SECRET_KEY=os.environ.get("SECRET_KEY"),
    SESSION_COOKIE_NAME=os.environ.get("SESSION_COOKIE_NAME", ProdConfig.SESSION_COOKIE_NAME),
    WTF_CSRF_TIME_LIMIT=BaseConfig.WTF_CSRF_TIME_LIMIT,
)
app.jinja_env.globals["csrf_token"] = generate_csrf
# The template's own helper for the list's links to itself, as the app registers it.
app.jinja_env.globals["list_url"] = list_url


class PageOnlySession(SecureCookieSessionInterface):
    """The app's cookie session for the notes page's floor only.

    Every other view keeps the null session it had before this app held a
    SECRET_KEY, so the ceiling and the API floors cost what they did.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        return super().open_session(app, request) if request.path == "/notes/" else None


app.session_interface = PageOnlySession()
NOTES_PER_PAGE = int(BaseConfig.NOTES_PER_PAGE)
# Connects on first use: the ceiling's own route never does. AUTOCOMMIT, as
# the app's GET requests run (app/db/session.py); the app's connection
# settings (app/db/pool.py), so that PostgreSQL plans the floors' statements
# as it plans the app's.
DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite://")
engine = sa.create_engine(
    DATABASE_URL,
    **engine_options(DATABASE_URL, {"pool_size": 5, "max_overflow": 5, "isolation_level": "AUTOCOMMIT"}),
)


@app.get("/ceiling")
def ceiling():  # type: ignore[no-untyped-def]
    return jsonify(ok=True, service="ceiling")


def token_owner(conn: sa.Connection) -> SimpleNamespace:
    """The owner of the request's bearer token, as api_owner() gives it; aborts 401 for an unusable token."""
    secret = request.headers.get("Authorization", "").partition(" ")[2]
    token = conn.execute(token_lookup_statement(), {"token_hash": ApiToken.hash_secret(secret)}).first()
    if token is None or not ApiToken.usable(token.revoked, token.expires_at, utcnow()):
        abort(401)
    return SimpleNamespace(id=token.owner_id)


@app.get("/floor")
def floor():  # type: ignore[no-untyped-def]
    limit = 20
    with engine.connect() as conn:
        params = page_params(token_owner(conn), None, None, limit)
        statement = page_statement("rows", engine.dialect.name, False, False, None, 0, cursor=False)
        rows = list(conn.execute(statement, params))
    return jsonify({"items": [note_row_dict(row) for row in rows[:limit]], "next_cursor": next_cursor(rows, limit)})


@app.get("/floor/search")
def floor_search():  # type: ignore[no-untyped-def]
    """The API's search answer for ``q``; aborts 401 for an unusable token."""
    with Session(engine) as session:
        owner = token_owner(session.connection())
        # The API's filters when only q is given: live, unarchived notes, any tag.
        filters = note_filters(owner, archived=False, trashed=False, pinned=None, tags=None)
        hits = search_notes(filters, request.args.get("q", ""), limit=20, session=session)
        items = [note_dict(hit.note, str(hit.snippet)) for hit in hits]
    return jsonify({"items": items, "next_cursor": None})


@app.get("/notes/", endpoint="notes.index")
def floor_html_list():  # type: ignore[no-untyped-def]
    """The notes page's HTML; aborts 401 without a login session (ended ones too, and a disabled account's)."""
    sid = session.get("_user_id") or ""
    if not sid or len(sid) > 100:
        abort(401)
    with Session(engine) as db_session:
        login = db_session.scalar(session_lookup_statement(sid))
        if login is None or login.user.is_disabled:
            abort(401)
        user = login.user
        params = page_params(user, [], None, NOTES_PER_PAGE)
        statement = page_statement("notes", engine.dialect.name, False, False, None, 0, cursor=False)
        rows = list(db_session.scalars(statement, params))
        # Rendered in the session: a note whose stored excerpt is stale reads its content.
        return render_template(
            "notes/list.html",
            current_user=user,
            view="index",
            heading="Notes",
            notes=rows[:NOTES_PER_PAGE],
            hits=None,
            query="",
            active_tags=[],
            tag_counts=[TagCount(tag, tag.note_count) for tag in db_session.scalars(tag_counts_statement(user))],
            next_cursor=next_cursor(rows, NOTES_PER_PAGE),
            action_form=EmptyForm(),
            retention_days=BaseConfig.TRASH_RETENTION_DAYS,
            quick_form=QuickNoteForm(formdata=None),
        )


def _elsewhere(**_: object) -> None:
    abort(404)


# The other pages the notes page links to: only their URLs are needed, for url_for.
for endpoint, rule in {
    "index": "/",
    "notes.archive": "/notes/archive",
    "notes.trash": "/notes/trash",
    "notes.new": "/notes/new",
    "notes.tags": "/notes/tags",
    "notes.quick": "/notes/quick",
    "notes.view": "/notes/<int:note_id>",
    "notes.pin": "/notes/<int:note_id>/pin",
    "notes.toggle_archive": "/notes/<int:note_id>/archive",
    "notes.restore": "/notes/<int:note_id>/restore",
    "notes.purge": "/notes/<int:note_id>/purge",
    "auth.login": "/auth/login",
    "auth.logout": "/auth/logout",
    "auth.register": "/auth/register",
    "account.settings": "/account/",
    "admin.users": "/admin/users",
}.items():
    app.add_url_rule(rule, endpoint, _elsewhere)


@app.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    # The web image's HEALTHCHECK asks this path.
    return jsonify(status="ok")
