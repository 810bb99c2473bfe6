"""The account API's request and response bodies (tokens, sessions, admin); limits and checks come from ``rules``."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..api.fields import JsonBoolean, JsonInteger, StrictSchema, checked_text
from ..text_rules import NOT_BLANK_NO_NUL_PATTERN
from .rules import (
    DEFAULT_INVITE_DAYS,
    MAX_CODE_LENGTH,
    MAX_EMAIL_LENGTH,
    MAX_INVITE_DAYS,
    MAX_INVITE_NOTE_LENGTH,
    MAX_PASSWORD_LENGTH,
    MAX_TOKEN_DAYS,
    MAX_TOKEN_NAME_LENGTH,
    MIN_PASSWORD_LENGTH,
    TOKEN_SCOPES,
    invite_note_problem,
    token_name_problem,
)


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
        metadata={
            "description": "Your account password: a token outlives the session that creates it. "
            'An account made by single sign-on has none: it sends "" after "Confirm with SSO" on the Account page '
            "in the same browser session, within a few minutes"
        },
    )
    code = fields.String(
        load_default=None,
        load_only=True,
        validate=validate.Length(max=MAX_CODE_LENGTH),
        metadata={
            "description": "When your account has two-factor login on: a current code from your authenticator app, "
            "or a recovery code (used up). Each code is taken once."
        },
    )


class AccountSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    is_admin = fields.Boolean()
    two_factor = fields.Boolean(
        metadata={"description": "Whether logging in needs a code; it is set up and turned off on the Account page"}
    )


class PasswordResetRequestSchema(StrictSchema):
    email = fields.Email(
        required=True,
        validate=validate.Length(max=MAX_EMAIL_LENGTH),
        metadata={"description": "The account's email address; any address gets the same answer"},
    )


class PasswordResetAcceptedSchema(Schema):
    detail = fields.String(metadata={"description": "The same words whether the address has an account or not"})


class PasswordResetSchema(StrictSchema):
    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH),
        metadata={"description": "The new password (8 to 128 characters, not a common one, not the email)"},
    )
    revoke_tokens = JsonBoolean(
        load_default=True,
        metadata={"description": "Also revoke every API token of the account (every login session ends anyway)"},
    )


class TokenListSchema(Schema):
    items = fields.List(fields.Nested(TokenSchema))


# --- /api/v1/sessions --------------------------------------------------------


class SessionSchema(Schema):
    id = fields.Integer()
    device = fields.String(
        metadata={"description": 'A short name for the browser and system, from the User-Agent: "Firefox on Linux"'}
    )
    user_agent = fields.String(
        allow_none=True,
        metadata={"description": "The User-Agent the session logged in with (at most 255 characters); null if unknown"},
    )
    ip = fields.String(allow_none=True, metadata={"description": "The address it logged in from; null if unknown"})
    created_at = fields.AwareDateTime(metadata={"description": "When it logged in"})
    last_seen_at = fields.AwareDateTime(metadata={"description": "Its latest request, to the minute"})
    remember = fields.Boolean(metadata={"description": 'Logged in with "remember me"'})
    current = fields.Boolean(
        metadata={"description": "The session making this call (a browser's cookie call); always false for a token"}
    )


class SessionListSchema(Schema):
    items = fields.List(fields.Nested(SessionSchema))


class SessionsEndedSchema(Schema):
    sessions_ended = fields.Integer()


# --- /api/v1/admin -----------------------------------------------------------


class AdminAccountSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    is_admin = fields.Boolean()
    disabled = fields.Boolean(metadata={"description": "Disabled accounts cannot log in; their tokens are revoked"})
    two_factor = fields.Boolean(metadata={"description": "Whether the account logs in with a second factor (TOTP)"})
    created_at = fields.AwareDateTime()
    last_seen_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "Latest session activity or token use; null if never"}
    )
    notes = fields.Integer(metadata={"description": "Notes the account has, archived and trashed included"})


class AdminAccountListSchema(Schema):
    items = fields.List(fields.Nested(AdminAccountSchema))


class AccessRevokedSchema(Schema):
    sessions_ended = fields.Integer()
    tokens_revoked = fields.Integer()


class InviteSchema(Schema):
    id = fields.Integer()
    note = fields.String()
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    used_at = fields.AwareDateTime(allow_none=True)


class InviteCreatedSchema(InviteSchema):
    link = fields.String(metadata={"description": "The registration link. Shown only in this response."})


class InviteListSchema(Schema):
    items = fields.List(fields.Nested(InviteSchema))


class InviteCreateSchema(StrictSchema):
    note = checked_text(invite_note_problem, max_length=MAX_INVITE_NOTE_LENGTH, load_default="")
    days = JsonInteger(load_default=DEFAULT_INVITE_DAYS, validate=validate.Range(min=1, max=MAX_INVITE_DAYS))


class AuditEventSchema(Schema):
    id = fields.Integer()
    created_at = fields.AwareDateTime()
    action = fields.String()
    description = fields.String()
    actor_email = fields.String(allow_none=True)
    target_email = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
    detail = fields.String()


class AuditListSchema(Schema):
    items = fields.List(fields.Nested(AuditEventSchema))
    next_before = fields.Integer(
        allow_none=True, metadata={"description": "Pass as ?before= for the next (older) page; null on the last"}
    )


class AuditQuerySchema(Schema):
    before = fields.Integer(load_default=None, validate=validate.Range(min=1))
