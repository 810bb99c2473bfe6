"""Request and response bodies of the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from ..models import MAX_CONTENT_CHARS, MAX_TITLE_LENGTH, MAX_TOKEN_NAME_LENGTH
from ..tokens import SCOPES


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("Remove the NUL character.")


def _title_not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("The title cannot be blank.")


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class NoteSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    title = fields.String(dump_only=True)
    content = fields.String(dump_only=True)
    pinned = fields.Boolean(dump_only=True)
    archived = fields.Boolean(dump_only=True)
    trashed = fields.Boolean(dump_only=True, attribute="in_trash")
    deleted_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)
    version = fields.Integer(dump_only=True)


_TITLE_RULES: list[Callable[[Any], Any]] = [validate.Length(min=1, max=MAX_TITLE_LENGTH), _title_not_blank, _no_nul]
_CONTENT_RULES: list[Callable[[Any], Any]] = [validate.Length(max=MAX_CONTENT_CHARS), _no_nul]


class NoteCreateSchema(StrictSchema):
    title = fields.String(required=True, validate=_TITLE_RULES)
    content = fields.String(load_default="", validate=_CONTENT_RULES)
    pinned = fields.Boolean(load_default=False)
    archived = fields.Boolean(load_default=False)

    @pre_load
    def _strip_title(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("title"), str):
            data = {**data, "title": data["title"].strip()}
        return data


class NoteUpdateSchema(NoteCreateSchema):
    title = fields.String(validate=_TITLE_RULES)
    content = fields.String(validate=_CONTENT_RULES)
    pinned = fields.Boolean()
    archived = fields.Boolean()

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("Send at least one of: title, content, pinned, archived.")


class NoteListArgs(StrictSchema):
    cursor = fields.String(
        validate=validate.Length(max=200), metadata={"description": "next_cursor from the previous page"}
    )
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    archived = fields.Boolean(
        metadata={
            "description": "Only archived (true) or not archived (false) notes; "
            "default false, or both when trashed=true"
        }
    )
    trashed = fields.Boolean(load_default=False, metadata={"description": "List the trash instead of live notes"})
    pinned = fields.Boolean()


class NotePageSchema(Schema):
    items = fields.List(fields.Nested(NoteSchema))
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "Pass as ?cursor= for the next page; null on the last page"}
    )


class TokenSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String(metadata={"description": "The first characters of the token, to recognise it"})
    scope = fields.String(validate=validate.OneOf(SCOPES))
    created_at = fields.AwareDateTime()
    last_used_at = fields.AwareDateTime(allow_none=True)
    expires_at = fields.AwareDateTime(allow_none=True)
    revoked = fields.Boolean()


class TokenCreatedSchema(TokenSchema):
    token = fields.String(metadata={"description": "The secret. Shown only in this response: store it now."})


class TokenCreateSchema(StrictSchema):
    name = fields.String(
        required=True, validate=[validate.Length(min=1, max=MAX_TOKEN_NAME_LENGTH), _title_not_blank, _no_nul]
    )
    scope = fields.String(load_default="write", validate=validate.OneOf(SCOPES))
    expires_in_days = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=3650))


class TokenListSchema(Schema):
    items = fields.List(fields.Nested(TokenSchema))
