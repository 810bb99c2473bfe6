"""Let's Encrypt (or any ACME CA) certificates for nginx, unattended.

Run by the `acme` compose service (acme/Dockerfile), with lego as the ACME
client. HTTP-01: lego writes the challenge into the webroot that nginx serves
at /.well-known/acme-challenge/ on port 80 (the `acme` volume); the
certificate and key it gets are copied into the certificate directory nginx
reads (the `certs` volume, TLS_CERTS), and nginx reloads itself when it sees
them change (nginx/docker-entrypoint.d/41-notes-cert-watch.sh). No Docker
socket anywhere.

Commands:
  loop            (the default) check now, then every 12 hours; a failed
                  check is tried again after an hour
  once [--force]  one check, or a renewal whether due or not, then exit
  status          print the status file

A check gets a certificate when there is none for SERVER_NAME from
ACME_DIRECTORY yet, and renews it when fewer than 30 days are left. Until the
first one arrives, nginx keeps the self-signed certificate of the `certs`
one-shot; after a failure, whatever it served before.

Every check writes STATUS_FILE (acme-status.json beside the certificate),
for people and for a metrics exporter: the installed certificate's expiry
(`certificate.not_after_unix`), the last check's outcome and its error.

Exit status: 0 done (or ACME=off for `once`), 1 the check failed, 2 the
settings are wrong (a message says what to set).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import ipaddress
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

LETS_ENCRYPT = {
    "production": "https://acme-v02.api.letsencrypt.org/directory",
    "staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}
RENEW_DAYS = 30  # renew when fewer days than this are left
FORCE_DAYS = 36500  # "renew when fewer than 100 years are left": always
CHECK_EVERY = 12 * 3600  # seconds between checks after a success
RETRY_AFTER = 3600  # seconds before the next try after a failure
LEGO_TIMEOUT = 600  # seconds one lego run may take

# Names no public CA will ever issue for: Let's Encrypt refuses them, after
# a failed order that counts against its rate limits.
RESERVED_SUFFIXES = ("localhost", "local", "test", "example", "invalid", "internal", "lan", "home.arpa")
EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_EMAIL = re.compile(r"^[^@\s]+@([^@\s]+\.[^@\s]+)$")
_ON = ("on", "true", "yes", "1")
_OFF = ("off", "false", "no", "0")

WEBROOT = Path(os.environ.get("ACME_WEBROOT_DIR", "/var/www/acme"))
CERT_DIR = Path(os.environ.get("CERT_DIR", "/certs"))
STATE_DIR = Path(os.environ.get("ACME_STATE_DIR", "/var/lib/acme"))
STATUS_NAME = "acme-status.json"
# A copy of the status for the metrics (app/metrics/status.py), in a volume
# without the private key that the web containers may read; unset: none.
STATUS_DIR = Path(os.environ["STATUS_DIR"]) if os.environ.get("STATUS_DIR") else None
RUN_AS = 10001  # the web image's `app` user, who owns the certs volume


class SettingsError(Exception):
    """The settings cannot work; the message says what to set."""


class CheckFailed(Exception):
    """One check failed (network, CA, validation); the next one may work."""


@dataclass(frozen=True)
class Settings:
    enabled: bool
    domain: str = ""
    email: str = ""
    directory: str = ""
    lets_encrypt: bool = False
    warnings: tuple[str, ...] = ()


def _switch(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw or raw in _OFF:
        return False
    if raw in _ON:
        return True
    raise SettingsError(f"{name}={env[name]!r} is neither on nor off; set {name}=on or {name}=off")


def _domain_problem(name: str) -> str | None:
    """Why ``name`` is not a DNS name a certificate can be issued for, or None."""
    if not name:
        return "SERVER_NAME is empty; set it to the public host name, e.g. SERVER_NAME=notes.example.com"
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        pass
    else:
        return f"SERVER_NAME={name} is an IP address; HTTP-01 certificates need a DNS name pointing at this server"
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        return f"SERVER_NAME={name!r} is not a valid host name (letters, digits, hyphens and dots; no wildcard)"
    return None


def _public_problem(name: str) -> str | None:
    """Why no public CA would issue for ``name`` (a valid host name), or None."""
    if "." not in name:
        return f"SERVER_NAME={name} has no dot; Let's Encrypt issues only for public DNS names like notes.example.com"
    for suffix in RESERVED_SUFFIXES:
        if name == suffix or name.endswith("." + suffix):
            return f"SERVER_NAME={name} ends in .{suffix}, which is never public; Let's Encrypt cannot validate it"
    return None


def read_settings(env: Mapping[str, str]) -> Settings:
    """The ACME settings from ``env``; SettingsError when they cannot work."""
    if not _switch(env, "ACME"):
        return Settings(enabled=False)
    domain = env.get("SERVER_NAME", "").strip().lower().rstrip(".")
    problem = _domain_problem(domain)
    if problem:
        raise SettingsError(problem)

    raw_directory = env.get("ACME_DIRECTORY", "").strip() or "production"
    if raw_directory.lower() in LETS_ENCRYPT:
        directory, lets_encrypt = LETS_ENCRYPT[raw_directory.lower()], True
    elif raw_directory.startswith("https://") and len(raw_directory) > len("https://"):
        directory, lets_encrypt = raw_directory, raw_directory in LETS_ENCRYPT.values()
    else:
        raise SettingsError(
            f"ACME_DIRECTORY={raw_directory!r} is not production, staging or an https:// URL of an ACME directory"
        )

    email = env.get("ACME_EMAIL", "").strip()
    if not email:
        raise SettingsError(
            "ACME=on needs ACME_EMAIL: the address the CA writes to about this account and expiring certificates"
        )
    found = _EMAIL.match(email)
    if not found:
        raise SettingsError(f"ACME_EMAIL={email!r} is not an email address")

    warnings: list[str] = []
    if lets_encrypt:
        problem = _public_problem(domain)
        if problem:
            raise SettingsError(problem + " (use ACME=off and drop certificates into TLS_CERTS instead)")
        mail_domain = found.group(1).lower()
        if any(mail_domain == d or mail_domain.endswith("." + d) for d in EXAMPLE_DOMAINS):
            raise SettingsError(
                f"ACME_EMAIL={email} is the example from .env.example; Let's Encrypt refuses example domains, "
                "set a real address"
            )
        port = env.get("HTTP_PORT", "80").strip() or "80"
        if port != "80":
            warnings.append(
                f"HTTP_PORT={port}: Let's Encrypt validates on port 80, so it only succeeds if something "
                f"forwards port 80 of {domain} to this port"
            )
    return Settings(True, domain, email, directory, lets_encrypt, tuple(warnings))


# --- files ---------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write ``path`` whole or not at all: readers never see half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def describe(cert_pem: bytes) -> dict[str, Any]:
    """The facts about a PEM certificate (its first, the leaf) worth reporting."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    not_after = cert.not_valid_after_utc
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "not_before": _iso(cert.not_valid_before_utc),
        "not_after": _iso(not_after),
        "not_after_unix": int(not_after.timestamp()),
        "self_signed": cert.issuer == cert.subject,
    }


