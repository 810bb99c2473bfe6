"""Forms every page can use."""

from typing import Any

from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms.widgets import HiddenInput


class Form(FlaskForm):
    """The app's base form: its hidden fields render without an ``id``.

    WTForms gives every CSRF field ``id="csrf_token"``, and a page with more
    than one form (a note's page, the account page, a list's buttons) then
    repeats that id, which HTML forbids; nothing refers to a hidden field by
    its id (scripts read the token from the page's meta tag).
    """

    def hidden_tag(self, *fields: Any) -> Markup:
        chosen = (getattr(self, f, None) if isinstance(f, str) else f for f in (fields or self))
        hidden = [f for f in chosen if f is not None and isinstance(f.widget, HiddenInput)]
        return Markup("\n").join(escape(f(id=False)) for f in hidden)


class EmptyForm(Form):
    """Carries only the CSRF token, for buttons that POST.

    A list page puts this one form behind dozens of buttons, and rendering its
    hidden field through WTForms for each was the largest part of the notes
    page's CPU (docs/performance.md); the token is the same for the whole
    request (Flask-WTF keeps it in ``g``), so the markup is made once per form.
    """

    _hidden: Markup | None = None

    def hidden_tag(self, *fields: Any) -> Markup:
        if fields:
            return super().hidden_tag(*fields)
        if self._hidden is None:
            self._hidden = super().hidden_tag()
        return self._hidden
