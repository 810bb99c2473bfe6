"""The dev app's secret key: random per install, kept in the instance folder."""

import os
import stat

from app import _instance_secret_key


def test_created_once_then_reused(tmp_path):
    first = _instance_secret_key(str(tmp_path / "instance"))
    second = _instance_secret_key(str(tmp_path / "instance"))
    assert first == second
    assert len(first) >= 32


def test_only_the_owner_can_read_it(tmp_path):
    _instance_secret_key(str(tmp_path))
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600


def test_each_install_gets_its_own(tmp_path):
    assert _instance_secret_key(str(tmp_path / "a")) != _instance_secret_key(str(tmp_path / "b"))
