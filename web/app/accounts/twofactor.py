"""Two-factor login: TOTP codes (RFC 6238) from an authenticator app, and single-use recovery codes.

- Enrolling stores a new secret, encrypted, and turns nothing on; confirming
  it with a current code turns two-factor login on and hands out ten
  recovery codes, of which only hashes are kept.
- Logging in to such an account takes two steps: the password opens a
  short-lived challenge (``begin_challenge``), bound to the browser by a
  random id in its session cookie, and a code completes it
  (``complete_login``). The challenge is not a login session.
- Wrong codes count against the login throttle (app/accounts/throttle.py)
  exactly as wrong passwords do, and are audited.
- A code is accepted once: the time step it belongs to is stored per user,
  and a code of that step or an earlier one is refused, with one
  conditional UPDATE so that two requests racing with one code cannot both win.
- Secrets are sealed with Fernet under a key derived from ENCRYPTION_KEY, or
  from SECRET_KEY when that is unset (see docs/security.md for rotation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import segno
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from ..db.types import utcnow
from ..extensions import db
from . import audit
from .models import RecoveryCode, TwoFactorChallenge, User
from .rules import AccountError
from .service import PasswordGuessing, confirm_password
from .throttle import Client, clear_failures, record_failure, retry_after

ISSUER = "Notes"
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_BYTES = 15
# TOTP's usual parameters, which every authenticator app assumes: 6 digits, 30 s.
DIGITS = 6
INTERVAL = 30
# A code of the step before or after now is taken too: clocks drift and people type slowly.
VALID_WINDOW = 1

WRONG_CODE = "That code is not right. Enter the current code from your authenticator app, or a recovery code."
CODE_NEEDED = "Enter the code from your authenticator app (or a recovery code)."
NOT_ENROLLING = "Start the set-up again: there is no two-factor set-up in progress."
ALREADY_ON = "Two-factor login is already on."
NOT_ON = "Two-factor login is not on for this account."
EXPIRED = "The login took too long. Enter your email and password again."

_CODE_SPACES = re.compile(r"[\s-]+")


# --- sealing the secret -----------------------------------------------------------


def _fernet() -> Fernet:
    cfg = current_app.config
    root = str(cfg.get("ENCRYPTION_KEY") or cfg["SECRET_KEY"]).encode()
    derived = hmac.new(root, b"totp-secret", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def _seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def _unseal(sealed: str | None) -> str | None:
    """The secret, or None when there is none or it was sealed under another key."""
    if not sealed:
        return None
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None


# --- enrolment -------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    """What the set-up page shows: the secret as text, the otpauth:// URI and its QR code as inline SVG."""

    secret: str
    uri: str
    qr_svg: str


def start_enrolment(user: User) -> Enrolment:
    """A new secret for ``user``, stored sealed (committed); two-factor login stays off until confirmed.

    Raises AccountError when it is already on.
    """
    if user.two_factor_enabled:
        raise AccountError(ALREADY_ON)
    secret = pyotp.random_base32()
    user.totp_secret = _seal(secret)
    user.totp_last_step = None
    db.session.commit()
    return _enrolment(user, secret)


def pending_enrolment(user: User) -> Enrolment | None:
    """The set-up in progress for ``user``, or None (none started, or already on)."""
    if user.two_factor_enabled:
        return None
    secret = _unseal(user.totp_secret)
    return _enrolment(user, secret) if secret else None


def _enrolment(user: User, secret: str) -> Enrolment:
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return Enrolment(secret=secret, uri=uri, qr_svg=qr_svg(uri))


def qr_svg(text: str) -> str:
    """``text`` as a QR code in inline SVG markup: no script, no style attribute, nothing fetched."""
    svg = segno.make(text, error="m").svg_inline(scale=4, border=4, dark="#000", light="#fff")
    # An image with a name for screen readers; white behind it in the dark theme too.
    return svg.replace("<svg ", '<svg role="img" aria-label="QR code for your authenticator app" ', 1)


