from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, Regexp

from ..models import MAX_TOKEN_NAME_LENGTH
from ..passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from ..tokens import SCOPES

SCOPE_LABELS = {"read": "Read only", "write": "Read and write"}


class TokenForm(FlaskForm):
    name = StringField(
        "Token name",
        validators=[
            DataRequired(),
            Length(max=MAX_TOKEN_NAME_LENGTH),
            # PostgreSQL text cannot hold NUL: storing the name would fail with a 500.
            Regexp(r"\A[^\x00]*\Z", message="Remove the NUL character from the name."),
        ],
    )
    scope = SelectField("Access", choices=[SelectChoice(s, SCOPE_LABELS[s]) for s in SCOPES], default="write")
    expires_in_days = IntegerField(
        "Expires after (days, empty for never)", validators=[Optional(), NumberRange(min=1, max=3650)]
    )
    # A token outlives the session; whoever holds only a session cookie must
    # not be able to turn it into one.
    password = PasswordField(
        "Your password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    new_password = PasswordField(
        "New password",
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=f"Use {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters.",
            ),
        ],
    )
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("new_password", message="The passwords do not match.")],
    )


class DeleteAccountForm(FlaskForm):
    password = PasswordField("Password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"})


class ImportForm(FlaskForm):
    archive = FileField("Export zip", validators=[FileRequired(message="Choose the .zip file that Export gave you.")])


class EmptyForm(FlaskForm):
    """Carries only the CSRF token, for buttons that POST."""
