"""Services raise domain errors (app/domain.py); app/http/errors.py answers them in one place."""

from __future__ import annotations

from flask import Flask
from tests.helpers.api import assert_problem

from app.accounts.tokens import TokenNotFound
from app.notes.service import EditConflict, NoteNotFound


def _raising(app: Flask, path: str, error: Exception) -> None:
    def view() -> str:
        raise error

    app.add_url_rule(path, path.strip("/").replace("/", "_"), view)


def test_not_found_is_a_404_problem_on_the_api_and_a_page_elsewhere(fresh_app: Flask) -> None:
    _raising(fresh_app, "/api/v1/boom", NoteNotFound("No such note of yours."))
    _raising(fresh_app, "/boom", TokenNotFound("No such token."))
    client = fresh_app.test_client()

    body = assert_problem(client.get("/api/v1/boom"), 404)
    assert body["detail"] == "No such note of yours."

    page = client.get("/boom")
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    assert "No such token." in page.get_data(as_text=True)


def test_a_conflict_is_412_on_the_api_where_every_write_carries_if_match(fresh_app: Flask) -> None:
    _raising(fresh_app, "/api/v1/stale", EditConflict())
    body = assert_problem(fresh_app.test_client().get("/api/v1/stale"), 412)
    assert body["detail"] == (
        "The note changed since you read it: your If-Match is stale. "
        "GET it again, reapply your change and retry with the new ETag."
    )


def test_a_conflict_is_409_on_a_page_and_says_to_reload(fresh_app: Flask) -> None:
    _raising(fresh_app, "/stale", EditConflict())
    page = fresh_app.test_client().get("/stale")
    assert page.status_code == 409
    assert page.mimetype == "text/html"
    assert "The note changed since you read it; reload the page to see the latest version." in page.get_data(
        as_text=True
    )
