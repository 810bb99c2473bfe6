"""The notes pages: list, view, write, pin, archive, trash, tags, history, files."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..http.forms import EmptyForm
from ..http.limits import body_limit
from ..http.pagination import CursorError
from ..http.security import is_safe_next
from .attachments import (
    AttachmentError,
    add_attachment,
    delete_attachment,
    get_owned_attachment,
    markdown_reference,
    note_attachments,
    upload_body_limit,
    used_bytes,
)
from .diff import diff_html
from .downloads import send_attachment
from .forms import NoteForm, QuickNoteForm, RenameTagForm, SearchForm, ShareForm, TagsForm
from .history import Editor, get_revision, list_revisions, session_client
from .markdown import render_markdown, toggle_task
from .models import Note
from .rules import (
    MAX_CONTENT_CHARS,
    MAX_QUERY_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS_PER_NOTE,
    TagError,
    mebibytes,
    parse_tags,
    split_quick_note,
)
from .serialize import attachment_dict
from .service import (
    EditConflict,
    create_note,
    get_owned_note,
    list_notes,
    purge_note,
    restore_note,
    restore_revision,
    search,
    trash_note,
    update_note,
)
from .sharing import create_share, note_shares, revoke_share, user_shares
from .tags import rename_tag, tag_counts

bp = Blueprint("notes", __name__, url_prefix="/notes")


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


def _editor() -> Editor:
    """Who saves from a page: the user, through this login session (app.notes.history folds by it)."""
    return Editor(current_user.id, session_client(current_user.login_sid))


def _list(view: str, quick_form: QuickNoteForm | None = None) -> str:
    """A list view, filtered by ?tag= (repeatable) and searched by ?q=.

    The notes list (``index``) starts with the quick-capture box: ``quick_form``
    when it comes back with an error, else an empty one.
    """
    spec = VIEWS[view]
    tags = [t for t in request.args.getlist("tag") if t.strip()][:MAX_TAGS_PER_NOTE]
    search_form = SearchForm(request.args)
    query = (request.args.get("q") or "").strip()
    filters: dict[str, Any] = {"archived": spec.archived, "trashed": spec.trashed, "tags": tags}
    hits, notes, next_cursor = None, [], None
    if query:
        if not search_form.validate():
            abort(400, f"Keep the search to {MAX_QUERY_LENGTH} characters.")
        hits = search(current_user, query, limit=50, **filters)
    else:
        try:
            page = list_notes(
                current_user,
                cursor=request.args.get("cursor") or None,
                limit=int(current_app.config["NOTES_PER_PAGE"]),
                **filters,
            )
        except CursorError:
            abort(400, "That page link is broken; start again from the first page.")
        notes, next_cursor = page.items, page.next_cursor
    return render_template(
        "notes/list.html",
        view=view,
        heading=spec.heading,
        notes=notes,
        hits=hits,
        query=query,
        active_tags=tags,
        tag_counts=tag_counts(current_user),
        next_cursor=next_cursor,
        search_form=search_form,
        action_form=EmptyForm(),
        retention_days=current_app.config["TRASH_RETENTION_DAYS"],
        quick_form=(quick_form or QuickNoteForm(formdata=None)) if view == "index" else None,
    )


# Where url_for puts a query string's values (werkzeug.urls): the same bytes as its links.
_QUERY_SAFE = "!$'()*,/:;?@"


def list_url(endpoint: str, tags: Iterable[str] = (), q: str | None = None, cursor: str | None = None) -> str:
    """The list page ``endpoint`` ("notes.index", ...) filtered by ``tags`` and ``q``, from ``cursor`` on.

    What ``url_for(endpoint, tag=tags, q=q, cursor=cursor)`` gives. A list
    links to itself for every tag of its sidebar and of its notes, and those
    url_for calls were a large part of the page's CPU (docs/performance.md),
    so the page's own address is built once per request and only the query
    string per link.
    """
    # Kept in the request's environ, not ``g``: an app context can outlive a request (tests, CLI).
    bases: dict[str, str] = request.environ.setdefault("notes.list_urls", {})
    if endpoint not in bases:
        bases[endpoint] = url_for(endpoint)
    query = [("tag", tag) for tag in tags] + [(key, value) for key, value in (("q", q), ("cursor", cursor)) if value]
    return f"{bases[endpoint]}?{urlencode(query, safe=_QUERY_SAFE)}" if query else bases[endpoint]


@bp.get("/")
def index() -> ResponseReturnValue:
    return _list("index")


@bp.get("/archive")
def archive() -> ResponseReturnValue:
    return _list("archive")


@bp.get("/trash")
def trash() -> ResponseReturnValue:
    return _list("trash")


def file_url(key: str) -> str:
    """Where the owner's pages find the file ``key`` (``attachment:KEY`` in a note)."""
    return url_for("notes.file", key=key)


