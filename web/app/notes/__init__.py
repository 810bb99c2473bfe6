"""Notes: notes, tags, search, Markdown, export and import.

- ``rules``: a note's limits and checks, for every way in.
- ``models``: the tables. ``service``, ``tags``, ``search``, ``transfer``,
  ``markdown``, ``serialize``: what can be done, as functions that return
  results or raise domain errors.
- ``jsonstream``: an export's notes.json read a note at a time, for ``transfer``'s import.
- ``sharing``: read-only links to a note. ``attachments``: files added to a note,
  kept in ``storage``.
- ``views`` (pages), ``public`` (a shared note, /s/), ``api`` (/api/v1/notes, tags, shares, export, import),
  ``forms``, ``schemas``, ``cli``: the ways in.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the notes pages, the shared-note page, the notes API, the search objects, the
    attachment storage and ``flask notes``.

    Imported here rather than at the top, so that importing a service module
    (``app.notes.service``) loads no view.
    """
    from . import api, attachments, cli, public, search, tag_counts, views
    from .rules import INLINE_IMAGE_TYPES

    search.init_app()
    tag_counts.init_app()
    attachments.init_app(app)
    api.init_app()
    app.register_blueprint(views.bp)
    app.register_blueprint(public.bp)
    app.add_template_global(attachments.markdown_reference, "markdown_reference")
    app.add_template_global(views.list_url, "list_url")
    app.jinja_env.globals["inline_types"] = INLINE_IMAGE_TYPES
    cli.init_app(app)
