"""A note's history: which saves keep a revision, when saves fold into one,
restores, pages of revisions, and pruning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.models import NoteRevision, db
from app.notes import history
from app.notes.history import (
    Editor,
    RevisionNotFound,
    get_revision,
    list_revisions,
    prune_revisions,
    session_client,
    should_fold,
    token_client,
)
from app.notes.service import EditConflict, restore_revision, trash_note, update_note

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=2)
BROWSER = Editor(1, session_client("sid-one"))
OTHER_TAB_SAME_LOGIN = Editor(1, session_client("sid-one"))
PHONE = Editor(1, session_client("sid-two"))
TOKEN = Editor(1, token_client(7))


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = T0
        monkeypatch.setattr(history, "utcnow", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def note(factory, user):  # type: ignore[no-untyped-def]
    return factory.note(user, title="First", content="one")


def _revisions(note_id: int) -> list[NoteRevision]:
    db.session.expire_all()
    query = sa.select(NoteRevision).where(NoteRevision.note_id == note_id).order_by(NoteRevision.id)
    return list(db.session.scalars(query))


# --- what keeps a revision -------------------------------------------------


def test_a_save_that_changes_the_text_keeps_the_version_it_replaced(app, note, user, clock):
    saved_at = note.updated_at
    update_note(note, {"title": "Second", "content": "two", "tags": ["Work"]}, 1, Editor(user.id, "token:3"))
    [revision] = _revisions(note.id)
    assert (revision.title, revision.content, revision.tag_names, revision.note_version) == ("First", "one", [], 1)
    assert revision.saved_at == saved_at
    assert (revision.author_id, revision.client, revision.via) == (user.id, "token:3", "token")
    assert revision.created_at == revision.last_save_at == T0
    assert revision.restored_from is None


def test_a_change_of_tags_alone_keeps_a_revision_with_the_old_tags(app, note):
    update_note(note, {"tags": ["a", "b"]})
    update_note(note, {"tags": ["b"]})
    assert [r.tag_names for r in _revisions(note.id)] == [[], ["a", "b"]]


def test_pin_archive_and_trash_keep_no_revision(app, note):
    update_note(note, {"pinned": True}, editor=BROWSER)
    update_note(note, {"archived": True}, editor=BROWSER)
    trash_note(note)
    assert _revisions(note.id) == []


def test_a_save_that_changes_nothing_keeps_no_revision(app, note):
    update_note(note, {"title": "First", "content": "one", "tags": []}, editor=BROWSER)
    assert _revisions(note.id) == []


def test_a_stale_save_keeps_no_revision(app, note):
    with pytest.raises(EditConflict):
        update_note(note, {"content": "late"}, expected_version=99, editor=BROWSER)
    assert _revisions(note.id) == []


# --- folding ----------------------------------------------------------------


def test_saves_of_one_client_within_the_window_fold_into_one_revision(app, note, clock):
    for n, text in enumerate(["t", "ty", "typ", "typing"]):
        if n:
            clock.advance(60)
        update_note(note, {"content": text}, editor=BROWSER)
    [revision] = _revisions(note.id)
    assert revision.content == "one"  # the note as it was before the burst
    assert revision.created_at == T0
    assert revision.last_save_at == T0 + timedelta(seconds=180)


def test_two_tabs_of_one_login_are_one_client(app, note, clock):
    update_note(note, {"content": "a"}, editor=BROWSER)
    clock.advance(30)
    update_note(note, {"content": "b"}, editor=OTHER_TAB_SAME_LOGIN)
    assert len(_revisions(note.id)) == 1


def test_the_window_slides_from_the_last_save_not_the_first(app, note, clock):
    update_note(note, {"content": "a"}, editor=BROWSER)
    clock.advance(120)  # exactly the window: still folds
    update_note(note, {"content": "b"}, editor=BROWSER)
    clock.advance(121)
    update_note(note, {"content": "c"}, editor=BROWSER)
    assert [r.content for r in _revisions(note.id)] == ["one", "b"]


@pytest.mark.parametrize("second", [PHONE, TOKEN, None], ids=["another login", "a token", "unknown client"])
def test_another_client_starts_a_revision_of_its_own(app, note, clock, second):
    update_note(note, {"content": "a"}, editor=BROWSER)
    clock.advance(10)
    update_note(note, {"content": "b"}, editor=second)
    assert [r.content for r in _revisions(note.id)] == ["one", "a"]


def test_saves_without_a_client_never_fold(app, note, clock):
    update_note(note, {"content": "a"})
    update_note(note, {"content": "b"})
    assert len(_revisions(note.id)) == 2


def test_a_zero_window_keeps_every_save(app, note, clock):
    app.config["REVISION_FOLD_WINDOW"] = timedelta(0)
    update_note(note, {"content": "a"}, editor=BROWSER)
    update_note(note, {"content": "b"}, editor=BROWSER)
    assert len(_revisions(note.id)) == 2


def test_should_fold_rule():
    latest = NoteRevision(client="token:1", last_save_at=T0, restored_from=None)
    assert should_fold(latest, "token:1", T0 + WINDOW, WINDOW)
    assert not should_fold(latest, "token:1", T0 + WINDOW + timedelta(microseconds=1), WINDOW)
    assert not should_fold(latest, "token:2", T0, WINDOW)
    assert not should_fold(latest, "", T0, WINDOW)
    assert not should_fold(None, "token:1", T0, WINDOW)
    assert not should_fold(latest, "token:1", T0, timedelta(0))
    restored = NoteRevision(client="token:1", last_save_at=T0, restored_from=5)
    assert not should_fold(restored, "token:1", T0, WINDOW)
    blank = NoteRevision(client="", last_save_at=T0, restored_from=None)
    assert not should_fold(blank, "", T0, WINDOW)


def test_session_client_is_a_key_that_does_not_reveal_the_session():
    key = session_client("the-secret-session-id")
    assert key.startswith("session:") and "the-secret-session-id" not in key
    assert key == session_client("the-secret-session-id") != session_client("another")
    assert session_client(None) == session_client("") == ""


# --- restore ------------------------------------------------------------------


def test_restore_makes_a_new_version_and_keeps_all_history(app, note, clock):
    update_note(note, {"title": "Second", "content": "two", "tags": ["x"]}, editor=BROWSER)
    [first] = _revisions(note.id)
    clock.advance(10)  # within the window, same client: a restore still never folds
    restore_revision(note, first, note.version, BROWSER)
    assert (note.title, note.content, [t.name for t in note.tags], note.version) == ("First", "one", [], 3)
    revisions = _revisions(note.id)
    assert [(r.title, r.note_version, r.restored_from) for r in revisions] == [
        ("First", 1, None),
        ("Second", 2, first.id),
    ]
    # And the next save of that client does not fold into the restore.
    clock.advance(10)
    update_note(note, {"content": "after"}, editor=BROWSER)
    assert len(_revisions(note.id)) == 3


def test_restore_with_a_stale_version_changes_nothing(app, note):
    update_note(note, {"content": "two"})
    [first] = _revisions(note.id)
    with pytest.raises(EditConflict):
        restore_revision(note, first, 1, BROWSER)
    db.session.expire_all()
    assert (note.content, note.version) == ("two", 2)
    assert len(_revisions(note.id)) == 1


# --- reading and pruning --------------------------------------------------------


def test_list_revisions_pages_newest_first(app, note):
    for n in range(5):
        update_note(note, {"content": f"v{n}"})
    first = list_revisions(note, limit=2)
    assert [r.content for r in first.items] == ["v3", "v2"]
    assert first.next_cursor is not None
    second = list_revisions(note, cursor=first.next_cursor, limit=2)
    third = list_revisions(note, cursor=second.next_cursor, limit=2)
    assert [r.content for r in second.items + third.items] == ["v1", "v0", "one"]
    assert third.next_cursor is None


def test_a_revision_of_another_note_is_not_found(app, factory, user, note):
    other = factory.note(user)
    update_note(other, {"content": "changed"})
    [revision] = _revisions(other.id)
    assert get_revision(other, revision.id) is revision
    for bad in (revision.id, 9999, -1, 2**70):
        with pytest.raises(RevisionNotFound):
            get_revision(note, bad)


def test_prune_deletes_only_revisions_whose_last_save_is_old_enough(app, note, clock):
    update_note(note, {"content": "a"})
    clock.advance(3600)
    update_note(note, {"content": "b"})
    assert prune_revisions(timedelta(minutes=30), now=T0 + timedelta(minutes=61)) == 1
    assert [r.content for r in _revisions(note.id)] == ["a"]
