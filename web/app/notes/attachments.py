"""Files added to notes: what is kept of an upload, who may read it, and when its bytes go.

An upload is checked and cleaned before it is stored: its type comes from
its bytes (Pillow for images, then magic numbers, then "is it UTF-8
text?"), never from the client's name or header; a photo loses its EXIF and
XMP metadata (where it was taken, the camera's serial) and keeps its
orientation and colour profile; an image whose header promises more pixels
than MAX_IMAGE_PIXELS is refused before it is decoded. Its size counts
against the owner's quota, checked with the owner's row locked so that two
uploads at once cannot both squeeze under it.

The bytes live in ``Storage`` (storage.py) under a random key; rows in
``note_attachments``. A row goes with its note or its owner (ON DELETE
CASCADE), and the bytes of every row a transaction deletes are removed when
it commits, by the session hooks below: purging a note, emptying the trash,
deleting an account. ``sweep_orphans`` removes what a crash between a
commit and that removal left behind.

Another user's note or file is AttachmentNotFound, like everything else.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import filetype
import sqlalchemy as sa
from flask import Flask, current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from ..accounts.models import Owner, User
from ..db.types import utcnow
from ..domain import NotFoundError
from ..extensions import db
from .markdown import ATTACHMENT_SCHEME
from .models import Attachment, Note
from .rules import INLINE_IMAGE_TYPES, MAX_FILENAME_LENGTH, attachment_over_quota, attachment_too_large
from .storage import LocalStorage, Storage, is_key

log = logging.getLogger(__name__)

# Far above any photo, far below what would take a worker's memory to decode.
MAX_IMAGE_PIXELS = 64_000_000
# Pillow's names for the formats a browser may show inline.
_IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
# Metadata that can say where and with what a photo was taken. The colour
# profile (icc_profile) stays: without it colours shift.
_PRIVATE_INFO = ("exif", "xmp", "XML:com.adobe.xmp", "photoshop", "comment", "Comment")
_ORIENTATION = 0x0112
_SESSION_KEY = "notes.attachment_files_to_delete"


class AttachmentError(ValueError):
    """An upload that cannot be kept; the message says what to fix. Nothing was stored.

    ``status`` is the HTTP status that fits: 413 for too large or over the quota, 422 otherwise.
    """

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class AttachmentNotFound(NotFoundError):
    """No such file on this note, or of this owner's."""


@dataclass(frozen=True)
class Cleaned:
    """An upload as it will be stored: its bytes (without private metadata) and their type."""

    data: bytes
    content_type: str


# Room for the multipart framing around the file in an upload's body.
_UPLOAD_OVERHEAD = 64 * 1024


def upload_body_limit() -> int:
    """The largest request body an upload may send: the largest file and its form around it."""
    return int(current_app.config["ATTACHMENT_MAX_BYTES"]) + _UPLOAD_OVERHEAD


def storage() -> Storage:
    """The app's attachment storage (set up by ``init_app``)."""
    return current_app.extensions["notes.storage"]  # type: ignore[no-any-return]


def inline(attachment: Attachment) -> bool:
    """True when a browser may show ``attachment`` in the page: a raster image; everything else is a download."""
    return attachment.content_type in INLINE_IMAGE_TYPES


def markdown_reference(attachment: Attachment) -> str:
    """What to write in a note to show ``attachment``: an image for an image, a link otherwise."""
    label = re.sub(r"[\[\]\\`*_<>]", "", attachment.filename).strip() or "file"
    if inline(attachment):
        label = label.rsplit(".", 1)[0] or label
        return f"![{label}]({ATTACHMENT_SCHEME}{attachment.key})"
    return f"[{label}]({ATTACHMENT_SCHEME}{attachment.key})"


