"""Note lists show a plain-text excerpt, escaped."""


def test_list_shows_a_plain_excerpt_escaped(client, auth):
    auth.register()
    client.post("/notes/", data={"title": "T", "content": "**bold** <img src=x onerror=alert(1)>"})
    page = client.get("/notes/").get_data(as_text=True)
    assert "bold &lt;img src=x onerror=alert(1)&gt;" in page
    assert "**bold**" not in page


def test_the_excerpt_is_stored_when_the_content_is_written(client, auth, factory):
    from app.models import Note, db
    from app.notes.markdown import EXCERPT_VERSION
    from app.notes.service import update_note

    user = factory.user()
    note = factory.note(user, title="T", content="# Plan\n\n- *first* this")
    assert (note.excerpt, note.excerpt_version) == ("Plan first this", EXCERPT_VERSION)
    update_note(note, {"content": "`code` then **more**"})
    db.session.expire_all()
    stored = db.session.get(Note, note.id)
    assert stored.excerpt == "code then more" and stored.list_excerpt == "code then more"


def test_a_list_shows_the_stored_excerpt_and_remakes_a_stale_one(client, auth, factory):
    import sqlalchemy as sa

    from app.models import Note, db

    auth.register()
    client.post("/notes/", data={"title": "Fresh", "content": "fresh *words*"})
    client.post("/notes/", data={"title": "Stale", "content": "renderer **changed**"})
    # What a list shows is what was stored: a different stored excerpt shows...
    db.session.execute(sa.update(Note).where(Note.title == "Fresh").values(excerpt="as stored"))
    # ...unless an older renderer made it, then the list makes it again from the content.
    db.session.execute(sa.update(Note).where(Note.title == "Stale").values(excerpt="old", excerpt_version=0))
    db.session.commit()
    page = client.get("/notes/").get_data(as_text=True)
    assert '<p class="excerpt">as stored</p>' in page
    assert '<p class="excerpt">renderer changed</p>' in page and ">old<" not in page
