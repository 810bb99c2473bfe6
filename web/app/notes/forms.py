from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from ..models import MAX_CONTENT_CHARS, MAX_TITLE_LENGTH


def no_nul(form: FlaskForm, field: StringField) -> None:
    # Postgres text cannot hold NUL; refuse it here rather than fail later.
    if field.data and "\x00" in field.data:
        raise ValidationError("Remove the NUL character from this field.")


class NoteForm(FlaskForm):
    title = StringField(
        "Title",
        filters=[lambda s: s.strip() if isinstance(s, str) else s],
        validators=[
            DataRequired(message="Give the note a title."),
            Length(max=MAX_TITLE_LENGTH, message=f"Keep the title to {MAX_TITLE_LENGTH} characters."),
            no_nul,
        ],
    )
    content = TextAreaField(
        "Content (Markdown)",
        validators=[
            Length(max=MAX_CONTENT_CHARS, message=f"Keep the note to {MAX_CONTENT_CHARS:,} characters."),
            no_nul,
        ],
    )
    # The version the edit started from: saving over a newer one is refused.
    version = HiddenField()
