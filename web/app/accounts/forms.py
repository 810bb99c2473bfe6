"""The account pages' forms; limits and messages come from ``rules``."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, HiddenField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional, ValidationError

from ..http.forms import Form
from ..text_rules import NUL_MESSAGE, has_nul
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
    PASSWORD_LENGTH_MESSAGE,
    TOKEN_SCOPES,
)

SCOPE_LABELS = {"read": "Read only", "write": "Read and write", "admin": "Administration (manage accounts; read notes)"}
# The scopes everybody may choose; administrators also get "admin".
USER_SCOPES = tuple(scope for scope in TOKEN_SCOPES if scope != "admin")


def no_nul(form: Form, field: StringField) -> None:
    # PostgreSQL text cannot hold NUL: a lookup or an insert would fail with a 500.
    if field.data and has_nul(field.data):
        raise ValidationError(NUL_MESSAGE)


class LoginForm(Form):
    email = EmailField(
        "Email",
        validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH), no_nul],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField("Remember me")


class RegisterForm(Form):
    email = EmailField(
        "Email", validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH)], render_kw={"autocomplete": "email"}
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH, message=PASSWORD_LENGTH_MESSAGE),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Repeat password",
        validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")],
        render_kw={"autocomplete": "new-password"},
    )
    # The invitation from the link (?invite=...), when REGISTRATION=invite.
    invite = HiddenField(validators=[Optional(), Length(max=100)])


class TokenForm(Form):
    name = StringField("Token name", validators=[DataRequired(), Length(max=MAX_TOKEN_NAME_LENGTH), no_nul])
    scope = SelectField("Access", choices=[SelectChoice(s, SCOPE_LABELS[s]) for s in USER_SCOPES], default="write")

    def offer_admin_scope(self) -> None:
        """Let an administrator choose the admin scope too."""
        self.scope.choices = [SelectChoice(s, SCOPE_LABELS[s]) for s in TOKEN_SCOPES]

    expires_in_days = IntegerField(
        "Expires after (days, empty for never)", validators=[Optional(), NumberRange(min=1, max=MAX_TOKEN_DAYS)]
    )
    # A token outlives the session; whoever holds only a session cookie must
    # not be able to turn it into one.
    password = PasswordField(
        "Your password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    # Asked for (and shown) only when the account has two-factor login on.
    code = StringField(
        "Two-factor code",
        validators=[Optional(), Length(max=MAX_CODE_LENGTH)],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false"},
        description="From your authenticator app, or a recovery code.",
    )


def _code_field(label: str = "Code") -> StringField:
    return StringField(
        label,
        validators=[DataRequired(message="Enter the code."), Length(max=MAX_CODE_LENGTH)],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "off"},
    )


class LoginCodeForm(Form):
    """The login's second step."""

    code = _code_field("Code from your authenticator app, or a recovery code")


class EnableTwoFactorForm(Form):
    """Confirming the set-up with the first code, and the password."""

    code = _code_field("Code shown by the app")
    password = PasswordField(
        "Your password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )


class TwoFactorChangeForm(Form):
    """Turning two-factor login off, or new recovery codes: the password and a code."""

    password = PasswordField(
        "Your password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    code = _code_field("Code from your authenticator app, or a recovery code")


class LinkSsoForm(Form):
    """Linking a single sign-on identity from the account page: a lasting way in, so the password
    (and a code, with two-factor login on) as for an API token."""

    password = PasswordField(
        "Your password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    code = StringField(
        "Code from your authenticator app, or a recovery code",
        validators=[Optional(), Length(max=MAX_CODE_LENGTH)],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "off"},
    )


class ChangePasswordForm(Form):
    current_password = PasswordField(
        "Current password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    new_password = PasswordField(
        "New password",
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH, message=PASSWORD_LENGTH_MESSAGE),
        ],
    )
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("new_password", message="The passwords do not match.")],
    )
    # Checked by default: whoever knew the old password may have made a token.
    revoke_tokens = BooleanField(
        "Also revoke every API token",
        default=True,
        description="Programs that use one will need a new token. Other login sessions end in any case.",
    )


class ForgotPasswordForm(Form):
    email = EmailField(
        "Email",
        validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH), no_nul],
        render_kw={"autocomplete": "email"},
    )


class ResetPasswordForm(Form):
    password = PasswordField(
        "New password",
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH, message=PASSWORD_LENGTH_MESSAGE),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")],
        render_kw={"autocomplete": "new-password"},
    )
    # Whoever made you reset the password may hold a token too; on unless unticked.
    revoke_tokens = BooleanField("Also revoke my API tokens", default=True)


class DeleteAccountForm(Form):
    password = PasswordField("Password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"})


class ImportForm(Form):
    """The notes import on the account page; the archive rules are app.notes.transfer's."""

    archive = FileField(
        "File to import",
        description="A Notes export, a zip of Markdown files, a Google Keep Takeout zip, "
        "a memos export (.json) or an Evernote export (.enex).",
        validators=[FileRequired(message="Choose the file to import: an export zip, .json or .enex.")],
    )


class InviteForm(Form):
    """An administrator's new invitation link."""

    note = StringField("For whom (optional)", validators=[Optional(), Length(max=MAX_INVITE_NOTE_LENGTH), no_nul])
    days = IntegerField(
        "Expires after (days)",
        default=DEFAULT_INVITE_DAYS,
        # InputRequired, not DataRequired: a typed 0 is out of range, not missing.
        validators=[InputRequired(), NumberRange(min=1, max=MAX_INVITE_DAYS)],
    )


class ConfirmDeleteForm(Form):
    """Deleting someone's account: the administrator types its email to confirm."""

    email = StringField(
        "Type the account's email to confirm", validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH)]
    )


class ConfirmLinkForm(Form):
    """Prove an account with its password before a single sign-on identity is linked to it."""

    password = PasswordField(
        "Password of this account",
        validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


def without_password(form: Form, name: str = "password") -> Form:
    """``form`` for an account that has no password (made by single sign-on): its field ``name`` may be empty.

    A recent confirmation with the provider stands in for the password there;
    app/accounts/service.py's confirm_password decides whether there is one.
    """
    getattr(form, name).validators = [Optional()]
    return form