def installed_certificate(cert_dir: Path) -> dict[str, Any] | None:
    try:
        return describe((cert_dir / "fullchain.pem").read_bytes())
    except (OSError, ValueError):
        return None


def install(cert_dir: Path, cert_pem: bytes, key_pem: bytes) -> bool:
    """Put the pair where nginx reads it; False when it is there already.

    The key goes first and the certificate last: nginx's watcher checks the
    pair (`nginx -t`) before it reloads, so a moment between the two renames
    is retried rather than served.
    """
    cert_path, key_path = cert_dir / "fullchain.pem", cert_dir / "privkey.pem"
    with contextlib.suppress(OSError):
        if cert_path.read_bytes() == cert_pem and key_path.read_bytes() == key_pem:
            return False
    write_atomic(key_path, key_pem, 0o600)
    write_atomic(cert_path, cert_pem, 0o644)
    return True


def write_status(
    cert_dir: Path,
    settings: Settings,
    *,
    error: str | None,
    previous: Mapping[str, Any] | None = None,
    copy_to: Path | None = None,
    in_cert_dir: bool = True,
) -> dict[str, Any]:
    """Record the outcome of a check and the installed certificate (STATUS_NAME), and a copy in ``copy_to``.

    With ACME off the state is "off": nothing is checked, but the installed
    certificate (self-signed or dropped in) is described all the same, so its
    expiry is watched too.
    """
    now = _iso(_now())
    status = {
        "domain": settings.domain,
        "directory": settings.directory,
        "state": "off" if not settings.enabled else "error" if error else "ok",
        "error": error,
        "checked_at": now,
        "last_success_at": (previous or {}).get("last_success_at") if error or not settings.enabled else now,
        "certificate": installed_certificate(cert_dir),
    }
    text = (json.dumps(status, indent=2) + "\n").encode()
    for directory in (cert_dir if in_cert_dir else None, copy_to):
        if directory is None:
            continue
        try:
            write_atomic(directory / STATUS_NAME, text, 0o644)
        except OSError as exc:
            log(f"warning: cannot write {directory / STATUS_NAME}: {exc}")
    return status


