"""ProdConfig reads PROXY_HOPS so ProxyFix trusts exactly the proxies in front."""

from __future__ import annotations

import pytest
from flask import Flask

from app import create_app
from app.config import ConfigError, ProdConfig

PROD_ENV = {
    "APP_ENV": "prod",
    "SECRET_KEY": "k" * 40,
    "DATABASE_URL": "postgresql://notes:pw@db:5432/notes",
    "FORWARDED_ALLOW_IPS": "172.16.0.0/12",  # nginx's network
}
FORGED = {
    "X-Forwarded-For": "6.6.6.6, 203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "notes.example.com",
}


def test_prod_trusts_one_proxy_by_default() -> None:
    config = ProdConfig(PROD_ENV)
    assert config.PROXY_HOPS == 1


@pytest.mark.parametrize(("value", "hops"), [("0", 0), ("2", 2), (" 3 ", 3)])
def test_prod_reads_proxy_hops_from_the_environment(value: str, hops: int) -> None:
    config = ProdConfig({**PROD_ENV, "PROXY_HOPS": value})
    assert getattr(config, "PROXY_HOPS") == hops  # noqa: B009 - ruff reads the attribute as a constant


@pytest.mark.parametrize("value", ["", "one", "-1", "6", "1.5"])
def test_prod_refuses_a_proxy_hops_that_is_not_a_small_whole_number(value: str) -> None:
    with pytest.raises(ConfigError, match="PROXY_HOPS"):
        ProdConfig({**PROD_ENV, "PROXY_HOPS": value})


def test_one_hop_gives_https_external_urls_and_the_real_client_ip() -> None:
    config = ProdConfig(PROD_ENV)
    app, seen = _probe_app(PROXY_HOPS=config.PROXY_HOPS, TRUSTED_PROXIES=config.TRUSTED_PROXIES)
    # The client forged the first X-Forwarded-For entry; nginx appended the real address.
    response = app.test_client().get("/probe", headers=FORGED, environ_base={"REMOTE_ADDR": "172.16.0.5"})
    assert response.get_data(as_text=True) == "https://notes.example.com/healthz"
    assert seen["ip"] == "203.0.113.7"


def _probe_app(**config: object) -> tuple[Flask, dict[str, object]]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", **config})
    seen: dict[str, object] = {}

    @app.get("/probe")
    def probe():  # type: ignore[no-untyped-def]
        from flask import request, url_for

        seen["ip"] = request.remote_addr
        seen["scheme"] = request.scheme
        return url_for("health.healthz", _external=True)

    return app, seen


def test_forwarded_headers_from_a_client_that_is_not_a_trusted_proxy_are_ignored() -> None:
    """A client reaching gunicorn directly cannot pick its own address or scheme."""
    config = ProdConfig(PROD_ENV)
    app, seen = _probe_app(PROXY_HOPS=config.PROXY_HOPS, TRUSTED_PROXIES=config.TRUSTED_PROXIES)
    app.test_client().get("/probe", headers=FORGED, environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert seen == {"ip": "198.51.100.9", "scheme": "http"}


def test_by_default_only_loopback_may_forward() -> None:
    config = ProdConfig({k: v for k, v in PROD_ENV.items() if k != "FORWARDED_ALLOW_IPS"})
    app, seen = _probe_app(PROXY_HOPS=1, TRUSTED_PROXIES=config.TRUSTED_PROXIES)
    client = app.test_client()
    client.get("/probe", headers=FORGED, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert seen["ip"] == "203.0.113.7"
    client.get("/probe", headers=FORGED, environ_base={"REMOTE_ADDR": "172.16.0.5"})
    assert seen["ip"] == "172.16.0.5"


@pytest.mark.parametrize(
    ("value", "networks"),
    [
        ("172.16.238.0/24", ("172.16.238.0/24",)),
        (" 10.0.0.5 , ::1 ", ("10.0.0.5/32", "::1/128")),
        ("*", ("0.0.0.0/0", "::/0")),
    ],
)
def test_prod_reads_the_trusted_proxies_from_forwarded_allow_ips(value: str, networks: tuple[str, ...]) -> None:
    assert networks == ProdConfig({**PROD_ENV, "FORWARDED_ALLOW_IPS": value}).TRUSTED_PROXIES


@pytest.mark.parametrize("value", ["", " , ", "nginx", "10.0.0.0/33"])
def test_prod_refuses_trusted_proxies_that_are_not_addresses(value: str) -> None:
    with pytest.raises(ConfigError, match="FORWARDED_ALLOW_IPS"):
        ProdConfig({**PROD_ENV, "FORWARDED_ALLOW_IPS": value})


def test_an_ipv4_proxy_seen_on_a_dual_stack_socket_is_still_trusted() -> None:
    config = ProdConfig(PROD_ENV)
    app, seen = _probe_app(PROXY_HOPS=config.PROXY_HOPS, TRUSTED_PROXIES=config.TRUSTED_PROXIES)
    app.test_client().get("/probe", headers=FORGED, environ_base={"REMOTE_ADDR": "::ffff:172.16.0.5"})
    assert seen == {"ip": "203.0.113.7", "scheme": "https"}


def test_ipv6_proxies_can_be_trusted_and_others_are_not() -> None:
    config = ProdConfig({**PROD_ENV, "FORWARDED_ALLOW_IPS": "fd00:1::/64"})
    app, seen = _probe_app(PROXY_HOPS=1, TRUSTED_PROXIES=config.TRUSTED_PROXIES)
    client = app.test_client()
    client.get("/probe", headers=FORGED, environ_base={"REMOTE_ADDR": "fd00:1::5"})
    assert seen["ip"] == "203.0.113.7"
    client.get("/probe", headers=FORGED, environ_base={"REMOTE_ADDR": "fd00:2::5"})
    assert seen["ip"] == "fd00:2::5"
