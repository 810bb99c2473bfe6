"""The device name the account page shows for a session, from real User-Agent strings."""

from __future__ import annotations

import pytest

from app.accounts.devices import MAX_LABEL, UNKNOWN, device_label

REAL = [
    ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Chrome on Windows",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "Edge on Windows",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Safari/605.1.15",
        "Safari on macOS",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.6 Mobile/15E148 Safari/604.1",
        "Safari on iPhone",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "FxiOS/132.0 Mobile/15E148 Safari/605.1.15",
        "Firefox on iPhone",
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
        "Chrome on iPad",
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
        "Chrome on Android",
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
        "Samsung Internet on Android",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 OPR/114.0.0.0",
        "Opera on Windows",
    ),
    (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Chrome on ChromeOS",
    ),
    # What the browser tier's headless Chromium sends.
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
        "Chrome on Linux",
    ),
    ("curl/8.5.0", "curl"),
    ("python-requests/2.32.3", "python-requests"),
    ("Werkzeug/3.1.9", "Werkzeug"),
]


@pytest.mark.parametrize(("user_agent", "label"), REAL, ids=[label for _, label in REAL])
def test_real_user_agents_get_a_short_name(user_agent, label):
    assert device_label(user_agent) == label


@pytest.mark.parametrize("user_agent", [None, "", "   ", "<script>alert(1)</script>", "Mozilla/5.0 (compatible)"])
def test_missing_or_unreadable_user_agents_are_an_unknown_device(user_agent):
    assert device_label(user_agent) == UNKNOWN


def test_a_browser_on_a_system_the_rules_do_not_know_still_names_the_browser():
    assert device_label("Mozilla/5.0 (Haiku; x86_64; rv:120.0) Gecko/20100101 Firefox/120.0") == "Firefox"


def test_a_known_system_with_an_unknown_browser_names_the_system():
    assert device_label("Mozilla/5.0 (X11; Linux x86_64) SomeBrowser/1.0") == "A browser on Linux"


def test_a_program_name_is_cut_short():
    assert device_label("x" * 500 + "/1.0") == "x" * 40
    assert len(device_label("Mozilla/5.0 (Windows NT 10.0) Firefox/1")) <= MAX_LABEL
