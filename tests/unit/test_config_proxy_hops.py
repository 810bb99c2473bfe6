"""ProdConfig reads PROXY_HOPS so ProxyFix trusts exactly the proxies in front."""

from __future__ import annotations

import pytest

from app import create_app
from app.config import ConfigError, ProdConfig

PROD_ENV = {
    "APP_ENV": "prod",
    "SECRET_KEY": "k" * 40,
    "DATABASE_URL": "postgresql://notes:pw@db:5432/notes",
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
    app = create_app({"TESTING": True, "PROXY_HOPS": config.PROXY_HOPS, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    seen = {}

    @app.get("/probe")
    def probe():  # type: ignore[no-untyped-def]
        from flask import request, url_for

        seen["ip"] = request.remote_addr
        return url_for("health.healthz", _external=True)

    response = app.test_client().get(
        "/probe",
        headers={
            # The client forged the first entry; nginx appended the real address.
            "X-Forwarded-For": "6.6.6.6, 203.0.113.7",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "notes.example.com",
        },
        environ_base={"REMOTE_ADDR": "172.16.0.5"},
    )
    assert response.get_data(as_text=True) == "https://notes.example.com/healthz"
    assert seen["ip"] == "203.0.113.7"
