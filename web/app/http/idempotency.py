"""``Idempotency-Key`` on the API's creating POSTs: a retry gets the first answer instead of a second note.

The semantics of the IETF httpapi draft (draft-ietf-httpapi-idempotency-key-header):
- a request with a key is carried out once; a retry with the same key and
  the same request gets the stored answer again;
- the same key with a different request (method, path or body) is a 422;
- keys are the caller's own (per owner) and are forgotten after 24 hours.

Exactly once, across workers and replicas, comes from the database: the
record of a key, the request's own changes and its answer are committed in
one transaction. The view, seeing ``deferred()``, has its service flush
instead of commit; then the record with the answer joins the session and
everything is committed at once. A unique index refuses a second record for
the key, so of two requests with one key that run at the same moment, the
second's commit fails, its changes are rolled back and it answers with what
the first stored; and if the view fails, nothing of it is kept and a retry
starts afresh. (The record is added last so that nothing is written before
the view's own work: on SQLite a write takes the database's one write lock.)

The stored answer may hold a secret (a new API token), so it is encrypted
with a key derived from the Idempotency-Key (and SECRET_KEY), which the
database never sees; the request's fingerprint is an HMAC under the
Idempotency-Key too (a token request's body holds the password). A copy of
the table alone gives nothing away.

A view with checks that must hold for the caller before any answer is given
again (token creation: no token may create tokens, and the password is
checked, throttled) passes them as ``guard``; it runs before the look-up.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from flask import Response, abort, current_app, g, make_response, request
from sqlalchemy.orm import Mapped, mapped_column

from ..db.types import UTCDateTime, utcnow
from ..extensions import Model, db

F = TypeVar("F", bound=Callable[..., Any])

HEADER = "Idempotency-Key"
KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# The headers of a stored answer that a replay sends again.
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag", "Retry-After")

IDEMPOTENCY_LOST = (
    "The request with this Idempotency-Key was carried out, but its stored answer can no longer be read "
    "(the server's secret key was changed)"
)
IDEMPOTENCY_KEY = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "description": (
        "A unique value (a UUID) per operation: a retry with the same key and body gets the first answer "
        "instead of doing it twice; the same key with another body is a 422. Kept for 24 hours."
    ),
}


class IdempotencyRecord(Model):
    """A request made with an Idempotency-Key, and the answer it got."""

    __tablename__ = "idempotency_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    # Hashes only: the key itself is what decrypts the stored answer.
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[int] = mapped_column(sa.Integer)
    answer: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.Index("uq_idempotency_owner_key", "owner_id", "key_hash", unique=True),
        # Expired records of every owner go on each keyed request (_forget_expired).
        sa.Index("ix_idempotency_created", "created_at"),
    )


def idempotent_for(owner: Callable[[], int], guard: Callable[[], None] | None = None) -> Callable[[F], F]:
    """A decorator that carries out a view once per Idempotency-Key of the caller ``owner()`` (see above).

    ``guard`` runs first on a keyed request and aborts when the caller may not
    have the answer at all, stored or new.
    """

    def decorate(view: F) -> F:
        return _once_per_key(view, owner, guard)

    return decorate


def _once_per_key(view: F, owner: Callable[[], int], guard: Callable[[], None] | None) -> F:
    """``view``, carried out once per Idempotency-Key; without the header, as usual."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        raw = request.headers.get(HEADER)
        if raw is None:
            return view(*args, **kwargs)
        key = _parse(raw)
        if guard is not None:
            guard()
        owner_id = owner()
        key_hash = _digest(f"{owner_id}:{key}")
        request_hash = _fingerprint(key)
        found = _find(owner_id, key_hash)
        if found is not None and found.created_at < utcnow() - KEEP_FOR:
            db.session.delete(found)  # expired: the key is free again
            db.session.flush()
            found = None
        if found is not None:
            return _again(found, request_hash, key)
        g.idempotency_deferred = True
        try:
            response = make_response(view(*args, **kwargs))
            if response.status_code >= 500:
                db.session.rollback()
                return response
            answer = _seal(key, response)
            db.session.add(
                IdempotencyRecord(
                    owner_id=owner_id,
                    key_hash=key_hash,
                    request_hash=request_hash,
                    status=response.status_code,
                    answer=answer,
                )
            )
            _forget_expired()
            db.session.commit()  # the changes, the record and the answer at once
        except sa.exc.IntegrityError:
            # Another request with this key committed first (the unique index).
            db.session.rollback()
            found = _find(owner_id, key_hash)
            if found is None:
                raise
            return _again(found, request_hash, key)
        except Exception:
            db.session.rollback()  # nothing of a failed request is kept
            raise
        finally:
            g.idempotency_deferred = False
        return response

    return wrapper  # type: ignore[return-value]


def deferred() -> bool:
    """True inside a request with an Idempotency-Key: the view's service must flush, not commit."""
    return bool(g.get("idempotency_deferred"))


def _parse(raw: str) -> str:
    """The key of an Idempotency-Key header: an sf-string (quoted) or, as many clients send it, a bare token."""
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(32 <= ord(ch) < 127 for ch in key):
        abort(400, f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, such as a UUID.")
    return key


def _digest(*parts: str | bytes) -> str:
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(part.encode() if isinstance(part, str) else part)
        hashed.update(b"\0")
    return hashed.hexdigest()


def _find(owner_id: int, key_hash: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        sa.select(IdempotencyRecord).where(
            IdempotencyRecord.owner_id == owner_id, IdempotencyRecord.key_hash == key_hash
        )
    )


def _fingerprint(key: str) -> str:
    """The request, as far as a retry must repeat it: an HMAC under the key, since a body may hold a password."""
    mac = hmac.new(b"idempotency-request:" + key.encode(), digestmod=hashlib.sha256)
    for part in (request.method.encode(), request.path.encode(), request.get_data(cache=True)):
        mac.update(len(part).to_bytes(8, "big") + part)
    return mac.hexdigest()


def _forget_expired() -> None:
    """Delete every owner's records older than KEEP_FOR, with the request's own commit."""
    db.session.execute(sa.delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - KEEP_FOR))


def _again(record: IdempotencyRecord, request_hash: str, key: str) -> Response:
    """The answer to a retry: the stored one, or why there is none."""
    if record.request_hash != request_hash:
        abort(422, f"This {HEADER} was used for a different request; use a new key for a new request.")
    try:
        stored = json.loads(_fernet(key).decrypt(record.answer.encode()))
    except InvalidToken:  # sealed under another SECRET_KEY: the server's key was changed since
        abort(
            409,
            f"The request with this {HEADER} was carried out, but its stored answer can no longer be read; "
            "look the result up (for example, list your notes).",
        )
    return Response(base64.b64decode(stored["body"]), status=record.status, headers=stored["headers"])


def _seal(key: str, response: Response) -> str:
    headers = {name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers}
    answer = {"body": base64.b64encode(response.get_data()).decode(), "headers": headers}
    return _fernet(key).encrypt(json.dumps(answer).encode()).decode()


def _fernet(key: str) -> Fernet:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    derived = hmac.new(secret, b"idempotency:" + key.encode(), hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))
