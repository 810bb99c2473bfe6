"""A short human name for the device behind a User-Agent: "Firefox on Linux".

Only for people to recognise their own sessions on the account page, never
to decide anything: a User-Agent is whatever the client chose to send. The
rules are a few substring checks, in an order that matters (every Chromium
browser also says "Chrome" and "Safari"; every iPhone also says "Mac OS X").
"""

from __future__ import annotations

import re

UNKNOWN = "Unknown device"
MAX_LABEL = 60

# (what the User-Agent contains, the browser's name), first match wins.
_BROWSERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("Edg/", "EdgA/", "EdgiOS/", "Edge/"), "Edge"),
    (("OPR/", "OPT/", "Opera"), "Opera"),
    (("SamsungBrowser/",), "Samsung Internet"),
    (("Firefox/", "FxiOS/"), "Firefox"),
    (("Chrome/", "CriOS/", "Chromium/"), "Chrome"),
    (("Safari/",), "Safari"),
)
_SYSTEMS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("Windows",), "Windows"),
    (("Android",), "Android"),
    (("iPhone", "iPod"), "iPhone"),
    (("iPad",), "iPad"),
    (("CrOS",), "ChromeOS"),
    (("Macintosh", "Mac OS X"), "macOS"),
    (("Linux", "X11"), "Linux"),
)
# A program's own User-Agent starts with its name: "curl/8.5.0", "python-requests/2.32".
_PRODUCT = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,39}")


def _first(user_agent: str, table: tuple[tuple[tuple[str, ...], str], ...]) -> str | None:
    return next((name for needles, name in table if any(n in user_agent for n in needles)), None)


def device_label(user_agent: str | None) -> str:
    """ "Firefox on Linux", "Safari on iPhone", "curl", or "Unknown device"."""
    user_agent = (user_agent or "").strip()
    if not user_agent:
        return UNKNOWN
    if not user_agent.startswith("Mozilla/"):
        product = _PRODUCT.match(user_agent)
        return product.group(0) if product else UNKNOWN
    browser = _first(user_agent, _BROWSERS)
    system = _first(user_agent, _SYSTEMS)
    if browser and system:
        label = f"{browser} on {system}"
    elif browser:
        label = browser
    elif system:
        label = f"A browser on {system}"
    else:
        label = UNKNOWN
    return label[:MAX_LABEL]