def _edit_page(form: NoteForm, note: Note | None, **context: Any) -> str:
    """The editor, with the note's files and the upload form when the note exists."""
    return render_template(
        "notes/edit.html",
        form=form,
        note=note,
        files=note_attachments(note) if note else [],
        upload_form=EmptyForm(),
        **_quota(),
        **context,
    )


def _form_of(note: Note) -> NoteForm:
    """The editor's form filled from ``note`` as stored, with the version it was read at."""
    form = NoteForm(obj=note)
    form.tags.data = ", ".join(tag.name for tag in note.tags)
    form.version.data = str(note.version)
    return form


def _quota() -> dict[str, Any]:
    config = current_app.config
    return {
        "quota": mebibytes(config["ATTACHMENT_QUOTA_BYTES"]),
        "quota_used": mebibytes(used_bytes(current_user.id)),
        "max_file": mebibytes(config["ATTACHMENT_MAX_BYTES"]),
        "max_file_bytes": config["ATTACHMENT_MAX_BYTES"],
    }


@bp.get("/new")
def new() -> ResponseReturnValue:
    return _edit_page(NoteForm(formdata=None), None, preview=None)


def _preview(form: NoteForm, note: Note | None) -> str:
    """The edit page with the form as sent and its content rendered, saving nothing.

    The "Preview" button without JavaScript; with htmx, the live preview
    (which swaps in only its region). Content over the limit shows the
    limit instead of a rendering.
    """
    content = form.content.data or ""
    preview = render_markdown(content, file_url) if len(content) <= MAX_CONTENT_CHARS else None
    return _edit_page(form, note, preview=preview, preview_too_long=preview is None)


@bp.post("/")
def create() -> ResponseReturnValue:
    form = NoteForm()
    if request.form.get("preview"):
        return _preview(form, None)
    if not form.validate_on_submit():
        return _edit_page(form, None, preview=None), 400
    note = create_note(current_user, form.title.data or "", form.content.data or "", tags=form.tag_names())
    flash("Note created.", "success")
    return redirect(url_for("notes.view", note_id=note.id))


@bp.post("/quick")
def quick() -> ResponseReturnValue:
    """Save a note from the quick-capture box in one step, back to the list.

    A blank, too long or NUL-holding text re-renders the list with the
    reason under the box, the text kept, and a 400; nothing is saved.
    """
    form = QuickNoteForm()
    if not form.validate_on_submit():
        return _list("index", form), 400
    title, content = split_quick_note(form.text.data or "")
    create_note(current_user, title, content)
    flash(f"Saved “{title}”.", "success")
    return redirect(url_for("notes.index"))


@bp.get("/<int:note_id>")
def view(note_id: int) -> ResponseReturnValue:
    note = get_owned_note(note_id, current_user)
    return _view_page(note, TagsForm(formdata=None, tags=", ".join(tag.name for tag in note.tags)))


def _view_page(note: Note, tags_form: TagsForm, share_form: ShareForm | None = None) -> str:
    return render_template(
        "notes/view.html",
        note=note,
        body=render_markdown(note.content, file_url),
        files=note_attachments(note),
        action_form=EmptyForm(),
        tags_form=tags_form,
        shares=note_shares(note) if not note.in_trash else [],
        share_form=share_form or ShareForm(formdata=None),
    )


@bp.post("/<int:note_id>/shares")
def share(note_id: int) -> ResponseReturnValue:
    """Make a read-only link to a note; the page shows it once, in the flash message.

    A lifetime that is not offered re-renders the note page with the reason
    and a 400; a trashed or foreign note is a 404. Nothing is made then.
    """
    note = get_owned_note(note_id, current_user, trashed=False)
    form = ShareForm()
    if not form.validate_on_submit():
        tags = TagsForm(formdata=None, tags=", ".join(tag.name for tag in note.tags))
        return _view_page(note, tags, form), 400
    _, secret = create_share(note, days=form.lifetime())
    flash(url_for("shared.note", secret=secret, _external=True), "share-link")
    return redirect(url_for("notes.view", note_id=note.id) + "#shares")