def clean_filename(name: str | None) -> str:
    """The name an upload came with, as kept: no directories, no control characters, at most 255 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return base[:MAX_FILENAME_LENGTH] or "file"


def clean_upload(data: bytes) -> Cleaned:
    """``data`` sniffed, and if it is an image, without private metadata.

    Raises AttachmentError for an empty file or an image too large to decode.
    An image without such metadata is kept byte for byte.
    """
    if not data:
        raise AttachmentError("The file is empty; choose one with something in it.")
    image = _open_image(data)
    if image is not None:
        with image:
            return Cleaned(_without_private_metadata(data, image), _IMAGE_FORMATS[image.format or ""])
    return Cleaned(data, _sniff(data))


def _open_image(data: bytes) -> Image.Image | None:
    """``data`` opened as an image a browser may show inline, or None when it is not one."""
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise AttachmentError(_too_many_pixels()) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    if image.format not in _IMAGE_FORMATS:
        image.close()
        return None
    if image.width * image.height > MAX_IMAGE_PIXELS:
        image.close()
        raise AttachmentError(_too_many_pixels())
    return image


def _too_many_pixels() -> str:
    return f"The image has more than {MAX_IMAGE_PIXELS // 1_000_000} million pixels; make it smaller first."


def _without_private_metadata(data: bytes, image: Image.Image) -> bytes:
    if not any(key in image.info for key in _PRIVATE_INFO):
        return data
    try:
        orientation = image.getexif().get(_ORIENTATION, 1)
        options: dict[str, Any] = {"format": image.format}
        if image.info.get("icc_profile"):
            options["icc_profile"] = image.info["icc_profile"]
        if getattr(image, "is_animated", False):
            options["save_all"] = True
        elif image.format == "JPEG" and orientation == 1:
            # The original's quantisation: no second loss of quality.
            options.update(quality="keep", subsampling="keep")
        elif image.format in ("JPEG", "WEBP"):
            options["quality"] = 95
        if orientation != 1 and not options.get("save_all"):
            # The orientation lives in the EXIF that goes: turn the pixels instead.
            image = ImageOps.exif_transpose(image)
        out = io.BytesIO()
        image.save(out, **options)
    except (OSError, ValueError, SyntaxError) as exc:
        raise AttachmentError("The image is damaged and cannot be read; save it again and attach that.") from exc
    return out.getvalue()


def _sniff(data: bytes) -> str:
    kind = filetype.guess(data[:8192])
    if kind is not None:
        return str(kind.mime)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain; charset=utf-8" if "\x00" not in text else "application/octet-stream"


# --- reading ------------------------------------------------------------------------------


def note_attachments(note: Note) -> list[Attachment]:
    """``note``'s files, oldest first."""
    rows = db.session.scalars(sa.select(Attachment).where(Attachment.note_id == note.id).order_by(Attachment.id))
    return list(rows)


def get_attachment(note: Note, key: str) -> Attachment:
    """File ``key`` of ``note``; AttachmentNotFound otherwise."""
    attachment = _by_key(key)
    if attachment is None or attachment.note_id != note.id:
        raise AttachmentNotFound("No such file on this note.")
    return attachment


def get_owned_attachment(owner: Owner, key: str) -> Attachment:
    """File ``key`` on any of ``owner``'s notes (in the trash too); AttachmentNotFound otherwise."""
    attachment = _by_key(key)
    if attachment is None or attachment.owner_id != owner.id:
        raise AttachmentNotFound("No such file.")
    return attachment


def _by_key(key: str) -> Attachment | None:
    if not is_key(key):
        return None
    return db.session.scalar(sa.select(Attachment).where(Attachment.key == key))


def used_bytes(owner_id: int) -> int:
    """How many bytes of attachments ``owner_id`` holds, on all their notes."""
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Attachment.size), 0)).where(Attachment.owner_id == owner_id)
    )
    return int(total or 0)


def open_bytes(attachment: Attachment) -> bytes:
    """The stored bytes of ``attachment``; FileNotFoundError when storage lost them."""
    with storage().open(attachment.key) as fh:
        return fh.read()


# --- writing ------------------------------------------------------------------------------


def add_attachment(note: Note, filename: str | None, data: bytes, *, commit: bool = True) -> Attachment:
    """Keep ``data`` as a file of ``note`` (which the caller owns) and return it.

    Raises AttachmentError (nothing stored) for an empty file, one over
    ATTACHMENT_MAX_BYTES, an image too large to decode, or one that would
    take the owner past ATTACHMENT_QUOTA_BYTES. With ``commit=False`` the
    caller commits; if it rolls back, the stored bytes are removed.
    """
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    if len(data) > limit:
        raise AttachmentError(attachment_too_large(limit), 413)
    cleaned = clean_upload(data)
    reserve_quota(note.owner_id, len(cleaned.data))
    attachment = Attachment(
        note_id=note.id,
        owner_id=note.owner_id,
        key=new_key(),
        filename=clean_filename(filename),
        content_type=cleaned.content_type,
        size=len(cleaned.data),
        sha256=hashlib.sha256(cleaned.data).hexdigest(),
    )
    store(attachment.key, cleaned.data)
    db.session.add(attachment)
    if commit:
        db.session.commit()
    return attachment