def confirm_enrolment(
    user: User, password: str, code: str, client: Client, *, sso_confirmed: bool = False, ip: str | None = None
) -> list[str]:
    """Turn two-factor login on once the password is right and ``code`` matches the new secret;
    the ten recovery codes (committed).

    The password too: whoever turns it on decides who can log in (a borrowed
    browser could otherwise lock its owner out with a phone of its own).
    Raises AccountError for a wrong password or a wrong or missing code
    (two-factor login stays off), and PasswordGuessing while ``client`` has
    too many recent failures.
    """
    if user.two_factor_enabled:
        raise AccountError(ALREADY_ON)
    secret = _unseal(user.totp_secret)
    if secret is None:
        raise AccountError(NOT_ENROLLING)
    _confirm_password(user, password, client, sso_confirmed)
    _check_throttle(user, client)
    if not _accept_totp(user, secret, code):
        _failed(user, client, "while setting up")
        raise AccountError(
            "That code does not match. Check the clock of your device and try the current code.", field="code"
        )
    user.totp_enabled_at = utcnow()
    codes = _new_recovery_codes(user)
    audit.record("two_factor_enabled", target=user, actor=user, ip=ip or client.ip)
    db.session.commit()
    return codes


def disable(user: User, password: str, code: str, client: Client, *, sso_confirmed: bool = False) -> None:
    """Turn two-factor login off (committed): needs the password and a code (or a recovery code).

    Raises AccountError for a wrong password or code, PasswordGuessing while
    ``client`` has too many recent failures; nothing changes then.
    """
    if not user.two_factor_enabled:
        raise AccountError(NOT_ON)
    _confirm_password(user, password, client, sso_confirmed)
    check_second_factor(user, code, client)
    _turn_off(user)
    audit.record("two_factor_disabled", target=user, actor=user, ip=client.ip)
    db.session.commit()


def reset(user: User, *, actor: User | None, ip: str | None = None) -> bool:
    """Turn two-factor login off for someone who lost the app and every recovery code (committed).

    For the operator (``flask users reset-2fa``), who has checked who is
    asking by other means. False when it was not on (nothing changes).
    """
    if not user.two_factor_enabled and user.totp_secret is None:
        return False
    _turn_off(user)
    audit.record("two_factor_disabled", target=user, actor=actor, ip=ip, detail="reset by the operator")
    db.session.commit()
    return True


