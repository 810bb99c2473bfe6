from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..account.forms import EmptyForm
from ..markdown import render_markdown
from ..models import Note
from ..pagination import CursorError
from ..security import is_safe_next
from . import bp
from .forms import NoteForm
from .service import (
    EditConflict,
    create_note,
    get_owned_note,
    list_notes,
    purge_note,
    restore_note,
    trash_note,
    update_note,
)


@dataclass(frozen=True)
class ListView:
    heading: str
    archived: bool | None
    trashed: bool


VIEWS = {
    "index": ListView("Notes", archived=False, trashed=False),
    "archive": ListView("Archive", archived=True, trashed=False),
    "trash": ListView("Trash", archived=None, trashed=True),
}


@bp.before_request
@login_required
def _require_login() -> None:
    """Every notes page needs a logged-in user."""


def _list(view: str) -> ResponseReturnValue:
    spec = VIEWS[view]
    try:
        page = list_notes(
            current_user,
            archived=spec.archived,
            trashed=spec.trashed,
            cursor=request.args.get("cursor") or None,
            limit=int(current_app.config["NOTES_PER_PAGE"]),
        )
    except CursorError:
        abort(400, "That page link is broken; start again from the first page.")
    return render_template(
        "notes/list.html",
        view=view,
        heading=spec.heading,
        notes=page.items,
        next_cursor=page.next_cursor,
        form=NoteForm(formdata=None),
        action_form=EmptyForm(),
    )


@bp.get("/")
def index() -> ResponseReturnValue:
    return _list("index")


@bp.get("/archive")
def archive() -> ResponseReturnValue:
    return _list("archive")


@bp.get("/trash")
def trash() -> ResponseReturnValue:
    return _list("trash")


@bp.get("/new")
def new() -> ResponseReturnValue:
    return render_template("notes/edit.html", form=NoteForm(formdata=None), note=None)


@bp.post("/")
def create() -> ResponseReturnValue:
    form = NoteForm()
    if not form.validate_on_submit():
        return render_template("notes/edit.html", form=form, note=None), 400
    note = create_note(current_user, form.title.data or "", form.content.data or "")
    flash("Note created.", "success")
    return redirect(url_for("notes.view", note_id=note.id))


@bp.get("/<int:note_id>")
def view(note_id: int) -> ResponseReturnValue:
    note = get_owned_note(note_id, current_user)
    return render_template("notes/view.html", note=note, body=render_markdown(note.content), action_form=EmptyForm())


@bp.route("/<int:note_id>/edit", methods=["GET", "POST"])
def edit(note_id: int) -> ResponseReturnValue:
    note = get_owned_note(note_id, current_user, trashed=False)
    if request.method == "GET":
        form = NoteForm(obj=note)
        form.version.data = str(note.version)
        return render_template("notes/edit.html", form=form, note=note)
    form = NoteForm()
    if not form.validate_on_submit():
        return render_template("notes/edit.html", form=form, note=note), 400
    try:
        expected = int(form.version.data or "")
    except ValueError:
        expected = None  # an old form without a version: compare nothing
    try:
        update_note(note, {"title": form.title.data, "content": form.content.data or ""}, expected)
    except EditConflict:
        # Keep the user's text in the form and show what the other edit saved.
        current = get_owned_note(note_id, current_user)
        form.version.data = str(current.version)
        return render_template("notes/edit.html", form=form, note=current, conflict=current), 409
    flash("Note saved.", "success")
    return redirect(url_for("notes.view", note_id=note.id))


def _action(note: Note, message: str) -> ResponseReturnValue:
    flash(message, "success")
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("notes.view", note_id=note.id))


def _check_form() -> None:
    if not EmptyForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")


@bp.post("/<int:note_id>/pin")
def pin(note_id: int) -> ResponseReturnValue:
    _check_form()
    note = get_owned_note(note_id, current_user, trashed=False)
    update_note(note, {"pinned": not note.pinned})
    return _action(note, "Note pinned." if note.pinned else "Note unpinned.")


@bp.post("/<int:note_id>/archive")
def toggle_archive(note_id: int) -> ResponseReturnValue:
    _check_form()
    note = get_owned_note(note_id, current_user, trashed=False)
    update_note(note, {"archived": not note.archived})
    return _action(note, "Note archived." if note.archived else "Note moved back to your notes.")


@bp.post("/<int:note_id>/delete")
def delete(note_id: int) -> ResponseReturnValue:
    _check_form()
    note = get_owned_note(note_id, current_user, trashed=False)
    trash_note(note)
    flash("Note moved to the trash. You can restore it from there.", "success")
    return redirect(url_for("notes.index"))


@bp.post("/<int:note_id>/restore")
def restore(note_id: int) -> ResponseReturnValue:
    _check_form()
    note = get_owned_note(note_id, current_user, trashed=True)
    restore_note(note)
    return _action(note, "Note restored.")


@bp.post("/<int:note_id>/purge")
def purge(note_id: int) -> ResponseReturnValue:
    _check_form()
    note = get_owned_note(note_id, current_user, trashed=True)
    purge_note(note)
    flash("Note deleted forever.", "success")
    return redirect(url_for("notes.trash"))
