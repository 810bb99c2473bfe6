"""The shipped list of common passwords (ASVS 6.2.4)."""

import pytest

from app.accounts.rules import _common_passwords, is_common_password, password_problem


def test_the_list_is_large_enough():
    assert len(_common_passwords()) >= 3000


@pytest.mark.parametrize("password", ["password", "iloveyou", "sunshine", "12345678", "PASSWORD", "Iloveyou"])
def test_common_passwords_are_refused(password):
    assert is_common_password(password)
    assert "most common" in (password_problem(password) or "")


@pytest.mark.parametrize("password", ["plum-tea-at-noon", "correct horse battery", "Zq8#mv2!Lp"])
def test_uncommon_passwords_pass(password):
    assert not is_common_password(password)
    assert password_problem(password) is None


def test_no_composition_rules():
    # Long lower-case phrases are fine: length matters, not character classes.
    assert password_problem("the quick brown fox jumps") is None


def test_at_least_64_characters_are_allowed():
    assert password_problem("a long passphrase " * 4) is None  # 72 characters


def test_the_email_address_is_not_a_password():
    assert "email" in (password_problem("alice@example.com", "Alice@Example.com") or "")