@bp.post("/<int:note_id>/shares/<int:share_id>/revoke")
def revoke_share_view(note_id: int, share_id: int) -> ResponseReturnValue:
    """Revoke a link: from then on it opens nothing. Another user's link is a 404."""
    _check_form()
    note = get_owned_note(note_id, current_user)
    revoke_share(note, share_id)
    flash("Link revoked: it no longer opens the note.", "success")
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("notes.view", note_id=note.id) + "#shares")


@bp.get("/shares")
def shares() -> ResponseReturnValue:
    """Every link of the user's that opens a note now, with the note and a Revoke button."""
    return render_template("notes/shares.html", shares=user_shares(current_user), action_form=EmptyForm())


@bp.post("/<int:note_id>/tags")
def set_tags(note_id: int) -> ResponseReturnValue:
    """Replace a note's tags from the comma-separated ``tags`` field.

    A bad list (too many, too long) re-renders the note page with the reason
    and a 400, changing nothing; a trashed or foreign note is a 404.
    """
    note = get_owned_note(note_id, current_user, trashed=False)
    form = TagsForm()
    if not form.validate_on_submit():
        return _view_page(note, form), 400
    update_note(note, {"tags": parse_tags(form.tags.data or "")}, editor=_editor())
    flash("Tags saved.", "success")
    return redirect(url_for("notes.view", note_id=note.id))


@bp.route("/<int:note_id>/edit", methods=["GET", "POST"])
def edit(note_id: int) -> ResponseReturnValue:
    note = get_owned_note(note_id, current_user, trashed=False)
    if request.method == "GET":
        return _edit_page(_form_of(note), note, preview=render_markdown(note.content, file_url))
    form = NoteForm()
    if request.form.get("preview"):
        return _preview(form, note)
    if not form.validate_on_submit():
        return _edit_page(form, note, preview=None), 400
    try:
        expected = int(form.version.data or "")
    except ValueError:
        expected = None  # an old form without a version: compare nothing
    try:
        changes = {"title": form.title.data, "content": form.content.data or "", "tags": form.tag_names()}
        update_note(note, changes, expected, _editor())
    except EditConflict:
        # Keep the user's text in the form and show what the other edit saved.
        current = get_owned_note(note_id, current_user)
        form.version.data = str(current.version)
        return _edit_page(form, current, conflict=current, preview=None), 409
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


@bp.post("/<int:note_id>/tasks/<int:index>")
def toggle_task_box(note_id: int, index: int) -> ResponseReturnValue:
    """Tick or untick the ``index``-th task-list box of a note (0 is the first)."""
    _check_form()
    note = get_owned_note(note_id, current_user, trashed=False)
    try:
        expected = int(request.form.get("version", ""))
    except ValueError:
        abort(400, "Send the note's version with the change; reload the page and try again.")
    try:
        content = toggle_task(note.content, index)
    except IndexError:
        abort(404, "That task is no longer in the note; reload the page.")
    update_note(note, {"content": content}, expected, _editor())
    if request.headers.get("X-Requested-With") == "fetch":
        return {"version": note.version}
    return redirect(url_for("notes.view", note_id=note.id))


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


@bp.post("/<int:note_id>/files")
@body_limit(upload_body_limit)
def upload(note_id: int) -> ResponseReturnValue:
    """Attach the uploaded ``file`` to a note: back to the editor, or JSON for the editor's script.

    A missing, empty, too large or over-quota file is a 400/413 with the
    reason (the editor again, or a problem for the script); nothing is kept.
    A trashed or foreign note is a 404.
    """
    _check_form()
    note = get_owned_note(note_id, current_user, trashed=False)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise AttachmentError("Choose a file to attach.", 400)
        limit = int(current_app.config["ATTACHMENT_MAX_BYTES"])
        attachment = add_attachment(note, upload.filename, upload.stream.read(limit + 1))
    except AttachmentError as exc:
        if _wants_json():
            abort(exc.status, str(exc))
        flash(str(exc), "error")
        return _edit_page(_form_of(note), note, preview=render_markdown(note.content, file_url)), exc.status
    if _wants_json():
        return jsonify(attachment_dict(attachment, markdown_reference(attachment), file_url(attachment.key))), 201
    flash(f"Attached “{attachment.filename}”: put {markdown_reference(attachment)} in the note to show it.", "success")
    return redirect(url_for("notes.edit", note_id=note.id) + "#files")


