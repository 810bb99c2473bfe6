"""The `acme` service's driver (acme/notes_acme.py), run here without Docker or
lego: which settings it refuses, which lego command it runs, what it installs
for nginx, what it records, and that a failure leaves nginx's certificate alone.
tests/stack/test_acme.py runs it for real against pebble."""

from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
import json
import socket
import sys
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DRIVER = Path(__file__).resolve().parents[2] / "acme" / "notes_acme.py"
LE_PRODUCTION = "https://acme-v02.api.letsencrypt.org/directory"
LE_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory"
PRIVATE_CA = "https://ca.internal.lan:9000/acme/acme/directory"


def _load():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("notes_acme", DRIVER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


acme = _load()


def settings_for(**env: str) -> Any:
    return acme.read_settings({"ACME": "on", "SERVER_NAME": "notes.example.com", "ACME_EMAIL": "ops@notes.dev", **env})


def refusal(**env: str) -> str:
    with pytest.raises(acme.SettingsError) as caught:
        settings_for(**env)
    return str(caught.value)


def certificate(issuer: str, subject: str = "notes.example.com", days: int = 90) -> tuple[bytes, bytes]:
    """A PEM certificate for ``subject`` naming ``issuer`` (signed by its own key), and that key."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


# --- settings ------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "off", "OFF", "false", "no", "0"])
def test_acme_off_or_unset_does_nothing(value: str) -> None:
    assert acme.read_settings({"ACME": value, "SERVER_NAME": "localhost"}).enabled is False
    assert acme.read_settings({}).enabled is False


def test_an_acme_value_that_is_neither_on_nor_off_is_refused() -> None:
    assert "ACME='maybe' is neither on nor off" in refusal(ACME="maybe")


def test_acme_on_defaults_to_lets_encrypt_production() -> None:
    settings = settings_for()
    assert (settings.directory, settings.lets_encrypt, settings.domain) == (LE_PRODUCTION, True, "notes.example.com")


@pytest.mark.parametrize(("value", "url"), [("production", LE_PRODUCTION), ("staging", LE_STAGING)])
def test_production_and_staging_name_lets_encrypt(value: str, url: str) -> None:
    assert settings_for(ACME_DIRECTORY=value).directory == url


def test_a_custom_directory_url_is_used_as_it_is() -> None:
    settings = settings_for(ACME_DIRECTORY=PRIVATE_CA)
    assert (settings.directory, settings.lets_encrypt) == (PRIVATE_CA, False)


@pytest.mark.parametrize("value", ["http://ca.internal:9000/directory", "letsencrypt", "https://"])
def test_a_directory_that_is_no_alias_and_no_https_url_is_refused(value: str) -> None:
    assert "is not production, staging or an https:// URL" in refusal(ACME_DIRECTORY=value)


def test_acme_on_without_an_email_says_to_set_acme_email() -> None:
    assert "ACME=on needs ACME_EMAIL" in refusal(ACME_EMAIL="")
    assert "ACME=on needs ACME_EMAIL" in refusal(ACME_EMAIL="  ")


@pytest.mark.parametrize("email", ["ops", "ops@localhost", "a b@c.d", "@notes.dev"])
def test_a_malformed_email_is_refused(email: str) -> None:
    assert "is not an email address" in refusal(ACME_EMAIL=email)


@pytest.mark.parametrize("email", ["admin@notes.example.org", "me@example.com", "x@example.net"])
def test_lets_encrypt_refuses_the_example_email_of_env_example(email: str) -> None:
    assert "Let's Encrypt refuses example domains" in refusal(ACME_EMAIL=email)
    assert settings_for(ACME_EMAIL=email, ACME_DIRECTORY=PRIVATE_CA).email == email


@pytest.mark.parametrize("name", ["localhost", "notes", "notes.test", "nas.local", "box.home.arpa", "x.invalid"])
@pytest.mark.parametrize("directory", ["production", "staging"])
def test_lets_encrypt_refuses_names_that_are_never_public(name: str, directory: str) -> None:
    message = refusal(SERVER_NAME=name, ACME_DIRECTORY=directory)
    assert f"SERVER_NAME={name}" in message
    assert "ACME=off" in message


def test_a_private_ca_may_issue_for_private_names() -> None:
    assert settings_for(SERVER_NAME="notes.acme.test", ACME_DIRECTORY=PRIVATE_CA).domain == "notes.acme.test"


@pytest.mark.parametrize("name", ["203.0.113.7", "::1", "[2001:db8::1]"])
@pytest.mark.parametrize("directory", ["production", PRIVATE_CA])
def test_an_ip_address_is_refused_whatever_the_ca(name: str, directory: str) -> None:
    assert "is an IP address" in refusal(SERVER_NAME=name, ACME_DIRECTORY=directory)


@pytest.mark.parametrize("name", ["", "*.example.com", "notes_1.example.com", "-notes.example.com"])
def test_a_server_name_that_is_no_host_name_is_refused(name: str) -> None:
    message = refusal(SERVER_NAME=name, ACME_DIRECTORY=PRIVATE_CA)
    assert "SERVER_NAME" in message


def test_lets_encrypt_off_port_80_warns_but_goes_on() -> None:
    assert settings_for(HTTP_PORT="80").warnings == ()
    (warning,) = settings_for(HTTP_PORT="8080").warnings
    assert "validates on port 80" in warning


# --- lego's command line -------------------------------------------------------


@pytest.fixture
def lego(tmp_path: Path) -> Any:
    return acme.Lego(state=tmp_path / "state", webroot=tmp_path / "webroot", binary="lego")


def _lego_holds(lego: Any, settings: Any) -> None:
    cert, key = certificate("Test CA", settings.domain)
    lego.cert_path(settings.domain).parent.mkdir(parents=True, exist_ok=True)
    lego.cert_path(settings.domain).write_bytes(cert)
    lego.key_path(settings.domain).write_bytes(key)
    lego.remember(settings)


def test_the_first_certificate_is_a_lego_run_answering_http01_from_the_webroot(lego: Any) -> None:
    settings = settings_for(ACME_DIRECTORY="staging")
    argv = lego.command(settings)
    assert argv[-1] == "run"
    assert argv[:2] == ["lego", "--accept-tos"]
    pairs = dict(itertools.pairwise(argv))
    assert pairs["--server"] == LE_STAGING
    assert pairs["--email"] == "ops@notes.dev"
    assert pairs["--domains"] == "notes.example.com"
    assert pairs["--http.webroot"] == str(lego.webroot)
    assert pairs["--path"] == str(lego.state)
    assert "--http" in argv


def test_a_held_certificate_is_renewed_only_under_30_days_and_without_legos_sleep(lego: Any) -> None:
    settings = settings_for()
    _lego_holds(lego, settings)
    argv = lego.command(settings)
    assert argv[-4:] == ["renew", "--days", "30", "--no-random-sleep"]


def test_a_forced_renewal_renews_whatever_is_left(lego: Any) -> None:
    settings = settings_for()
    _lego_holds(lego, settings)
    argv = lego.command(settings, force=True)
    assert argv[argv.index("renew") :] == ["renew", "--days", str(acme.FORCE_DAYS), "--no-random-sleep"]
    assert acme.FORCE_DAYS > 5 * 366  # longer than any certificate lives


def test_a_certificate_from_another_directory_is_replaced_not_renewed(lego: Any) -> None:
    _lego_holds(lego, settings_for(ACME_DIRECTORY="staging"))
    assert lego.command(settings_for(ACME_DIRECTORY="production"))[-1] == "run"
    assert lego.command(settings_for(ACME_DIRECTORY="staging"))[-2:] == ["30", "--no-random-sleep"]


def test_a_new_server_name_gets_a_new_certificate(lego: Any) -> None:
    _lego_holds(lego, settings_for())
    assert lego.command(settings_for(SERVER_NAME="notes.example.net"))[-1] == "run"


# --- installing and recording --------------------------------------------------


def test_install_writes_the_pair_nginx_reads_with_a_private_key(tmp_path: Path) -> None:
    cert, key = certificate("Test CA")
    assert acme.install(tmp_path, cert, key) is True
    assert (tmp_path / "fullchain.pem").read_bytes() == cert
    assert (tmp_path / "privkey.pem").read_bytes() == key
    assert (tmp_path / "privkey.pem").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "fullchain.pem").stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fullchain.pem", "privkey.pem"]  # no temporary left


def test_install_leaves_an_unchanged_pair_alone_so_nginx_does_not_reload(tmp_path: Path) -> None:
    cert, key = certificate("Test CA")
    acme.install(tmp_path, cert, key)
    before = (tmp_path / "fullchain.pem").stat()
    assert acme.install(tmp_path, cert, key) is False
    after = (tmp_path / "fullchain.pem").stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_describe_reports_issuer_serial_and_expiry() -> None:
    cert, _ = certificate("Pebble Intermediate CA 1234", days=90)
    facts = acme.describe(cert)
    parsed = x509.load_pem_x509_certificate(cert)
    assert facts["issuer"] == "CN=Pebble Intermediate CA 1234"
    assert facts["serial"] == format(parsed.serial_number, "x")
    assert facts["not_after_unix"] == int(parsed.not_valid_after_utc.timestamp())
    assert facts["not_after"].endswith("Z")
    assert facts["self_signed"] is False


class FakeLego:
    """Stands in for lego: writes a certificate where lego would, or fails like it."""

    def __init__(self, lego: Any, domain: str) -> None:
        self.lego, self.domain = lego, domain
        self.calls: list[list[str]] = []
        self.fail: str | None = None

    def __call__(self, argv: Sequence[str]) -> None:
        self.calls.append(list(argv))
        if self.fail:
            raise acme.CheckFailed(self.fail)
        forced = "renew" in argv and int(argv[argv.index("--days") + 1]) == acme.FORCE_DAYS
        if argv[-1] == "run" or forced:
            cert, key = certificate("Pebble Intermediate CA 1", self.domain)
            self.lego.cert_path(self.domain).parent.mkdir(parents=True, exist_ok=True)
            self.lego.cert_path(self.domain).write_bytes(cert)
            self.lego.key_path(self.domain).write_bytes(key)


@pytest.fixture
def certs(tmp_path: Path) -> Path:
    """A certs directory as the `certs` one-shot leaves it: a self-signed pair."""
    directory = tmp_path / "certs"
    directory.mkdir()
    cert, key = certificate("notes.example.com")
    (directory / "fullchain.pem").write_bytes(cert)
    (directory / "privkey.pem").write_bytes(key)
    return directory


def _reachable(url: str) -> None:
    return None


def test_a_check_installs_the_new_certificate_and_records_its_expiry(
    lego: Any, certs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for()
    lego.state.mkdir()
    fake = FakeLego(lego, settings.domain)
    assert acme.check(settings, lego, certs, reach=_reachable, run=fake) is True
    assert (certs / "fullchain.pem").read_bytes() == lego.cert_path(settings.domain).read_bytes()
    assert (certs / "privkey.pem").read_bytes() == lego.key_path(settings.domain).read_bytes()
    status = json.loads((certs / "acme-status.json").read_text())
    served = acme.describe((certs / "fullchain.pem").read_bytes())
    assert status["state"] == "ok"
    assert status["error"] is None
    assert status["domain"] == "notes.example.com"
    assert status["directory"] == LE_PRODUCTION
    assert status["certificate"]["serial"] == served["serial"]
    assert status["certificate"]["not_after_unix"] == served["not_after_unix"]
    assert status["last_success_at"] == status["checked_at"]
    assert "installed a certificate for notes.example.com" in capsys.readouterr().out


def test_a_check_that_is_not_due_changes_nothing(lego: Any, certs: Path) -> None:
    settings = settings_for()
    lego.state.mkdir()
    fake = FakeLego(lego, settings.domain)
    acme.check(settings, lego, certs, reach=_reachable, run=fake)
    before = (certs / "fullchain.pem").stat().st_mtime_ns
    assert acme.check(settings, lego, certs, reach=_reachable, run=fake) is True
    assert fake.calls[-1][-4:] == ["renew", "--days", "30", "--no-random-sleep"]
    assert (certs / "fullchain.pem").stat().st_mtime_ns == before


def test_a_forced_check_installs_a_new_certificate(lego: Any, certs: Path) -> None:
    settings = settings_for()
    lego.state.mkdir()
    fake = FakeLego(lego, settings.domain)
    acme.check(settings, lego, certs, reach=_reachable, run=fake)
    first = acme.describe((certs / "fullchain.pem").read_bytes())["serial"]
    assert acme.check(settings, lego, certs, force=True, reach=_reachable, run=fake) is True
    assert acme.describe((certs / "fullchain.pem").read_bytes())["serial"] != first


def test_an_unreachable_directory_keeps_the_self_signed_certificate_and_says_so(
    lego: Any, certs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for()
    lego.state.mkdir()
    before = (certs / "fullchain.pem").read_bytes(), (certs / "privkey.pem").read_bytes()
    fake = FakeLego(lego, settings.domain)

    def unreachable(url: str) -> None:
        raise acme.CheckFailed(f"cannot reach the ACME directory {url}: Connection refused")

    assert acme.check(settings, lego, certs, reach=unreachable, run=fake) is False
    assert fake.calls == []  # lego never ran
    assert ((certs / "fullchain.pem").read_bytes(), (certs / "privkey.pem").read_bytes()) == before
    status = json.loads((certs / "acme-status.json").read_text())
    assert status["state"] == "error"
    assert "cannot reach the ACME directory" in status["error"]
    assert status["certificate"]["self_signed"] is True
    out = capsys.readouterr().out
    assert "ERROR: cannot reach the ACME directory https://acme-v02" in out
    assert "nginx keeps serving the self-signed certificate" in out


def test_a_failed_renewal_keeps_the_previous_certificate_and_when_it_last_worked(lego: Any, certs: Path) -> None:
    settings = settings_for()
    lego.state.mkdir()
    fake = FakeLego(lego, settings.domain)
    acme.check(settings, lego, certs, reach=_reachable, run=fake)
    installed = (certs / "fullchain.pem").read_bytes()
    worked = json.loads((certs / "acme-status.json").read_text())["last_success_at"]
    fake.fail = "lego failed (exit 1): urn:ietf:params:acme:error:connection"
    assert acme.check(settings, lego, certs, force=True, reach=_reachable, run=fake) is False
    assert (certs / "fullchain.pem").read_bytes() == installed
    status = json.loads((certs / "acme-status.json").read_text())
    assert (status["state"], status["error"]) == ("error", fake.fail)
    assert status["last_success_at"] == worked
    assert status["certificate"]["serial"] == acme.describe(installed)["serial"]


def test_a_certs_directory_it_cannot_write_is_a_clear_failure(
    lego: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for()
    lego.state.mkdir()
    missing = tmp_path / "no-such-dir"
    assert acme.check(settings, lego, missing, reach=_reachable, run=FakeLego(lego, settings.domain)) is False
    out = capsys.readouterr().out
    assert f"ERROR: cannot write the certificate to {missing}" in out
    assert "writable by uid 10001" in out


# --- the schedule ----------------------------------------------------------------


def test_the_loop_checks_twice_a_day_and_retries_a_failure_after_an_hour() -> None:
    outcomes = iter([True, False, True])
    slept: list[float] = []
    acme.forever(lambda: next(outcomes), sleep=slept.append, rounds=3)
    assert slept == [12 * 3600, 3600, 12 * 3600]


# --- reaching the directory ------------------------------------------------------


@pytest.fixture
def directory_server() -> Iterator[tuple[str, dict[str, Any]]]:
    answer: dict[str, Any] = {"status": 200, "body": {"newOrder": "x", "newNonce": "y"}}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = json.dumps(answer["body"]).encode()
            self.send_response(answer["status"])
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/dir", answer
    finally:
        server.shutdown()
        server.server_close()


def test_a_directory_that_answers_is_reachable(directory_server: tuple[str, dict[str, Any]]) -> None:
    url, _ = directory_server
    acme.check_directory(url, timeout=5)


def test_a_server_that_is_no_acme_directory_is_named_as_such(directory_server: tuple[str, dict[str, Any]]) -> None:
    url, answer = directory_server
    answer["body"] = {"hello": "world"}
    with pytest.raises(acme.CheckFailed, match="is not an ACME directory"):
        acme.check_directory(url, timeout=5)
    answer["status"] = 503
    with pytest.raises(acme.CheckFailed, match="answered HTTP 503"):
        acme.check_directory(url, timeout=5)


def test_a_closed_port_is_an_unreachable_directory() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: refused
        with pytest.raises(acme.CheckFailed, match=rf"cannot reach the ACME directory http://127.0.0.1:{port}/dir"):
            acme.check_directory(f"http://127.0.0.1:{port}/dir", timeout=5)


# --- the command line -------------------------------------------------------------


def test_bad_settings_exit_2_with_the_message_and_touch_nothing(
    certs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(acme, "CERT_DIR", certs)
    monkeypatch.setenv("ACME", "on")
    monkeypatch.setenv("SERVER_NAME", "notes.example.com")
    monkeypatch.delenv("ACME_EMAIL", raising=False)
    before = sorted(p.name for p in certs.iterdir())
    assert acme.main(["once"]) == 2
    out = capsys.readouterr().out
    assert "ERROR: ACME=on needs ACME_EMAIL" in out
    assert "nginx keeps serving the self-signed certificate" in out
    assert sorted(p.name for p in certs.iterdir()) == before


def test_once_with_acme_off_does_nothing_and_succeeds(
    certs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(acme, "CERT_DIR", certs)
    monkeypatch.setenv("ACME", "off")
    assert acme.main(["once"]) == 0
    assert "ACME=off" in capsys.readouterr().out


def test_status_prints_the_status_file(
    lego: Any, certs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(acme, "CERT_DIR", certs)
    assert acme.main(["status"]) == 1
    assert "no acme-status.json" in capsys.readouterr().out
    settings = settings_for()
    lego.state.mkdir()
    acme.check(settings, lego, certs, reach=_reachable, run=FakeLego(lego, settings.domain))
    capsys.readouterr()
    assert acme.main(["status"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "ok"
