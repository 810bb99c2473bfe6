"""Request and response bodies of the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from ..models import MAX_CONTENT_CHARS, MAX_TAG_LENGTH, MAX_TAGS_PER_NOTE, MAX_TITLE_LENGTH, MAX_TOKEN_NAME_LENGTH
from ..notes.tags import TagError, clean_tag_list
from ..passwords import MAX_PASSWORD_LENGTH
from ..search import MAX_QUERY_LENGTH
from ..tokens import SCOPES


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("Remove the NUL character.")


def _title_not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("The title cannot be blank.")


# The two rules above as JSON Schema patterns, so the OpenAPI document does not
# promise that a blank or NUL-carrying title is accepted. The whitespace class
# is exactly what str.strip() removes (str.isspace), spelled out because
# regex engines disagree on \s.
_SPACE = r"\t-\r\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# "Contains no NUL", as `not` a search for one rather than an anchored
# ^[^\u0000]*$: the same rule, but a tool that folds maxLength into the
# pattern (schemathesis does) would turn the content's 100,000 into a
# [^\u0000]{0,100000} quantifier that takes ~0.6 s to compile each time.
NUL = r"\u0000"
NOT_BLANK_NO_NUL_PATTERN = rf"^[^\u0000]*[^\u0000{_SPACE}][^\u0000]*$"


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class JsonBoolean(fields.Boolean):
    """A JSON ``true`` or ``false`` only.

    marshmallow's Boolean also takes 1, 0, "yes", "off"...; the OpenAPI
    document promises a boolean, so a client sending ``"archived": 0`` has a
    bug it should hear about (422) rather than have guessed for it.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class JsonInteger(fields.Integer):
    """A JSON number without a fraction (30 or 30.0, as JSON Schema's integer).

    marshmallow's Integer also takes the string "30" and true; strict=True
    would refuse 30.0, which the OpenAPI document allows.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)  # type: ignore[no-any-return]


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
    tags = fields.Pluck("TagNameSchema", "name", many=True, dump_only=True)


class TagNameSchema(Schema):
    name = fields.String()


def _tag_rules(value: list[str]) -> None:
    """Each tag usable, at most MAX_TAGS_PER_NOTE (case-insensitive duplicates allowed, merged)."""
    try:
        clean_tag_list(value)
    except TagError as exc:
        raise ValidationError(str(exc)) from exc


# A tag as JSON Schema: 1-50 characters, no comma or NUL, not only spaces.
TAG_PATTERN = rf"^[^\u0000,]*[^\u0000,{_SPACE}][^\u0000,]*$"
_TAG_FIELD = fields.String(validate=validate.Length(min=1, max=MAX_TAG_LENGTH), metadata={"pattern": TAG_PATTERN})


_TITLE_RULES: list[Callable[[Any], Any]] = [validate.Length(min=1, max=MAX_TITLE_LENGTH), _title_not_blank, _no_nul]
_CONTENT_RULES: list[Callable[[Any], Any]] = [validate.Length(max=MAX_CONTENT_CHARS), _no_nul]


class NoteCreateSchema(StrictSchema):
    title = fields.String(required=True, validate=_TITLE_RULES, metadata={"pattern": NOT_BLANK_NO_NUL_PATTERN})
    content = fields.String(load_default="", validate=_CONTENT_RULES, metadata={"not": {"pattern": NUL}})
    pinned = JsonBoolean(load_default=False)
    archived = JsonBoolean(load_default=False)
    tags = fields.List(
        _TAG_FIELD,
        load_default=list,
        validate=[validate.Length(max=MAX_TAGS_PER_NOTE), _tag_rules],
        metadata={"description": "Tag names; a note has at most 20"},
    )

    @pre_load
    def _strip_title(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("title"), str):
            data = {**data, "title": data["title"].strip()}
        return data


class NoteUpdateSchema(NoteCreateSchema):
    title = fields.String(validate=_TITLE_RULES, metadata={"pattern": NOT_BLANK_NO_NUL_PATTERN})
    content = fields.String(validate=_CONTENT_RULES, metadata={"not": {"pattern": NUL}})
    pinned = JsonBoolean()
    archived = JsonBoolean()
    tags = fields.List(
        _TAG_FIELD,
        validate=[validate.Length(max=MAX_TAGS_PER_NOTE), _tag_rules],
        metadata={"description": "The note's new tags: the whole list, replacing the old one"},
    )

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("Send at least one of: title, content, pinned, archived, tags.")


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
    tag = fields.List(
        fields.String(validate=validate.Length(min=1, max=MAX_TAG_LENGTH)),
        validate=validate.Length(max=MAX_TAGS_PER_NOTE),
        metadata={"description": "Only notes with this tag; repeat for notes with all of several"},
    )
    q = fields.String(
        validate=validate.Length(max=MAX_QUERY_LENGTH),
        metadata={
            "description": 'Search: words, "phrases", OR, -exclusions; the last word matches as a prefix. '
            "Results are ranked, carry a snippet, and come on one page (next_cursor is null)."
        },
    )


class NoteListItemSchema(NoteSchema):
    snippet = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "With q: HTML-escaped text around the matches, which are in <mark> elements"},
    )


class NotePageSchema(Schema):
    items = fields.List(fields.Nested(NoteListItemSchema))
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
        required=True,
        validate=[validate.Length(min=1, max=MAX_TOKEN_NAME_LENGTH), _title_not_blank, _no_nul],
        metadata={"pattern": NOT_BLANK_NO_NUL_PATTERN},
    )
    scope = fields.String(load_default="write", validate=validate.OneOf(SCOPES))
    expires_in_days = JsonInteger(load_default=None, allow_none=True, validate=validate.Range(min=1, max=3650))
    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(max=MAX_PASSWORD_LENGTH),
        metadata={"description": "Your account password: a token outlives the session that creates it"},
    )


class TokenListSchema(Schema):
    items = fields.List(fields.Nested(TokenSchema))


class TagCountSchema(Schema):
    name = fields.String()
    count = fields.Integer(metadata={"description": "Notes with this tag, outside the trash"})


class TagListSchema(Schema):
    items = fields.List(fields.Nested(TagCountSchema))


class TagRenameSchema(StrictSchema):
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_TAG_LENGTH),
        metadata={"description": "The tag to rename"},
    )
    new_name = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=MAX_TAG_LENGTH), lambda v: _tag_rules([v])],
        metadata={"pattern": TAG_PATTERN, "description": "Its new name; if you already have that tag, the two merge"},
    )


class ImportResultSchema(Schema):
    imported = fields.Integer(metadata={"description": "How many notes were created"})
