"""Automatic certificates (issue 14) against a real ACME server.

pebble, Let's Encrypt's test server, runs on the stack's networks
(compose.acme-pebble.yml) and validates every HTTP-01 challenge for real: it
fetches http://notes.acme.test/.well-known/acme-challenge/... from nginx on
port 80, through a network alias. The `acme` service (acme/notes_acme.py, lego)
trusts pebble's HTTPS CA, made here. The tests run in file order, each on
what the one before left; each also works alone, doing what it needs first.

The client side reaches nginx on 127.0.0.1 with SNI and Host set to
SERVER_NAME, verifying against pebble's root (its management API) once a
certificate has been issued.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from tests.helpers.stack import Stack, started_stack

pytestmark = pytest.mark.stack

SERVER_NAME = "notes.acme.test"
OVERRIDE = Path(__file__).parent / "compose.acme-pebble.yml"
DIRECTORY = "https://pebble:14000/dir"
UNREACHABLE = "https://pebble:14001/dir"  # pebble's host, a port nothing listens on
ISSUE_TIMEOUT = 90  # seconds: lego's order, pebble's validation, nginx's watcher (5 s)


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _pebble_tls(directory: Path) -> None:
    """A CA and pebble's HTTPS certificate from it (for `pebble` and the host's 127.0.0.1)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Notes stack test: pebble's HTTPS CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("pebble"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pebble")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        # Python 3.13 verifies strictly (VERIFY_X509_STRICT): these must be there.
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.chmod(0o755)  # the acme service reads ca.pem as uid 10001
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "cert.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (directory / "key.pem").write_bytes(key_pem)  # pebble runs as root; a throwaway key
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (directory / name).chmod(0o644)


@pytest.fixture(scope="module")
def pebble_tls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tls = tmp_path_factory.mktemp("pebble-tls")
    _pebble_tls(tls)
    return tls


@pytest.fixture(scope="module")
def acme_stack(compose_available: None, pebble_tls: Path) -> Iterator[Stack]:
    with started_stack(
        OVERRIDE,
        server_name=SERVER_NAME,
        ACME="on",
        ACME_EMAIL="ops@notes.dev",
        ACME_DIRECTORY=DIRECTORY,
        PEBBLE_TLS_DIR=str(pebble_tls),
    ) as stack:
        yield stack


# --- what nginx serves ---------------------------------------------------------


def _context(cafile: str | None) -> ssl.SSLContext:
    if cafile is None:  # before a real certificate: look at whatever is served
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=cafile)


