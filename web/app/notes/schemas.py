"""The notes API's request and response bodies; limits and checks come from ``rules``."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from ..api.fields import JsonBoolean, StrictSchema, checked_text
from ..text_rules import NUL_PATTERN, is_blank
from .rules import (
    MAX_CONTENT_CHARS,
    MAX_QUERY_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS_PER_NOTE,
    MAX_TITLE_LENGTH,
    SHARE_DAYS,
    SHARE_DAYS_PROBLEM,
    TAG_PATTERN,
    TITLE_OR_CONTENT_REQUIRED,
    TITLE_PATTERN,
    TagError,
    clean_tag_list,
    content_problem,
    split_quick_note,
    title_problem,
)


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


_TAG_FIELD = fields.String(validate=validate.Length(min=1, max=MAX_TAG_LENGTH), metadata={"pattern": TAG_PATTERN})


def _title(description: str | None = None, **kwargs: Any) -> fields.String:
    metadata = {"pattern": TITLE_PATTERN, **({"description": description} if description else {})}
    return checked_text(title_problem, min_length=1, max_length=MAX_TITLE_LENGTH, metadata=metadata, **kwargs)


def _content(**kwargs: Any) -> fields.String:
    return checked_text(
        content_problem, max_length=MAX_CONTENT_CHARS, metadata={"not": {"pattern": NUL_PATTERN}}, **kwargs
    )


class _NoteFields(StrictSchema):
    title = _title(
        "Without a title, the first line of the content becomes it and the rest the content, as in quick "
        "capture (a long first line is cut at a word and kept whole in the content)"
    )
    content = _content(load_default="")
    pinned = JsonBoolean(load_default=False)
    archived = JsonBoolean(load_default=False)
    tags = fields.List(
        _TAG_FIELD,
        load_default=list,
        validate=[validate.Length(max=MAX_TAGS_PER_NOTE), _tag_rules],
        metadata={"description": f"Tag names; a note has at most {MAX_TAGS_PER_NOTE}"},
    )

    @pre_load
    def _strip_title(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("title"), str):
            data = {**data, "title": data["title"].strip()}
        return data


class NoteCreateSchema(_NoteFields):
    @pre_load
    def _title_from_content(self, data: Any, **kwargs: Any) -> Any:
        """No title: quick capture's rule (rules.split_quick_note) makes one from the content."""
        if not isinstance(data, dict) or "title" in data:
            return data
        content = data.get("content")
        if not isinstance(content, str) or is_blank(content):
            raise ValidationError(TITLE_OR_CONTENT_REQUIRED, "title")
        title, rest = split_quick_note(content)
        return {**data, "title": title, "content": rest}


class NoteUpdateSchema(_NoteFields):
    title = _title()
    content = _content()
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
    source = fields.String(
        metadata={
            "description": "What the upload was: a Notes export, a zip of Markdown files, Google Keep, memos, Evernote"
        }
    )
    skipped = fields.List(
        fields.String(),
        metadata={"description": "What was left out on purpose, and why (a trashed note, an attachment)"},
    )


class RevisionSummarySchema(Schema):
    id = fields.Integer(metadata={"description": "The revision's id, for /revisions/{revision_id}"})
    note_id = fields.Integer()
    note_version = fields.Integer(metadata={"description": "The note's version this revision keeps"})
    saved_at = fields.AwareDateTime(metadata={"description": "When that version was saved"})
    title = fields.String()
    tags = fields.List(fields.String(), attribute="tag_names")
    replaced_at = fields.AwareDateTime(
        attribute="created_at", metadata={"description": "When a save replaced that version"}
    )
    last_save_at = fields.AwareDateTime(
        metadata={
            "description": "The last save of the same client folded into this revision "
            "(saves within 2 minutes by default)"
        }
    )
    replaced_via = fields.String(
        attribute="via",
        allow_none=True,
        metadata={"enum": ["session", "token", None], "description": "A browser login session or an API token"},
    )
    restored_from = fields.Integer(
        allow_none=True, metadata={"description": "Set when the replacing save restored this older revision"}
    )


class RevisionSchema(RevisionSummarySchema):
    content = fields.String()


class RevisionPageSchema(Schema):
    items = fields.List(fields.Nested(RevisionSummarySchema))
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "Pass as ?cursor= for the next page; null on the last page"}
    )


class RevisionListArgs(StrictSchema):
    cursor = fields.String(
        validate=validate.Length(max=200), metadata={"description": "next_cursor from the previous page"}
    )
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class ShareCreateSchema(StrictSchema):
    days = fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(SHARE_DAYS, error=SHARE_DAYS_PROBLEM),
        metadata={"description": "Days the link works; left out or null: until revoked"},
    )


class ShareSchema(Schema):
    id = fields.Integer()
    note_id = fields.Integer()
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True, metadata={"description": "null: until revoked"})
    revoked_at = fields.DateTime(allow_none=True)


class NewShareSchema(ShareSchema):
    url = fields.String(
        metadata={"description": "The link to hand out. Shown this once: only a hash of its secret is kept"}
    )


class ShareListSchema(Schema):
    items = fields.List(fields.Nested(ShareSchema))


class AccountShareSchema(ShareSchema):
    note_title = fields.String(attribute="note.title")


class AccountShareListSchema(Schema):
    items = fields.List(fields.Nested(AccountShareSchema))


class AttachmentSchema(Schema):
    key = fields.String(metadata={"description": "The file's id: write attachment:KEY in the note to show it"})
    note_id = fields.Integer()
    filename = fields.String(metadata={"description": "The name it was uploaded with"})
    content_type = fields.String(metadata={"description": "Found from the bytes, not from the upload's claim"})
    size = fields.Integer(metadata={"description": "Bytes, as stored (an image's private metadata removed)"})
    sha256 = fields.String()
    created_at = fields.DateTime()
    markdown = fields.String(metadata={"description": "What to write in the note to show it"})
    content_url = fields.String(metadata={"description": "Where its bytes are"})


class AttachmentListSchema(Schema):
    items = fields.List(fields.Nested(AttachmentSchema))
