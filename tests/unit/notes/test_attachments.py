"""The attachment storage, its sweep, what an upload keeps, and bytes that follow their transaction."""

from __future__ import annotations

import io
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from tests.helpers.images import ORIENTATION, jpeg_with_location, location_of, png

from app.models import db
from app.notes.attachments import (
    AttachmentError,
    add_attachment,
    clean_filename,
    clean_upload,
    sweep_orphans,
)
from app.notes.markdown import render_markdown
from app.notes.storage import LocalStorage, is_key


def test_local_storage_saves_opens_lists_and_deletes(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.save("abcdefghijklmnop", b"hello")
    assert (tmp_path / "ab" / "abcdefghijklmnop").read_bytes() == b"hello"
    assert oct((tmp_path / "ab" / "abcdefghijklmnop").stat().st_mode & 0o777) == "0o644"
    with storage.open("abcdefghijklmnop") as fh:
        assert fh.read() == b"hello"
    assert [key for key, _ in storage.listing()] == ["abcdefghijklmnop"]
    assert storage.accel_path("abcdefghijklmnop") == "ab/abcdefghijklmnop"
    storage.delete("abcdefghijklmnop")
    storage.delete("abcdefghijklmnop")  # gone already: nothing happens
    with pytest.raises(FileNotFoundError):
        storage.open("abcdefghijklmnop")


@pytest.mark.parametrize(
    "key", ["../../etc/passwd", "short", "a" * 33, "abc/defghijklmnopq", "", "abcdefghijklmnop\x00"]
)
def test_a_key_the_app_did_not_make_never_reaches_a_path(tmp_path, key):
    assert not is_key(key)
    with pytest.raises(ValueError, match="not an attachment key"):
        LocalStorage(tmp_path).open(key)


def test_a_failed_write_leaves_no_part_file(tmp_path, monkeypatch):
    storage = LocalStorage(tmp_path)
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        storage.save("abcdefghijklmnop", b"hello")
    assert list(tmp_path.rglob("*.part-*")) == [] and list(tmp_path.rglob(".part-*")) == []


def test_a_photo_keeps_its_pixels_and_orientation_but_not_its_metadata():
    turned = clean_upload(jpeg_with_location(width=8, height=4, orientation=6))
    with Image.open(io.BytesIO(turned.data)) as image:
        assert image.size == (4, 8)  # turned as the EXIF said, since the EXIF is gone
        assert ORIENTATION not in image.getexif() and "exif" not in image.info
    assert location_of(turned.data) == {}
    upright = clean_upload(jpeg_with_location())
    assert location_of(upright.data) == {} and upright.content_type == "image/jpeg"


def test_an_image_without_metadata_is_kept_byte_for_byte():
    assert clean_upload(png()).data == png()


@pytest.mark.parametrize(
    ("name", "kept"),
    [("../../x.txt", "x.txt"), ("C:\\\\me\\\\a.png", "a.png"), (".bashrc", "bashrc"), ("", "file"), ("a\x07b", "ab")],
)
def test_a_files_name_is_kept_without_directories_or_control_characters(name, kept):
    assert clean_filename(name) == kept
    assert len(clean_filename("n" * 400)) == 255


def test_attachment_links_point_where_the_page_says_or_nowhere():
    text = "![map](attachment:abcdefghijklmnop) [doc](attachment:qrstuvwxyzabcdef)"
    html = render_markdown(text, lambda key: f"/files/{key}")
    assert '<img src="/files/abcdefghijklmnop" alt="map">' in html and 'href="/files/qrstuvwxyzabcdef"' in html
    assert "attachment:" not in render_markdown(text) and "src=" not in render_markdown(text)


def test_a_rolled_back_upload_leaves_no_bytes(app, factory):
    note = factory.note(factory.user(), title="Files")
    root = Path(app.config["ATTACHMENTS_DIR"])
    add_attachment(note, "a.png", png(), commit=False)
    assert len(list(root.glob("??/*"))) == 1
    db.session.rollback()
    assert list(root.glob("??/*")) == []


def test_an_empty_file_is_refused(app, factory):
    note = factory.note(factory.user(), title="Files")
    with pytest.raises(AttachmentError, match="empty"):
        add_attachment(note, "a.txt", b"")


def test_the_sweep_removes_old_orphans_only(app, factory):
    note = factory.note(factory.user(), title="Files")
    kept = add_attachment(note, "a.png", png())
    storage = LocalStorage(app.config["ATTACHMENTS_DIR"])
    storage.save("orphanorphanorphan", b"left by a crash")
    storage.save("freshfreshfreshfresh", b"an upload still in its transaction")
    old = time.time() - 7200
    for key in (kept.key, "orphanorphanorphan"):
        os.utime(Path(app.config["ATTACHMENTS_DIR"]) / storage.accel_path(key), (old, old))
    assert sweep_orphans(timedelta(hours=1)) == 1
    assert sorted(key for key, _ in storage.listing()) == sorted([kept.key, "freshfreshfreshfresh"])


def test_the_daily_purge_sweeps_orphans_too(app):
    storage = LocalStorage(app.config["ATTACHMENTS_DIR"])
    storage.save("orphanorphanorphan", b"left by a crash")
    old = time.time() - 7200
    os.utime(Path(app.config["ATTACHMENTS_DIR"]) / storage.accel_path("orphanorphanorphan"), (old, old))
    result = app.test_cli_runner().invoke(args=["notes", "purge-trash"])
    assert result.exit_code == 0, result.output
    assert "Removed 1 stored file that no note names." in result.output
    assert list(storage.listing()) == []
