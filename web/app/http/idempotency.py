"""``Idempotency-Key`` on the API's creating POSTs: a retry gets the first answer instead of a second note.

The semantics of the IETF httpapi draft (draft-ietf-httpapi-idempotency-key-header):
- a request with a key is carried out once; a retry with the same key and
  the same request gets the stored answer again;
- the same key with a different request (method, path or body) is a 422;
- keys are the caller's own (per owner) and are forgotten after 24 hours.

Exactly once, across workers and replicas, comes from the database: the
record of a key, the request's own changes and its answer are committed in
one transaction. The record joins the session before the view runs; the
view, seeing ``deferred()``, has its service flush instead of commit; the
answer is then stored and everything committed at once. A unique index
refuses a second record for the key, so a retry that races the first
request waits for it, then fails on the index and answers with what the
first stored; and if the view fails, the record goes with the rollback and
a retry starts afresh.

The stored answer may hold a secret (a new API token), so it is encrypted
with a key derived from the Idempotency-Key, which the database never sees:
a copy of the table alone gives nothing away.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Response, abort, current_app, g, make_response, request
from sqlalchemy.orm import Mapped, mapped_column

from ..db.types import UTCDateTime, utcnow
from ..extensions import Base, db

if TYPE_CHECKING:
    # db.Model is built at run time; to the type checker it is the Base it extends.
    Model = Base
else:
    Model = db.Model

F = TypeVar("F", bound=Callable[..., Any])

HEADER = "Idempotency-Key"
KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# The headers of a stored answer that a replay sends again.
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag", "Retry-After")

IDEMPOTENCY_LOST = (
    "The request with this Idempotency-Key was carried out, but its answer is not stored (yet, or at all)"
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
    status: Mapped[int | None] = mapped_column(sa.Integer, default=None)
    answer: Mapped[str | None] = mapped_column(sa.Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.Index("uq_idempotency_owner_key", "owner_id", "key_hash", unique=True),)


def idempotent_for(owner: Callable[[], int]) -> Callable[[F], F]:
    """A decorator that carries out a view once per Idempotency-Key of the caller ``owner()`` (see above)."""

    def decorate(view: F) -> F:
        return _once_per_key(view, owner)

    return decorate


def _once_per_key(view: F, owner: Callable[[], int]) -> F:
    """``view``, carried out once per Idempotency-Key; without the header, as usual."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        raw = request.headers.get(HEADER)
        if raw is None:
            return view(*args, **kwargs)
        key = _parse(raw)
        owner_id = owner()
        key_hash = _digest(f"{owner_id}:{key}")
        request_hash = _digest(request.method, request.path, request.get_data(cache=True))
        _forget_expired(owner_id)
        found = _find(owner_id, key_hash)
        if found is not None:
            return _again(found, request_hash, key)
        record = IdempotencyRecord(owner_id=owner_id, key_hash=key_hash, request_hash=request_hash)
        db.session.add(record)
        g.idempotency_deferred = True
        try:
            response = make_response(view(*args, **kwargs))
            if response.status_code < 500:
                record.status = response.status_code
                record.answer = _seal(key, response)
                db.session.commit()  # the changes, the record and the answer at once
        except sa.exc.IntegrityError:
            # Another request with this key committed first (the unique index).
            db.session.rollback()
            found = _find(owner_id, key_hash)
            if found is None:
                raise
            return _again(found, request_hash, key)
        except Exception:
            db.session.rollback()  # whatever the view left half-done goes first
            _drop(record)
            raise
        finally:
            g.idempotency_deferred = False
        if response.status_code >= 500:
            db.session.rollback()
            _drop(record)
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


def _forget_expired(owner_id: int) -> None:
    expired = (IdempotencyRecord.owner_id == owner_id) & (IdempotencyRecord.created_at < utcnow() - KEEP_FOR)
    db.session.execute(sa.delete(IdempotencyRecord).where(expired))


def _again(record: IdempotencyRecord, request_hash: str, key: str) -> Response:
    """The answer to a retry: the stored one, or why there is none."""
    if record.request_hash != request_hash:
        abort(422, f"This {HEADER} was used for a different request; use a new key for a new request.")
    if record.status is None or record.answer is None:
        # Carried out, and its answer not stored: a moment from now (the first
        # request is finishing), or never (its process stopped in between).
        abort(
            409,
            f"The request with this {HEADER} has been carried out but its answer is not stored, yet or at all; "
            "retry in a moment, or look the result up (for example, list your notes).",
        )
    stored = json.loads(_fernet(key).decrypt(record.answer.encode()))
    return Response(base64.b64decode(stored["body"]), status=record.status, headers=stored["headers"])


def _seal(key: str, response: Response) -> str:
    headers = {name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers}
    answer = {"body": base64.b64encode(response.get_data()).decode(), "headers": headers}
    return _fernet(key).encrypt(json.dumps(answer).encode()).decode()


def _fernet(key: str) -> Fernet:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    derived = hmac.new(secret, b"idempotency:" + key.encode(), hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def _drop(record: IdempotencyRecord) -> None:
    """Forget the record of a request that did not complete, so that a retry carries it out.

    It may have been committed by an earlier commit of the view (a failed
    password check records the failure); otherwise it is only in the session.
    """
    state = sa.inspect(record)
    if state.persistent:
        db.session.delete(record)
        db.session.commit()
    elif state.pending:
        db.session.expunge(record)
