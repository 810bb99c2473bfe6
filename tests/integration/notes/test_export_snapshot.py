"""On SQLite, an export reads one snapshot: what another request changes meanwhile is not half in it."""

from __future__ import annotations

import pytest
from flask import Flask
from tests.helpers.export_snapshot import assert_one_snapshot, export_while_another_request_changes_it


def test_an_export_is_the_account_as_it_was_when_it_began(file_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_one_snapshot(export_while_another_request_changes_it(file_app, monkeypatch))