@bp.post("/<int:note_id>/files/<key>/delete")
def delete_file(note_id: int, key: str) -> ResponseReturnValue:
    """Delete a note's file for good. Another user's note or file is a 404."""
    _check_form()
    note = get_owned_note(note_id, current_user)
    delete_attachment(note, key)
    flash("File deleted.", "success")
    return redirect(url_for("notes.edit", note_id=note.id) + "#files")


@bp.get("/files/<key>")
def file(key: str) -> ResponseReturnValue:
    """A file of one of the user's notes: an image inline, anything else as a download. Another's is a 404."""
    attachment = get_owned_attachment(current_user, key)
    try:
        return send_attachment(attachment)
    except FileNotFoundError:
        current_app.logger.error("attachment %s has a row but no stored file", attachment.key)
        abort(404, "The file is missing from storage; ask the administrator to restore it from a backup.")


@bp.get("/tags")
def tags() -> ResponseReturnValue:
    return render_template("notes/tags.html", tag_counts=tag_counts(current_user), form=RenameTagForm(formdata=None))


@bp.post("/tags/rename")
def rename_tag_view() -> ResponseReturnValue:
    form = RenameTagForm()
    if not form.validate_on_submit():
        abort(400, f"Give the tag a new name of at most {MAX_TAG_LENGTH} characters.")
    try:
        tag = rename_tag(current_user, form.name.data or "", form.new_name.data or "")
    except TagError as exc:
        flash(str(exc), "error")
        return render_template("notes/tags.html", tag_counts=tag_counts(current_user), form=form), 400
    flash(f"Tag renamed to “{tag.name}”.", "success")
    return redirect(url_for("notes.tags"))


@bp.post("/<int:note_id>/purge")
def purge(note_id: int) -> ResponseReturnValue:
    _check_form()
    note = get_owned_note(note_id, current_user, trashed=True)
    purge_note(note)
    flash("Note deleted forever.", "success")
    return redirect(url_for("notes.trash"))


@dataclass(frozen=True)
class Side:
    """One side of a diff: a revision, or the note as it is now."""

    key: str  # a revision id, or "current"
    label: str
    title: str
    content: str
    tags: str


def _side(note: Note, key: str) -> Side:
    if key == "current":
        tags = ", ".join(tag.name for tag in note.tags)
        return Side("current", f"Current (version {note.version})", note.title, note.content, tags)
    if not key.isdigit():
        abort(404, "No such revision of this note.")
    revision = get_revision(note, int(key))
    tags = ", ".join(revision.tag_names)
    return Side(key, f"Version {revision.note_version}", revision.title, revision.content, tags)


@bp.get("/<int:note_id>/history")
def history(note_id: int) -> ResponseReturnValue:
    """A note's revisions, newest first, each with a diff link and "restore this version"."""
    note = get_owned_note(note_id, current_user)
    try:
        page = list_revisions(note, cursor=request.args.get("cursor") or None, limit=50)
    except CursorError:
        abort(400, "That page link is broken; start again from the first page.")
    return render_template(
        "notes/history.html",
        note=note,
        revisions=page.items,
        next_cursor=page.next_cursor,
        action_form=EmptyForm(),
        fold_minutes=current_app.config["REVISION_FOLD_WINDOW"].total_seconds() / 60,
    )


@bp.get("/<int:note_id>/history/diff")
def history_diff(note_id: int) -> ResponseReturnValue:
    """The difference between two versions: ?from= and ?to= each a revision id or "current"."""
    note = get_owned_note(note_id, current_user)
    old = _side(note, request.args.get("from", "current"))
    new = _side(note, request.args.get("to", "current"))
    return render_template(
        "notes/diff.html",
        note=note,
        old=old,
        new=new,
        content_diff=diff_html(old.content, new.content),
        action_form=EmptyForm(),
    )


@bp.post("/<int:note_id>/history/<int:revision_id>/restore")
def restore_version(note_id: int, revision_id: int) -> ResponseReturnValue:
    """Make a revision the note's current text, as a new version.

    The form carries the note's version it was shown with: if the note
    changed since, this is a 409 page and nothing changes.
    """
    _check_form()
    note = get_owned_note(note_id, current_user, trashed=False)
    revision = get_revision(note, revision_id)
    try:
        expected = int(request.form.get("version", ""))
    except ValueError:
        abort(400, "Send the note's version with the restore; reload the history page and try again.")
    restore_revision(note, revision, expected, _editor())
    flash(f"Version {revision.note_version} restored; the version it replaced is in the history.", "success")
    return redirect(url_for("notes.view", note_id=note.id))
