"""The notes pages' forms; every limit and message comes from ``rules``."""

from __future__ import annotations

from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from ..http.forms import Form
from ..text_rules import NUL_MESSAGE, has_nul
from .rules import (
    CONTENT_TOO_LONG,
    MAX_CONTENT_CHARS,
    MAX_QUERY_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS_PER_NOTE,
    MAX_TITLE_LENGTH,
    QUICK_NOTE_EMPTY,
    SHARE_DAYS,
    SHARE_DAYS_PROBLEM,
    TITLE_REQUIRED,
    TITLE_TOO_LONG,
    TagError,
    parse_tags,
)


def no_nul(form: Form, field: StringField) -> None:
    if field.data and has_nul(field.data):
        raise ValidationError(NUL_MESSAGE)


def tag_list(form: Form, field: StringField) -> None:
    try:
        parse_tags(field.data or "")
    except TagError as exc:
        raise ValidationError(str(exc)) from exc


class NoteForm(Form):
    title = StringField(
        "Title",
        filters=[lambda s: s.strip() if isinstance(s, str) else s],
        validators=[DataRequired(message=TITLE_REQUIRED), Length(max=MAX_TITLE_LENGTH, message=TITLE_TOO_LONG), no_nul],
    )
    content = TextAreaField(
        "Content (Markdown)", validators=[Length(max=MAX_CONTENT_CHARS, message=CONTENT_TOO_LONG), no_nul]
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


class QuickNoteForm(Form):
    """Quick capture on the notes list: one text box (rules.split_quick_note)."""

    text = TextAreaField(
        "Quick note",
        description="The first line becomes the title. Ctrl+Enter saves.",
        validators=[
            DataRequired(message=QUICK_NOTE_EMPTY),
            Length(max=MAX_CONTENT_CHARS, message=CONTENT_TOO_LONG),
            no_nul,
        ],
        render_kw={"rows": 2, "placeholder": "Jot something down…"},
    )


class ShareForm(Form):
    """Make a read-only link to a note: how long it works ("" until revoked)."""

    days = SelectField(
        "Link works",
        choices=[
            SelectChoice("", "until I revoke it"),
            *(SelectChoice(str(d), f"for {d} day{'' if d == 1 else 's'}") for d in SHARE_DAYS),
        ],
        validate_choice=False,  # validate_days says what to fix
    )

    def lifetime(self) -> int | None:
        return int(self.days.data) if self.days.data else None

    def validate_days(self, field: SelectField) -> None:
        if field.data and not (field.data.isdigit() and int(field.data) in SHARE_DAYS):
            raise ValidationError(SHARE_DAYS_PROBLEM)


class TagsForm(Form):
    """Only the tags of a note (the small form on the note page)."""

    tags = NoteForm.tags


class RenameTagForm(Form):
    name = HiddenField(validators=[DataRequired()])
    new_name = StringField(
        "New name", validators=[DataRequired(message="Give the tag a name."), Length(max=MAX_TAG_LENGTH)]
    )


class SearchForm(Form):
    class Meta:
        csrf = False  # a GET form: nothing changes

    q = StringField("Search", validators=[Length(max=MAX_QUERY_LENGTH)])
