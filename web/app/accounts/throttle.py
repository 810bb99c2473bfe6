"""Brute-force protection for logins, kept in the database so that every
gunicorn worker and every web replica counts the same failures.

Three limits, each over a sliding window (LOGIN_FAILURE_WINDOW):
- per account and client address: a guesser at one account from one place;
- per client address: one place trying many accounts;
- per account: many places trying one account.

The last one is what an attacker could use to lock a real user out. So a
browser that has logged in to the account before carries a signed device
cookie, and its attempts count only against that device (OWASP's "device
cookies"): the account-wide limit never locks it out, and it is not
affected by failures from anywhere else. A new device is kept out while an
attack goes on, and for at most one window after it stops. See
docs/security.md.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from .. import metrics
from ..db.types import utcnow
from ..extensions import db
from .models import AuthFailure

# How long a browser is remembered as one that logged in to an account.
DEVICE_COOKIE_LIFETIME = timedelta(days=365)


@dataclass(frozen=True)
class Client:
    """Who is trying: the client's address (ProxyFix has put the real one in
    ``request.remote_addr`` behind nginx) and the device cookie it sent, if any."""

    ip: str
    device_cookie: str | None = None


@dataclass(frozen=True)
class Limit:
    key: str
    max_failures: int


def _account(email: str) -> str:
    # Hashed: failures for addresses that have no account are stored too.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:40]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="device-cookie")


def device_id_for(client: Client, email: str) -> str | None:
    """The device id in ``client``'s device cookie, if it was issued for ``email``."""
    raw = client.device_cookie
    if not raw:
        return None
    try:
        data = _serializer().loads(raw)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("a") != _account(email) or not isinstance(data.get("d"), str):
        return None
    return data["d"]


def device_cookie_value(email: str) -> str:
    """A new signed device cookie value, naming a browser that logged in to ``email`` successfully."""
    return _serializer().dumps({"a": _account(email), "d": secrets.token_urlsafe(16)})


def _limits(email: str, ip: str, device: str | None) -> list[Limit]:
    cfg = current_app.config
    account = _account(email)
    if device is not None:
        return [Limit(f"dev:{device}", cfg["LOGIN_MAX_FAILURES_PER_DEVICE"])]
    return [
        Limit(f"acct-ip:{account[:20]}:{ip}"[:80], cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP"]),
        Limit(f"ip:{ip}"[:80], cfg["LOGIN_MAX_FAILURES_PER_IP"]),
        Limit(f"acct:{account}", cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"]),
    ]


def retry_after(email: str, client: Client) -> int | None:
    """Seconds until a login for ``email`` from ``client`` may be tried, or None if now."""
    wait = _wait(_limits(email, client.ip, device_id_for(client, email)), current_app.config["LOGIN_FAILURE_WINDOW"])
    if wait is not None:
        metrics.count_throttled("login")
    return wait


def record_failure(email: str, client: Client) -> None:
    """Count a failed login against every limit that applies to ``client``."""
    metrics.count_login_failure()
    _record(_limits(email, client.ip, device_id_for(client, email)))


# Password reset requests are counted in the same table under keys of their
# own, so that asking for links never locks anyone out of logging in.
def _reset_limits(email: str, ip: str) -> list[Limit]:
    cfg = current_app.config
    return [
        Limit(f"reset-acct:{_account(email)}", cfg["PASSWORD_RESET_MAX_PER_EMAIL"]),
        Limit(f"reset-ip:{ip}"[:80], cfg["PASSWORD_RESET_MAX_PER_IP"]),
    ]


def reset_retry_after(email: str, ip: str) -> int | None:
    """Seconds until another password reset for ``email`` may be asked for from ``ip``, or None if now."""
    wait = _wait(_reset_limits(email, ip), current_app.config["PASSWORD_RESET_WINDOW"])
    if wait is not None:
        metrics.count_throttled("password_reset")
    return wait


def record_reset_request(email: str, ip: str) -> None:
    """Count a password reset request (known email or not) against its email and its client address; commits."""
    _record(_reset_limits(email, ip))


def _wait(limits: list[Limit], window: timedelta) -> int | None:
    now = utcnow()
    since = now - window
    wait = 0.0
    for limit in limits:
        times = db.session.scalars(
            sa.select(AuthFailure.created_at)
            .where(AuthFailure.key == limit.key, AuthFailure.created_at > since)
            .order_by(AuthFailure.created_at.desc())
            .limit(limit.max_failures)
        ).all()
        if len(times) >= limit.max_failures:
            # Blocked until the oldest of the last max_failures leaves the window.
            wait = max(wait, (times[-1] + window - now).total_seconds())
    return max(1, math.ceil(wait)) if wait > 0 else None


def _record(limits: list[Limit]) -> None:
    now = utcnow()
    cfg = current_app.config
    # Rows older than the longest window count for nothing; drop them as we go.
    keep = max(cfg["LOGIN_FAILURE_WINDOW"], cfg["PASSWORD_RESET_WINDOW"])
    db.session.execute(sa.delete(AuthFailure).where(AuthFailure.created_at < now - keep))
    for limit in limits:
        db.session.add(AuthFailure(key=limit.key, created_at=now))
    db.session.commit()


def clear_failures(email: str, client: Client) -> None:
    """A successful login forgives ``client``'s failures on the account."""
    # Only this client's own counters: a success must not wipe out what
    # other addresses have been trying against the account.
    own = ("acct-ip:", "dev:")
    keys = [limit.key for limit in _limits(email, client.ip, device_id_for(client, email)) if limit.key.startswith(own)]
    if keys:
        db.session.execute(sa.delete(AuthFailure).where(AuthFailure.key.in_(keys)))
        db.session.commit()
