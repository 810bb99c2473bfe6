"""Two-factor login's service: enrolment, codes taken once, recovery codes, sealed secrets, the throttle."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from tests.helpers.data import PASSWORD, Factory
from tests.helpers.twofactor import STEP, code_at

from app.accounts import twofactor
from app.accounts.rules import AccountError
from app.accounts.service import PasswordGuessing, SecondFactorNeeded, log_in
from app.accounts.throttle import Client
from app.models import AuditEvent, AuthFailure, RecoveryCode, TwoFactorChallenge, User, db

CLIENT = Client("192.0.2.7")


def actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def failures() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuthFailure)) or 0


def stored_row(user: User) -> dict:
    db.session.expire_all()
    return dict(db.session.execute(sa.select(User.__table__).where(User.id == user.id)).mappings().one())


@pytest.fixture
def alice(app) -> User:
    return Factory().user("alice@example.com")


def test_enrolment_stores_the_secret_sealed_and_turns_nothing_on(alice, authenticator):
    enrolment = twofactor.start_enrolment(alice)
    row = stored_row(alice)
    assert row["totp_enabled_at"] is None
    assert row["totp_secret"] and enrolment.secret not in row["totp_secret"]
    assert enrolment.uri.startswith("otpauth://totp/Notes:alice%40example.com?secret=" + enrolment.secret)
    assert twofactor.pending_enrolment(alice).secret == enrolment.secret  # the page can be shown again


def test_a_wrong_confirmation_code_keeps_two_factor_off(alice, authenticator):
    authenticator.secret = twofactor.start_enrolment(alice).secret
    wrong = "000000" if authenticator.code() != "000000" else "111111"
    with pytest.raises(AccountError, match="does not match"):
        twofactor.confirm_enrolment(alice, PASSWORD, wrong, CLIENT)
    assert stored_row(alice)["totp_enabled_at"] is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    assert actions() == ["two_factor_failed"]
    assert failures() == 3  # counted against every limit, as a wrong password


def test_confirming_turns_it_on_with_ten_hashed_recovery_codes(alice, authenticator):
    codes = authenticator.enable(alice)
    assert alice.two_factor_enabled
    assert len(codes) == len(set(codes)) == 10
    stored = set(db.session.scalars(sa.select(RecoveryCode.code_hash)))
    assert stored == {hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in codes}
    assert actions() == ["two_factor_enabled"]


def test_secrets_and_recovery_codes_are_long_and_random(app):
    alice, bob = Factory().user(), Factory().user()
    secrets = {twofactor.start_enrolment(user).secret for user in (alice, bob)}
    assert len(secrets) == 2 and all(len(secret) == 32 for secret in secrets)  # 160 bits
    codes = twofactor._new_recovery_codes(alice)
    assert len(set(codes)) == 10
    for code in codes:
        assert len(code.replace("-", "")) == 24  # base32: 120 bits, above ASVS 6.5.2's 112 for a plain hash


def test_confirming_without_a_set_up_says_so(alice, authenticator):
    with pytest.raises(AccountError, match="Start the set-up again"):
        twofactor.confirm_enrolment(alice, PASSWORD, "123456", CLIENT)


def test_the_secret_is_sealed_under_encryption_key_when_set(app, alice, authenticator):
    authenticator.enable(alice)
    assert twofactor.check_second_factor(alice, authenticator.code(), CLIENT) == "code"
    # Another key (ENCRYPTION_KEY set afterwards, or SECRET_KEY changed): the secret cannot be read...
    app.config["ENCRYPTION_KEY"] = "another-key-of-at-least-thirty-two-characters"
    with pytest.raises(AccountError):
        twofactor.check_second_factor(alice, authenticator.tick(), CLIENT)
    # ...and with the key it was sealed under again, it can.
    app.config["ENCRYPTION_KEY"] = None
    assert twofactor.check_second_factor(alice, authenticator.tick(), CLIENT) == "code"


def test_a_secret_sealed_under_encryption_key_does_not_depend_on_secret_key(app, alice, authenticator):
    app.config["ENCRYPTION_KEY"] = "the-encryption-key-of-at-least-thirty-two-chars"
    authenticator.enable(alice)
    app.config["SECRET_KEY"] = "a-rotated-secret-key-of-at-least-thirty-two-chars"
    assert twofactor.check_second_factor(alice, authenticator.code(), CLIENT) == "code"


def test_a_code_is_taken_once(alice, authenticator):
    authenticator.enable(alice)
    code = authenticator.code()
    assert twofactor.check_second_factor(alice, code, CLIENT) == "code"
    with pytest.raises(AccountError, match="not right"):
        twofactor.check_second_factor(alice, code, CLIENT)
    assert stored_row(alice)["totp_last_step"] is not None


def test_an_older_code_after_a_newer_one_is_refused(alice, authenticator):
    authenticator.enable(alice)
    older = authenticator.code()
    newer = code_at(authenticator.secret, authenticator.now + STEP)
    assert twofactor.check_second_factor(alice, newer, CLIENT) == "code"
    with pytest.raises(AccountError):
        twofactor.check_second_factor(alice, older, CLIENT)


def test_codes_one_step_off_are_taken_but_not_two(alice, authenticator):
    authenticator.enable(alice)
    two_ahead = code_at(authenticator.secret, authenticator.now + 2 * STEP)
    with pytest.raises(AccountError):
        twofactor.check_second_factor(alice, two_ahead, CLIENT)


def test_a_recovery_code_works_once_and_is_audited(alice, authenticator):
    codes = authenticator.enable(alice)
    assert twofactor.check_second_factor(alice, codes[0].upper().replace("-", " "), CLIENT) == "recovery code"
    db.session.commit()
    with pytest.raises(AccountError):
        twofactor.check_second_factor(alice, codes[0], CLIENT)
    assert twofactor.recovery_codes_left(alice) == 9
    assert actions()[-2:] == ["recovery_code_used", "two_factor_failed"]


def test_new_recovery_codes_void_the_old_ones(alice, authenticator):
    old = authenticator.enable(alice)
    new = twofactor.regenerate_recovery_codes(alice, PASSWORD, authenticator.code(), CLIENT)
    assert not set(old) & set(new)
    with pytest.raises(AccountError):
        twofactor.check_second_factor(alice, old[1], CLIENT)
    assert twofactor.check_second_factor(alice, new[1], CLIENT) == "recovery code"
    assert "recovery_codes_regenerated" in actions()


@pytest.mark.parametrize(("password", "good_code"), [("wrong password", True), (PASSWORD, False)])
def test_turning_it_off_needs_the_password_and_a_code(alice, authenticator, password, good_code):
    authenticator.enable(alice)
    code = authenticator.code() if good_code else "000000"
    if code == authenticator.code() and not good_code:
        code = "111111"
    with pytest.raises(AccountError):
        twofactor.disable(alice, password, code, CLIENT)
    db.session.rollback()
    row = stored_row(alice)
    assert row["totp_enabled_at"] is not None and row["totp_secret"]
    assert twofactor.recovery_codes_left(alice) == 10


def test_turning_it_off_forgets_the_secret_and_the_codes(alice, authenticator):
    authenticator.enable(alice)
    twofactor.disable(alice, PASSWORD, authenticator.code(), CLIENT)
    row = stored_row(alice)
    assert (row["totp_secret"], row["totp_enabled_at"], row["totp_last_step"]) == (None, None, None)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    assert actions()[-1] == "two_factor_disabled"


def test_the_password_alone_logs_nobody_in_and_forgives_no_failure(alice, authenticator):
    authenticator.enable(alice)
    with pytest.raises(AccountError):
        log_in("alice@example.com", "wrong password", CLIENT)
    with pytest.raises(SecondFactorNeeded) as caught:
        log_in("alice@example.com", PASSWORD, CLIENT)
    assert caught.value.user is alice
    assert failures() == 3  # still counted: only a right code forgives
    assert "login" not in actions()


def test_wrong_codes_are_throttled_like_wrong_passwords(app, alice, authenticator):
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP"] = 3
    authenticator.enable(alice)
    wrong = "000000" if authenticator.code() != "000000" else "111111"
    for _ in range(3):
        with pytest.raises(AccountError):
            twofactor.check_second_factor(alice, wrong, CLIENT)
    with pytest.raises(PasswordGuessing):  # even the right code waits now
        twofactor.check_second_factor(alice, authenticator.code(), CLIENT)
    with pytest.raises(PasswordGuessing):  # and so does the password
        log_in("alice@example.com", PASSWORD, CLIENT)


def test_completing_a_login_uses_the_challenge_up(alice, authenticator):
    authenticator.enable(alice)
    challenge = twofactor.begin_challenge(alice, remember=True)
    assert twofactor.find_challenge(challenge) is not None
    user, remember = twofactor.complete_login(challenge, authenticator.code(), CLIENT)
    assert (user, remember) == (alice, True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TwoFactorChallenge)) == 0
    with pytest.raises(AccountError, match="took too long"):
        twofactor.complete_login(challenge, authenticator.tick(), CLIENT)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "login"))
    assert event.detail == "with a code"


def test_an_old_challenge_has_expired(app, alice, authenticator):
    authenticator.enable(alice)
    challenge = twofactor.begin_challenge(alice, remember=False)
    authenticator.now += app.config["TWO_FACTOR_LOGIN_TIMEOUT"]
    with pytest.raises(AccountError, match="took too long"):
        twofactor.complete_login(challenge, authenticator.code(), CLIENT)


def test_a_disabled_accounts_challenge_is_void(alice, authenticator):
    authenticator.enable(alice)
    challenge = twofactor.begin_challenge(alice, remember=False)
    alice.disabled_at = twofactor.utcnow()
    db.session.commit()
    assert twofactor.find_challenge(challenge) is None


@pytest.mark.parametrize("challenge", [None, "", "x" * 101, "unknown"])
def test_unknown_challenges_are_refused(app, challenge):
    assert twofactor.find_challenge(challenge) is None


def test_the_qr_code_is_plain_inline_svg():
    svg = twofactor.qr_svg("otpauth://totp/Notes:a%40b?secret=ABC&issuer=Notes")
    assert svg.startswith('<svg role="img" aria-label="QR code for your authenticator app" ')
    lowered = svg.lower()
    for forbidden in ("<script", "style=", "href", "data:", "<image", "<foreignobject", "onload"):
        assert forbidden not in lowered