def fetch(stack: Stack, context: ssl.SSLContext, path: str = "/healthz") -> tuple[int, x509.Certificate]:
    """One request on a new connection to nginx as SERVER_NAME: (status, the leaf it served)."""
    with (
        socket.create_connection(("127.0.0.1", stack.https_port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=SERVER_NAME) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
        assert der, "no certificate served"
        request = f"GET {path} HTTP/1.1\r\nHost: {SERVER_NAME}:{stack.https_port}\r\nConnection: close\r\n\r\n"
        tls.sendall(request.encode())
        answer = b""
        while chunk := tls.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, x509.load_der_x509_certificate(der)


def served(stack: Stack, cafile: str | None = None) -> x509.Certificate:
    status, cert = fetch(stack, _context(cafile))
    assert status == 200, status
    return cert


def is_self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject


def pebble_root(stack: Stack, tls: Path) -> str:
    """pebble's root (new at each start), fetched from its management API; a file path."""
    path = tls / "issuing-root.pem"
    if not path.exists():
        address = stack.compose("port", "pebble", "15000").stdout.strip().rsplit(":", 1)
        context = ssl.create_default_context(cafile=str(tls / "ca.pem"))
        url = f"https://127.0.0.1:{address[1]}/roots/0"
        with urllib.request.urlopen(url, context=context, timeout=10) as response:
            path.write_bytes(response.read())
    return str(path)


def status_file(stack: Stack) -> dict[str, Any]:
    text = stack.compose("exec", "-T", "nginx", "cat", "/etc/nginx/certs/acme-status.json").stdout
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def wait_for(what: str, probe: Callable[[], Any], timeout: float = ISSUE_TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            if result := probe():
                return result
        except (OSError, ssl.SSLError, AssertionError) as exc:
            last = exc
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout}s (last: {last!r})")


def run_once(stack: Stack, *env: str) -> tuple[int, str]:
    """`notes-acme once` in a throwaway acme container, with ``env`` (NAME=value) overriding the stack's."""
    args = [arg for pair in env for arg in ("-e", pair)]
    result = stack.compose("run", "--rm", "--no-deps", "-T", *args, "acme", "once", check=False, timeout=180)
    return result.returncode, result.stdout + result.stderr


def issued(stack: Stack, tls: Path) -> x509.Certificate:
    """Start the acme service (if it is not running) and wait until nginx serves pebble's certificate."""
    if not stack.container_ids("acme"):
        stack.compose("up", "-d", "--no-deps", "acme")
    root = pebble_root(stack, tls)

    def from_pebble() -> x509.Certificate | None:
        cert = served(stack, root)  # verifies the chain up to pebble's root, for SERVER_NAME
        return None if is_self_signed(cert) else cert

    cert: x509.Certificate = wait_for("nginx serving a certificate from pebble", from_pebble)
    return cert


# --- the tests -------------------------------------------------------------------


def test_acme_on_without_an_email_is_refused_and_the_self_signed_certificate_stays(acme_stack: Stack) -> None:
    before = served(acme_stack)
    code, output = run_once(acme_stack, "ACME_EMAIL=")
    assert code == 2, output
    assert "ACME=on needs ACME_EMAIL" in output
    if is_self_signed(before):  # first in the file: nothing issued yet
        assert "nginx keeps serving the self-signed certificate" in output
    assert served(acme_stack).serial_number == before.serial_number


def test_an_unreachable_directory_is_reported_and_changes_nothing(acme_stack: Stack) -> None:
    before = served(acme_stack)
    code, output = run_once(acme_stack, f"ACME_DIRECTORY={UNREACHABLE}")
    assert code == 1, output
    assert f"ERROR: cannot reach the ACME directory {UNREACHABLE}" in output
    status = status_file(acme_stack)
    assert status["state"] == "error"
    assert UNREACHABLE in status["error"]
    assert status["certificate"]["serial"] == format(before.serial_number, "x")
    assert served(acme_stack).serial_number == before.serial_number


def test_the_acme_service_gets_a_certificate_from_pebble_and_nginx_serves_it(
    acme_stack: Stack, pebble_tls: Path
) -> None:
    cert = issued(acme_stack, pebble_tls)
    issuer = cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert str(issuer).startswith("Pebble Intermediate CA")
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [SERVER_NAME]
    # The challenge was answered by nginx from the acme volume: pebble's
    # validation requests are in its access log.
    assert "/.well-known/acme-challenge/" in acme_stack.logs("nginx")

    status = wait_for("acme-status.json to name the served certificate", lambda: _ok_status_for(acme_stack, cert))
    assert status["domain"] == SERVER_NAME
    assert status["directory"] == DIRECTORY
    assert status["error"] is None
    assert status["certificate"]["not_after_unix"] == int(cert.not_valid_after_utc.timestamp())


def _ok_status_for(stack: Stack, cert: x509.Certificate) -> dict[str, Any] | None:
    status = status_file(stack)
    ok = status["state"] == "ok" and status["certificate"]["serial"] == format(cert.serial_number, "x")
    return status if ok else None


def test_a_check_before_the_certificate_is_due_keeps_it(acme_stack: Stack, pebble_tls: Path) -> None:
    cert = issued(acme_stack, pebble_tls)  # pebble's last 90 days here, like Let's Encrypt's: not due under 30
    result = acme_stack.compose("exec", "-T", "acme", "notes-acme", "once", timeout=180)
    assert "no renewal" in result.stdout
    assert f"certificate for {SERVER_NAME} is current" in result.stdout
    assert served(acme_stack, pebble_root(acme_stack, pebble_tls)).serial_number == cert.serial_number


def test_a_renewal_reaches_clients_through_a_graceful_reload_without_a_failed_request(
    acme_stack: Stack, pebble_tls: Path
) -> None:
    old = issued(acme_stack, pebble_tls)
    root = pebble_root(acme_stack, pebble_tls)
    context = _context(root)
    stop = threading.Event()
    seen: list[int] = []
    failures: list[str] = []

    def requests_across_the_reload() -> None:
        while not stop.is_set():
            try:
                status, cert = fetch(acme_stack, context)
                if status != 200:
                    failures.append(f"HTTP {status}")
                seen.append(cert.serial_number)
            except (OSError, ssl.SSLError, ValueError, IndexError) as exc:
                failures.append(repr(exc))
            time.sleep(0.02)

    client = threading.Thread(target=requests_across_the_reload, daemon=True)
    client.start()
    try:
        forced = acme_stack.compose("exec", "-T", "acme", "notes-acme", "once", "--force", timeout=180)
        assert "installed a certificate" in forced.stdout, forced.stdout
        wait_for("nginx serving the renewed certificate", lambda: seen and seen[-1] != old.serial_number, 60)
        time.sleep(2)  # and a little after the reload
    finally:
        stop.set()
        client.join(timeout=30)

    assert not failures, f"{len(failures)} of {len(seen) + len(failures)} requests failed: {failures[:5]}"
    assert seen[0] == old.serial_number, "the requests did not start before the reload"
    new = seen[-1]
    assert new != old.serial_number
    assert set(seen) == {old.serial_number, new}
    assert seen.index(new) > 0 and all(s == new for s in seen[seen.index(new) :]), "served the old one again"
    assert len(seen) > 20
    renewed = served(acme_stack, root)
    assert renewed.serial_number == new
    assert renewed.issuer == old.issuer  # pebble's again
    assert "41-notes-cert-watch: the certificate in /etc/nginx/certs changed; reloading nginx" in acme_stack.logs(
        "nginx"
    )


def test_a_failed_check_after_issuance_keeps_serving_the_previous_certificate(
    acme_stack: Stack, pebble_tls: Path
) -> None:
    cert = issued(acme_stack, pebble_tls)
    code, output = run_once(acme_stack, f"ACME_DIRECTORY={UNREACHABLE}")
    assert code == 1, output
    assert "nginx keeps serving the certificate from CN=Pebble Intermediate CA" in output
    time.sleep(6)  # a round of nginx's certificate watcher (5 s) would have passed
    assert served(acme_stack, pebble_root(acme_stack, pebble_tls)).serial_number == cert.serial_number
    assert status_file(acme_stack)["state"] == "error"