def read_status(cert_dir: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads((cert_dir / STATUS_NAME).read_text())
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


# --- lego ----------------------------------------------------------------------


@dataclass(frozen=True)
class Lego:
    """lego's command line and where it keeps its state (account, certificates)."""

    state: Path
    webroot: Path
    binary: str = "lego"

    def cert_path(self, domain: str) -> Path:
        return self.state / "certificates" / f"{domain}.crt"

    def key_path(self, domain: str) -> Path:
        return self.state / "certificates" / f"{domain}.key"

    @property
    def issued_record(self) -> Path:
        return self.state / "notes-issued.json"

    def base(self, settings: Settings) -> list[str]:
        return [
            self.binary,
            "--accept-tos",
            "--server",
            settings.directory,
            "--email",
            settings.email,
            "--domains",
            settings.domain,
            "--http",
            "--http.webroot",
            str(self.webroot),
            "--path",
            str(self.state),
        ]

    def command(self, settings: Settings, *, force: bool = False) -> list[str]:
        """`run` for a first certificate (or one from another directory), else `renew`."""
        if not self.has_certificate_from(settings):
            return [*self.base(settings), "run"]
        days = FORCE_DAYS if force else RENEW_DAYS
        # lego sleeps up to 8 minutes before a renewal unless told not to; our
        # checks are already spread out (every 12 h from the container's start).
        return [*self.base(settings), "renew", "--days", str(days), "--no-random-sleep"]

    def has_certificate_from(self, settings: Settings) -> bool:
        """Whether lego holds a certificate for this domain from this directory.

        lego files certificates by domain only: after a switch from staging to
        production, `renew` would keep the staging one until it is due.
        """
        if not (self.cert_path(settings.domain).is_file() and self.key_path(settings.domain).is_file()):
            return False
        try:
            record = json.loads(self.issued_record.read_text())
        except (OSError, ValueError):
            return False
        return isinstance(record, dict) and record.get(settings.domain) == settings.directory

    def remember(self, settings: Settings) -> None:
        try:
            record = json.loads(self.issued_record.read_text())
        except (OSError, ValueError):
            record = {}
        if not isinstance(record, dict):
            record = {}
        record[settings.domain] = settings.directory
        write_atomic(self.issued_record, (json.dumps(record, indent=2) + "\n").encode(), 0o600)


def ca_context() -> ssl.SSLContext:
    """The system's CAs plus lego's extra ones (LEGO_CA_CERTIFICATES), as lego trusts them."""
    context = ssl.create_default_context()
    for path in filter(None, os.environ.get("LEGO_CA_CERTIFICATES", "").split(os.pathsep)):
        context.load_verify_locations(cafile=path)
    return context


def check_directory(url: str, timeout: float = 20) -> None:
    """CheckFailed with a plain reason unless ``url`` answers as an ACME directory."""
    request = urllib.request.Request(url, headers={"User-Agent": "notes-acme"})  # noqa: S310 (https only, checked)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=ca_context()) as response:  # noqa: S310
            body = json.loads(response.read(1_000_000))
    except urllib.error.HTTPError as exc:
        raise CheckFailed(f"the ACME directory {url} answered HTTP {exc.code}") from exc
    except urllib.error.URLError as exc:
        raise CheckFailed(f"cannot reach the ACME directory {url}: {exc.reason}") from exc
    except (OSError, ValueError) as exc:
        raise CheckFailed(f"cannot read the ACME directory {url}: {exc}") from exc
    if not isinstance(body, dict) or "newOrder" not in body:
        raise CheckFailed(f"{url} is not an ACME directory (no newOrder in its answer)")


def _tail(text: str, lines: int = 3) -> str:
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(kept[-lines:]) or "no output"


def run_lego(argv: Sequence[str]) -> None:
    """Run lego, its output into ours; CheckFailed with its last lines when it fails."""
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=LEGO_TIMEOUT, check=False)  # noqa: S603
    except subprocess.TimeoutExpired as exc:
        raise CheckFailed(f"lego did not finish within {LEGO_TIMEOUT} s") from exc
    for line in (result.stdout + result.stderr).splitlines():
        if line.strip():
            log(f"lego: {line}")
    if result.returncode != 0:
        raise CheckFailed(f"lego failed (exit {result.returncode}): {_tail(result.stderr + result.stdout)}")


