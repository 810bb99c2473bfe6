"""The stack tier's black-box checks (HTTPS, headers, register, notes, API), run through the swarm stack.

Only the checks that talk to nginx from outside are taken: the others ask
docker compose about containers, which a swarm stack does not have.
"""

from __future__ import annotations

import http.client
import ssl
import time
from urllib.parse import urlsplit

from tests.helpers.swarm import SwarmStack, docker
from tests.stack.test_app import (  # noqa: F401 - collected here, against this tier's `stack`
    test_a_client_cannot_set_its_own_queue_stamp,
    test_api_answers_carry_the_configured_rate_limits_through_nginx,
    test_debug_pin_console_is_not_exposed,
    test_external_urls_are_https_with_the_public_port,
    test_oversize_body_is_refused_with_413,
    test_register_login_note_token_and_api_listing,
    test_unauthenticated_pages_redirect_to_login_over_https,
)
from tests.stack.test_edge import (  # noqa: F401
    test_api_docs_keep_their_looser_csp_without_a_duplicate,
    test_http_redirects_everything_to_https_with_308,
    test_nginx_own_answers_carry_the_headers_too,
    test_security_headers_once_each,
    test_the_api_over_plain_http_is_refused_not_redirected,
    test_tls_offers_http2_and_modern_protocols_only,
    test_unknown_host_is_dropped_on_http,
    test_unknown_host_is_refused_at_the_tls_handshake,
    test_wrong_host_header_after_a_valid_handshake_is_not_served,
)

SECRETS = ("SECRET_KEY=", "DATABASE_URL=", "ENCRYPTION_KEY=", "POSTGRES_PASSWORD=")


def test_secrets_reach_the_services_as_files_not_environment(stack: SwarmStack) -> None:
    web_env = stack.exec("web", "env").splitlines()
    assert not [line for line in web_env if line.startswith(SECRETS)]
    assert "SECRET_KEY_FILE=/run/secrets/notes_secret_key" in web_env
    assert "DATABASE_URL_FILE=/run/secrets/notes_database_url" in web_env
    assert stack.exec("web", "cat", "/run/secrets/notes_secret_key") == stack.setting("SECRET_KEY")
    for service in ("web", "nginx", "db", "backup"):
        spec_env = stack.inspect(service)["Spec"]["TaskTemplate"]["ContainerSpec"].get("Env", [])
        assert not [e for e in spec_env if e.startswith(SECRETS)]


def test_the_database_server_never_holds_its_password_in_its_environment(stack: SwarmStack) -> None:
    # One db task so far: this server is the first start, the one that created the cluster.
    assert len(stack.tasks("db")) == 1, stack.tasks("db")
    # As postgres, the server's own user: Docker gives root no CAP_SYS_PTRACE to read it.
    db = stack.container_ids("db")[0]
    assert docker("exec", "-u", "postgres", db, "cat", "/proc/1/comm").stdout.strip() == "postgres"
    environ = docker("exec", "-u", "postgres", db, "cat", "/proc/1/environ").stdout
    server_env = environ.split("\0")
    assert [line for line in server_env if line.startswith("PGDATA=")], server_env
    assert not [line for line in server_env if line.startswith((*SECRETS, "POSTGRES_PASSWORD_FILE="))]


def test_web_runs_three_replicas_each_in_nginx_dns(stack: SwarmStack) -> None:
    running = stack.running("web")
    assert len(running) == 3, running
    assert len(stack.web_addresses()) == 3


def test_a_change_of_web_tasks_keeps_clients_keep_alive_connections(stack: SwarmStack) -> None:
    """nginx follows the tasks by reloading its second, upstream process (NGINX_UPSTREAM_SPLIT=1,
    nginx/templates/upstream/): a reload closes idle keep-alive connections, never the clients' own."""
    base = urlsplit(stack.base)
    conn = http.client.HTTPSConnection(
        base.hostname or "localhost", base.port, context=ssl.create_default_context(cafile=stack.ca), timeout=10
    )

    def get() -> int:
        conn.request("GET", "/readyz")
        response = conn.getresponse()
        response.read()
        return response.status

    def watcher() -> list[str]:
        # The watcher writes to the container's stderr, which `docker service logs` passes on as its own.
        err = docker("service", "logs", "--raw", stack.service("nginx"), timeout=60).stderr
        return [line for line in err.splitlines() if "40-notes-upstream-watch" in line]

    def reloads() -> int:
        return sum("reloading nginx (NGINX_UPSTREAM_SPLIT=1)" in line for line in watcher())

    # The Swarm stack runs the second nginx (deploy/swarm/notes.yml).
    assert "unix:/run/nginx-upstream/notes.sock" in stack.exec("nginx", "cat", "/etc/nginx/conf.d/notes-backend.conf")
    web = stack.service("web")
    before = reloads()
    assert get() == 200
    client_socket = conn.sock
    docker("service", "scale", "--detach", f"{web}=4", timeout=60)
    try:
        # A request every 2 s on the one connection while the new task starts (which can take
        # longer than nginx's keepalive_timeout of idleness), until nginx has reloaded for it.
        deadline = time.monotonic() + 120
        while reloads() == before and time.monotonic() < deadline:
            assert get() == 200
            time.sleep(2)
        assert reloads() > before, f"nginx did not follow the new task within 120 s: {watcher()[-5:]}"
        time.sleep(1)  # the old upstream workers have closed their idle connections by now
        assert get() == 200  # on the same connection: http.client would raise had nginx closed it
        assert conn.sock is client_socket
    finally:
        conn.close()
        docker("service", "scale", "--detach=false", f"{web}=3", timeout=300)
        deadline = time.monotonic() + 60
        while len(stack.web_addresses()) != 3 and time.monotonic() < deadline:
            time.sleep(1)
