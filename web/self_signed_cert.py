"""Give nginx a certificate on first start, with no manual step.

Run by the one-shot `certs` service (the web image, which ships Python's
`cryptography`; the nginx image has no openssl). When CERT_DIR already holds
fullchain.pem and privkey.pem (say Let's Encrypt's), it leaves them alone.
Otherwise it writes a self-signed certificate for SERVER_NAME, valid a year.

Exit status: 0 when a usable pair is in place, 1 (with a message saying what
to fix) when only one of the two files exists or the directory is not writable.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 365


def subject_names(server_name: str) -> list[x509.GeneralName]:
    """The SAN entries: the server name, plus loopback for a local stack."""
    names: list[x509.GeneralName] = [x509.DNSName(server_name)]
    if server_name == "localhost":
        names += [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1"))]
    return names


def self_signed(server_name: str) -> tuple[bytes, bytes]:
    """A fresh P-256 key and a self-signed server certificate, as PEM bytes."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, server_name)])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(subject_names(server_name)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write atomically, so nginx never reads half a file."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def main() -> int:
    cert_dir = Path(os.environ.get("CERT_DIR", "/certs"))
    server_name = os.environ.get("SERVER_NAME", "localhost").strip() or "localhost"
    cert, key = cert_dir / "fullchain.pem", cert_dir / "privkey.pem"
    if cert.exists() and key.exists():
        print(f"certs: {cert} and {key} exist; using them")
        return 0
    if cert.exists() or key.exists():
        print(
            f"certs: only one of fullchain.pem / privkey.pem is in {cert_dir}; add the other or remove both",
            file=sys.stderr,
        )
        return 1
    cert_pem, key_pem = self_signed(server_name)
    try:
        _write(key, key_pem, 0o600)
        _write(cert, cert_pem, 0o644)
    except PermissionError as exc:
        print(f"certs: cannot write to {cert_dir} ({exc}); make it writable or put certificates there", file=sys.stderr)
        return 1
    print(f"certs: wrote a self-signed certificate for {server_name} to {cert_dir} (valid {VALID_DAYS} days)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
