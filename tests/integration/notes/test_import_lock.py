"""An import writes nothing until its archive is read and checked: on SQLite a write takes the one write lock."""

from __future__ import annotations

import sqlite3

from flask import Flask
from tests.helpers.api import API
from tests.helpers.data import Factory, export_archive, exported_note
from tests.helpers.web import bearer

import app.notes.transfer as transfer


def test_no_write_lock_is_held_while_the_archive_is_read(file_app: Flask, monkeypatch) -> None:
    path = file_app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    real = transfer._read_upload
    free: list[bool] = []

    def read_while_another_writer_tries(data: bytes):  # type: ignore[no-untyped-def]
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # fails at once if the import holds the write lock
            other.execute("ROLLBACK")
            free.append(True)
        except sqlite3.OperationalError:
            free.append(False)
        finally:
            other.close()
        return real(data)

    monkeypatch.setattr(transfer, "_read_upload", read_while_another_writer_tries)
    _, secret = Factory().token(Factory().user("alice@example.com"))
    client = file_app.test_client()
    archive = export_archive([exported_note(tags=["t"])])
    for headers in ({}, {"Idempotency-Key": "import-1"}):  # with and without a key
        headers = {**bearer(secret), **headers, "Content-Type": "application/zip"}
        response = client.post(f"{API}/import", data=archive, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
    assert free == [True, True]
