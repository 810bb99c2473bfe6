"""Forms every page can use."""

from typing import Any, cast

from flask_wtf import FlaskForm
from markupsafe import Markup


class EmptyForm(FlaskForm):
    """Carries only the CSRF token, for buttons that POST.

    A list page puts this one form behind dozens of buttons, and rendering its
    hidden field through WTForms for each was a third of the notes page's
    CPU; the token is the same for the whole request (Flask-WTF keeps it in
    ``g``), so the markup is made once per form.
    """

    _hidden: Markup | None = None

    def hidden_tag(self, *fields: Any) -> Markup:
        if fields:
            return cast(Markup, super().hidden_tag(*fields))
        if self._hidden is None:
            self._hidden = cast(Markup, super().hidden_tag())
        return self._hidden
