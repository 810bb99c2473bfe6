"""Forms every page can use."""

from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """Carries only the CSRF token, for buttons that POST."""
