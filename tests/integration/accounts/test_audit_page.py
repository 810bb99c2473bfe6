"""/admin/audit: every account's events, newest first, fifty a page, paged
back with ?before=<id>; a broken page link is a clear 400."""

from __future__ import annotations

import re

import pytest
from tests.helpers.admin import audit_events

from app.accounts import audit
from app.accounts.invites import create_invite
from app.models import AuditEvent, db

from .conftest import BOSS_IP

OLDER = re.compile(r'<a href="/admin/audit\?before=(\d+)">Older events</a>')


def _rows(html: str) -> list[list[str]]:
    """The table's rows: [when, what, account, by, from, details]."""
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    if body is None:
        return []
    return [re.findall(r"<td>([^<]*)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)]


def _add_events(n: int) -> None:
    for i in range(n):
        audit.record("login_failed", target_email=f"guess{i}@example.com", ip="192.0.2.1")
    db.session.commit()


def test_the_log_shows_who_did_what_to_whom_from_where_newest_first(client, as_boss, bob):
    assert client.post(f"/admin/users/{bob.id}/disable").status_code == 302
    create_invite(None, note="from the shell")
    response = client.get("/admin/audit")
    assert response.status_code == 200
    rows = _rows(response.get_data(as_text=True))
    assert [row[1:] for row in rows] == [
        ["Invitation created", "—", "the command line", "—", "from the shell"],
        ["Account disabled", "bob@example.com", "boss@example.com", BOSS_IP, "0 sessions, 0 tokens ended"],
        ["Logged in", "boss@example.com", "—", BOSS_IP, ""],
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row[0]) for row in rows)


def test_what_people_typed_is_shown_as_text(client, as_boss):
    create_invite(as_boss, note="<script>alert(1)</script>")
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_log_pages_back_with_before(client, as_boss):
    _add_events(59)  # and boss's login: sixty
    first = client.get("/admin/audit").get_data(as_text=True)
    rows = _rows(first)
    assert len(rows) == audit.PAGE_SIZE == 50
    assert rows[0][2] == "guess58@example.com"
    assert rows[-1][2] == "guess9@example.com"
    link = OLDER.search(first)
    assert link, first
    assert int(link.group(1)) == min(e.id for e in audit_events()[-50:])

    second = client.get(f"/admin/audit?before={link.group(1)}").get_data(as_text=True)
    rows = _rows(second)
    assert [row[2] for row in rows] == [f"guess{i}@example.com" for i in range(8, -1, -1)] + ["boss@example.com"]
    assert OLDER.search(second) is None


def test_a_full_last_page_offers_no_empty_older_page(client, as_boss):
    _add_events(49)  # fifty with boss's login: exactly one page
    html = client.get("/admin/audit").get_data(as_text=True)
    assert len(_rows(html)) == 50
    assert OLDER.search(html) is None


def test_an_old_link_still_pages_from_where_it_was(client, as_boss):
    _add_events(9)
    ten = audit_events()
    _add_events(5)  # newer events do not shift an older page
    html = client.get(f"/admin/audit?before={ten[5].id}").get_data(as_text=True)
    assert [row[2] for row in _rows(html)] == [f"guess{i}@example.com" for i in range(3, -1, -1)] + ["boss@example.com"]


def test_before_the_first_event_the_page_says_there_is_nothing(client, as_boss):
    first = db.session.query(AuditEvent.id).order_by(AuditEvent.id).limit(1).scalar()
    response = client.get(f"/admin/audit?before={first}")
    assert response.status_code == 200
    assert "Nothing older." in response.get_data(as_text=True)


@pytest.mark.parametrize("before", ["abc", "0", "-3", "1.5", "٣", str(2**63), str(2**70)])
def test_a_broken_page_link_is_400(client, as_boss, before):
    response = client.get("/admin/audit", query_string={"before": before})
    assert response.status_code == 400
    assert "That page link is broken; start again from the first page." in response.get_data(as_text=True)
