from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from ..models import MAX_CONTENT_CHARS, MAX_TAG_LENGTH, MAX_TAGS_PER_NOTE, MAX_TITLE_LENGTH
from ..search import MAX_QUERY_LENGTH
from .tags import TagError, parse_tags


def no_nul(form: FlaskForm, field: StringField) -> None:
    # Postgres text cannot hold NUL; refuse it here rather than fail later.
    if field.data and "\x00" in field.data:
        raise ValidationError("Remove the NUL character from this field.")


def tag_list(form: FlaskForm, field: StringField) -> None:
    try:
        parse_tags(field.data or "")
    except TagError as exc:
        raise ValidationError(str(exc)) from exc


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
    tags = StringField(
        "Tags",
        description="Separate tags with commas, e.g. work, ideas",
        validators=[Length(max=MAX_TAGS_PER_NOTE * (MAX_TAG_LENGTH + 2)), tag_list],
    )
    # The version the edit started from: saving over a newer one is refused.
    version = HiddenField()

    def tag_names(self) -> list[str]:
        return parse_tags(self.tags.data or "")


class RenameTagForm(FlaskForm):
    name = HiddenField(validators=[DataRequired()])
    new_name = StringField(
        "New name", validators=[DataRequired(message="Give the tag a name."), Length(max=MAX_TAG_LENGTH)]
    )


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: nothing changes

    q = StringField("Search", validators=[Length(max=MAX_QUERY_LENGTH)])
