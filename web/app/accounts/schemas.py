"""The tokens API's request and response bodies; limits and checks come from ``rules``."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..api.fields import JsonInteger, StrictSchema, checked_text
from ..text_rules import NOT_BLANK_NO_NUL_PATTERN
from .rules import MAX_PASSWORD_LENGTH, MAX_TOKEN_DAYS, MAX_TOKEN_NAME_LENGTH, TOKEN_SCOPES, token_name_problem


class TokenSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String(metadata={"description": "The first characters of the token, to recognise it"})
    scope = fields.String(validate=validate.OneOf(TOKEN_SCOPES))
    created_at = fields.AwareDateTime()
    last_used_at = fields.AwareDateTime(allow_none=True)
    expires_at = fields.AwareDateTime(allow_none=True)
    revoked = fields.Boolean()


class TokenCreatedSchema(TokenSchema):
    token = fields.String(metadata={"description": "The secret. Shown only in this response: store it now."})


class TokenCreateSchema(StrictSchema):
    name = checked_text(
        token_name_problem,
        min_length=1,
        max_length=MAX_TOKEN_NAME_LENGTH,
        metadata={"pattern": NOT_BLANK_NO_NUL_PATTERN},
        required=True,
    )
    scope = fields.String(load_default="write", validate=validate.OneOf(TOKEN_SCOPES))
    expires_in_days = JsonInteger(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=MAX_TOKEN_DAYS)
    )
    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(max=MAX_PASSWORD_LENGTH),
        metadata={"description": "Your account password: a token outlives the session that creates it"},
    )


class TokenListSchema(Schema):
    items = fields.List(fields.Nested(TokenSchema))