def taken_keys(keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` already name a file."""
    wanted = [key for key in keys if is_key(key)]
    if not wanted:
        return set()
    return set(db.session.scalars(sa.select(Attachment.key).where(Attachment.key.in_(wanted))))


def new_key() -> str:
    """A key for a new file: 128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


def reserve_quota(owner_id: int, size: int) -> None:
    """Check that ``size`` more bytes fit in ``owner_id``'s quota, holding their row until
    the transaction ends (PostgreSQL; SQLite has one writer anyway). AttachmentError (413) otherwise."""
    db.session.execute(sa.select(User.id).where(User.id == owner_id).with_for_update())
    quota = current_app.config["ATTACHMENT_QUOTA_BYTES"]
    used = used_bytes(owner_id)
    if used + size > quota:
        db.session.rollback()
        raise AttachmentError(attachment_over_quota(quota, used), 413)


def store(key: str, data: bytes) -> None:
    """Write ``data`` under ``key``; removed again if the transaction rolls back."""
    storage().save(key, data)
    _pending(db.session(), "stored").add(key)


def delete_attachment(note: Note, key: str) -> None:
    """Delete file ``key`` of ``note`` (committed); its bytes go with the commit. AttachmentNotFound otherwise."""
    db.session.delete(get_attachment(note, key))
    db.session.commit()


def forget_files(keys: Iterable[str]) -> None:
    """Remove the bytes of ``keys`` when the current transaction commits (for bulk deletes the hooks cannot see)."""
    _pending(db.session(), "doomed").update(keys)


def sweep_orphans(older_than: timedelta = timedelta(hours=1), *, now: datetime | None = None) -> int:
    """Remove stored files that no row names and that are older than ``older_than``; how many.

    What a crash between a commit and the removal of its files leaves
    behind. The age keeps it off uploads whose transaction is still open.
    """
    cutoff = (now or utcnow()) - older_than
    known = set(db.session.scalars(sa.select(Attachment.key)))
    removed = 0
    for key, stored_at in list(storage().listing()):
        if key not in known and stored_at < cutoff:
            storage().delete(key)
            removed += 1
    return removed


# --- the session hooks: bytes follow their rows -----------------------------------------------


def _pending(session: Session, kind: str) -> set[str]:
    return session.info.setdefault(_SESSION_KEY, {"stored": set(), "doomed": set()})[kind]  # type: ignore[no-any-return]


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    """Note the keys of every file whose row this flush deletes, directly or with its note or owner."""
    notes = [obj.id for obj in session.deleted if isinstance(obj, Note) and obj.id is not None]
    owners = [obj.id for obj in session.deleted if isinstance(obj, User) and obj.id is not None]
    doomed = _pending(session, "doomed")
    doomed.update(obj.key for obj in session.deleted if isinstance(obj, Attachment))
    if notes or owners:
        with session.no_autoflush:
            doomed.update(
                session.scalars(
                    sa.select(Attachment.key).where(
                        sa.or_(Attachment.note_id.in_(notes), Attachment.owner_id.in_(owners))
                    )
                )
            )


def _after_commit(session: Session) -> None:
    pending = session.info.pop(_SESSION_KEY, None)
    if not pending or not pending["doomed"]:
        return
    for key in pending["doomed"]:
        try:
            storage().delete(key)
        except OSError:  # swept later (sweep_orphans)
            log.warning("could not remove attachment file %s", key, exc_info=True)


def _after_rollback(session: Session) -> None:
    pending = session.info.pop(_SESSION_KEY, None)
    if not pending:
        return
    for key in pending["stored"]:
        try:
            storage().delete(key)
        except OSError:
            log.warning("could not remove attachment file %s", key, exc_info=True)


def init_app(app: Flask) -> None:
    """The storage (ATTACHMENTS_DIR) and the session hooks that keep files and rows in step."""
    app.extensions["notes.storage"] = LocalStorage(app.config["ATTACHMENTS_DIR"])
    hooks = (("before_flush", _before_flush), ("after_commit", _after_commit), ("after_soft_rollback", _soft_rollback))
    for name, hook in hooks:
        if not sa.event.contains(Session, name, hook):
            sa.event.listen(Session, name, hook)


def _soft_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the outermost transaction, not a savepoint
        _after_rollback(session)