def _turn_off(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def regenerate_recovery_codes(
    user: User, password: str, code: str, client: Client, *, sso_confirmed: bool = False
) -> list[str]:
    """Ten new recovery codes; the old ones stop working (committed). Needs the password and a code.

    Raises AccountError and PasswordGuessing as ``disable``.
    """
    if not user.two_factor_enabled:
        raise AccountError(NOT_ON)
    _confirm_password(user, password, client, sso_confirmed)
    check_second_factor(user, code, client)
    codes = _new_recovery_codes(user)
    audit.record("recovery_codes_regenerated", target=user, actor=user, ip=client.ip)
    db.session.commit()
    return codes


def recovery_codes_left(user: User) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def _new_recovery_codes(user: User) -> list[str]:
    """Replace ``user``'s recovery codes with ten new ones (not committed); the codes in clear, once."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash_recovery(code)) for code in codes)
    return codes


def _recovery_code() -> str:
    # 120 random bits in lower-case base32, in six groups of four: ASVS 6.5.2
    # lets a secret of 112 bits or more be stored with a plain hash (as API
    # tokens are), which a look-up by hash needs.
    raw = base64.b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode().lower()
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _normalize(code: str) -> str:
    return _CODE_SPACES.sub("", code or "").lower()


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(_normalize(code).encode()).hexdigest()


# --- checking a code -------------------------------------------------------------


def check_second_factor(user: User, code: str, client: Client) -> str:
    """Accept a current TOTP code or an unused recovery code for ``user`` (used up; not committed).

    Returns "code" or "recovery code". Raises AccountError(field="code") for a
    missing or wrong one, which is counted as a failed login and audited, and
    PasswordGuessing while ``client`` has too many recent failures.
    """
    _check_throttle(user, client)
    if not _normalize(code):
        raise AccountError(CODE_NEEDED, field="code")
    if _accept_totp(user, _unseal(user.totp_secret), code):
        return "code"
    if _use_recovery_code(user, code):
        audit.record("recovery_code_used", target=user, ip=client.ip, detail=f"{recovery_codes_left(user)} left")
        return "recovery code"
    _failed(user, client)
    raise AccountError(WRONG_CODE, field="code")


def _accept_totp(user: User, secret: str | None, code: str) -> bool:
    """Whether ``code`` is ``secret``'s code for a step near now that is later than any accepted before.

    The step is recorded in the same statement that checks it (not committed).
    """
    digits = _normalize(code)
    if secret is None or len(digits) != DIGITS or not digits.isdigit():
        return False
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    now = utcnow()
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        at = now + timedelta(seconds=offset * INTERVAL)
        if hmac.compare_digest(totp.at(at), digits):
            step = totp.timecode(at)
            claimed = db.session.execute(
                sa.update(User)
                .where(User.id == user.id, sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                .values(totp_last_step=step)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                # What the row now holds, without a second UPDATE at the next flush.
                set_committed_value(user, "totp_last_step", step)
                return True
            return False  # replayed: this step or a later one was taken already
    return False


def _use_recovery_code(user: User, code: str) -> bool:
    used = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_recovery(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return used.rowcount == 1  # type: ignore[attr-defined]


def _check_throttle(user: User, client: Client) -> None:
    wait = retry_after(user.email, client)
    if wait is not None:
        raise PasswordGuessing(wait)


def _failed(user: User, client: Client, detail: str = "") -> None:
    """A wrong code: audited, and counted as a failed login (committed)."""
    # Whatever the request changed so far (a step claimed by nothing) is kept
    # out; the failure and its event are committed on their own.
    audit.record("two_factor_failed", target=user, ip=client.ip, detail=detail)
    record_failure(user.email, client)


def _confirm_password(user: User, password: str, client: Client, sso_confirmed: bool) -> None:
    confirm_password(
        user, password, client, message="That is not your password; nothing was changed.", sso_confirmed=sso_confirmed
    )


# --- the login's second step ---------------------------------------------------------


def _challenge_hash(challenge_id: str) -> str:
    return hashlib.sha256(challenge_id.encode()).hexdigest()


def begin_challenge(user: User, *, remember: bool) -> str:
    """Open a challenge for ``user``, whose password was right (committed); its id, for the session cookie."""
    cutoff = utcnow() - current_app.config["TWO_FACTOR_LOGIN_TIMEOUT"]
    db.session.execute(sa.delete(TwoFactorChallenge).where(TwoFactorChallenge.created_at < cutoff))
    challenge_id = secrets.token_urlsafe(32)
    db.session.add(TwoFactorChallenge(user_id=user.id, token_hash=_challenge_hash(challenge_id), remember=remember))
    db.session.commit()
    return challenge_id


def find_challenge(challenge_id: str | None) -> TwoFactorChallenge | None:
    """The live challenge ``challenge_id`` names, or None (unknown, expired, or its account disabled)."""
    if not challenge_id or len(challenge_id) > 100:
        return None
    row = db.session.scalar(
        sa.select(TwoFactorChallenge).where(TwoFactorChallenge.token_hash == _challenge_hash(challenge_id))
    )
    if row is None:
        return None
    if utcnow() - row.created_at > current_app.config["TWO_FACTOR_LOGIN_TIMEOUT"] or row.user.is_disabled:
        end_challenge(challenge_id)
        return None
    return row


def end_challenge(challenge_id: str | None) -> None:
    if challenge_id:
        db.session.execute(
            sa.delete(TwoFactorChallenge).where(TwoFactorChallenge.token_hash == _challenge_hash(challenge_id))
        )
        db.session.commit()


def complete_login(
    challenge_id: str | None, code: str, client: Client, *, sso_issuer: str | None = None
) -> tuple[User, bool]:
    """Finish a login with a code: the user and whether to remember the session (committed).

    Audited as "login", or "sso_login" naming ``sso_issuer`` when single
    sign-on proved the first factor.

    The challenge is used up. Raises AccountError(EXPIRED) for an unknown or
    expired challenge, AccountError(field="code") for a wrong code (counted
    as a failed login; the challenge stays for another try), and
    PasswordGuessing while ``client`` has too many recent failures.
    """
    challenge = find_challenge(challenge_id)
    if challenge is None:
        raise AccountError(EXPIRED)
    user, remember = challenge.user, challenge.remember
    how = check_second_factor(user, code, client)
    # Used up in one conditional statement: of two requests finishing the same
    # challenge at once (say a code and a recovery code), only one logs in.
    used = db.session.execute(sa.delete(TwoFactorChallenge).where(TwoFactorChallenge.id == challenge.id))
    if used.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise AccountError(EXPIRED)
    clear_failures(user.email, client)  # commits
    if sso_issuer:
        audit.record("sso_login", target=user, ip=client.ip, detail=f"{sso_issuer}, with a {how}")
    else:
        audit.record("login", target=user, ip=client.ip, detail=f"with a {how}")
    db.session.commit()
    return user, remember