# --- one check -----------------------------------------------------------------


def log(message: str) -> None:
    print(f"acme: {message}", flush=True)


def _serving(cert: Mapping[str, Any] | None) -> str:
    if not cert:
        return "no certificate"
    if cert.get("self_signed"):
        return "the self-signed certificate"
    return f"the certificate from {cert.get('issuer')} (until {cert.get('not_after')})"


@contextlib.contextmanager
def _locked(state: Path) -> Iterator[None]:
    """One check at a time: the loop and a `docker compose exec acme ... once`."""
    with open(state / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def check(
    settings: Settings,
    lego: Lego,
    cert_dir: Path,
    *,
    force: bool = False,
    reach: Callable[[str], None] = check_directory,
    run: Callable[[Sequence[str]], None] = run_lego,
) -> bool:
    """One check: get or renew when due, install what changed. True when it worked.

    A failure is logged and recorded in the status file; the certificate nginx
    serves is left as it was.
    """
    previous = read_status(cert_dir)
    with _locked(lego.state):
        try:
            reach(settings.directory)
            argv = lego.command(settings, force=force)
            log(f"{'renewing' if 'renew' in argv else 'requesting'} a certificate for {settings.domain} "
                f"from {settings.directory}{' (forced)' if force else ''}")  # fmt: skip
            run(argv)
            lego.remember(settings)
            try:
                cert_pem = lego.cert_path(settings.domain).read_bytes()
                key_pem = lego.key_path(settings.domain).read_bytes()
                describe(cert_pem)
            except (OSError, ValueError) as exc:
                raise CheckFailed(f"lego left no usable certificate for {settings.domain}: {exc}") from exc
            try:
                changed = install(cert_dir, cert_pem, key_pem)
            except OSError as exc:
                raise CheckFailed(
                    f"cannot write the certificate to {cert_dir} ({exc}); the TLS_CERTS directory must be "
                    f"writable by uid {RUN_AS}"
                ) from exc
        except CheckFailed as exc:
            status = write_status(cert_dir, settings, error=str(exc), previous=previous, copy_to=STATUS_DIR)
            log(f"ERROR: {exc}; nginx keeps serving {_serving(status['certificate'])}")
            return False
    status = write_status(cert_dir, settings, error=None, copy_to=STATUS_DIR)
    cert = status["certificate"] or {}
    if changed:
        log(f"installed a certificate for {settings.domain} (serial {cert.get('serial')}, until "
            f"{cert.get('not_after')}); nginx reloads when it sees it")  # fmt: skip
    else:
        log(f"certificate for {settings.domain} is current (until {cert.get('not_after')})")
    return True


def forever(
    attempt: Callable[[], bool], sleep: Callable[[float], None] = time.sleep, rounds: int | None = None
) -> None:
    """Check now, then every CHECK_EVERY; after a failure, again in RETRY_AFTER."""
    done = 0
    while rounds is None or done < rounds:
        ok = attempt()
        done += 1
        wait = CHECK_EVERY if ok else RETRY_AFTER
        log(f"next check in {wait // 3600} h")
        sleep(wait)


# --- the container's entry point -----------------------------------------------


def _drop_privileges(webroot: Path, state: Path) -> None:
    """Started as root: make the challenge directory ours, then run as RUN_AS.

    The `acme` volume may have been created by nginx's read-only mount (owned
    by root); lego needs to write .well-known/acme-challenge in it.
    """
    if os.geteuid() != 0:
        return
    challenges = webroot / ".well-known" / "acme-challenge"
    challenges.mkdir(parents=True, exist_ok=True)
    for path in (webroot / ".well-known", challenges):
        os.chown(path, RUN_AS, RUN_AS)
        path.chmod(0o755)
    state.mkdir(parents=True, exist_ok=True)
    os.chown(state, RUN_AS, RUN_AS)
    os.setgroups([])
    os.setgid(RUN_AS)
    os.setuid(RUN_AS)


def _report_while_off(settings: Settings, sleep: Callable[[float], None] = time.sleep) -> None:
    """ACME off: describe the installed certificate for the metrics now and every hour (it may be
    replaced by hand), in STATUS_DIR only: TLS_CERTS may be the operator's own directory."""
    while True:
        if STATUS_DIR is not None:
            write_status(CERT_DIR, settings, error=None, copy_to=STATUS_DIR, in_cert_dir=False)
        sleep(RETRY_AFTER)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="notes-acme", description=__doc__.split("\n\n")[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("loop", help="check now, then every 12 hours (the default)")
    once = sub.add_parser("once", help="one check, then exit")
    once.add_argument("--force", action="store_true", help="renew even when the certificate is not due")
    sub.add_parser("status", help="print the status file")
    args = parser.parse_args(argv)
    command = args.command or "loop"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    if command == "status":
        status = read_status(CERT_DIR)
        print(json.dumps(status, indent=2) if status else f"no {STATUS_NAME} in {CERT_DIR} yet")
        return 0 if status else 1

    try:
        settings = read_settings(os.environ)
    except SettingsError as exc:
        log(f"ERROR: {exc}. Nothing was requested; nginx keeps serving {_serving(installed_certificate(CERT_DIR))}.")
        return 2
    if not settings.enabled:
        log("ACME=off: certificates in TLS_CERTS are used as they are (self-signed until you drop real ones in)")
        if command == "loop":
            _report_while_off(settings)
        return 0
    for warning in settings.warnings:
        log(f"warning: {warning}")

    _drop_privileges(WEBROOT, STATE_DIR)
    lego = Lego(state=STATE_DIR, webroot=WEBROOT)
    if command == "once":
        return 0 if check(settings, lego, CERT_DIR, force=args.force) else 1
    forever(lambda: check(settings, lego, CERT_DIR))
    return 0


if __name__ == "__main__":
    sys.exit(main())
