"""Helpers the tests import: apps, rows, logins and checks. Fixtures stay in the conftest files."""
