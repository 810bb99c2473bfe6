"""make swarm-deploy's secrets: refused placeholders, and a rotation that rolls web over.

Runs after the load tests (file order): rotating SECRET_KEY ends what the old key signed.
"""

from __future__ import annotations

import secrets
import subprocess

from tests.helpers.swarm import DEPLOY, FIRST_TAG, SwarmStack, _base_env, docker


def _with(stack: SwarmStack, name: str, value: str) -> str:
    """The stack's .env text with ``name`` set to ``value``."""
    lines = [line for line in stack.env_file.read_text().splitlines() if not line.startswith(f"{name}=")]
    return "\n".join([*lines, f"{name}={value}"]) + "\n"


def _stack_secrets(stack: SwarmStack) -> set[str]:
    return set(docker("secret", "ls", "--format", "{{.Name}}", "--filter", f"name={stack.name}_").stdout.split())


def test_a_placeholder_secret_key_is_refused_before_anything_changes(stack: SwarmStack, tmp_path) -> None:
    env_file = tmp_path / "placeholder.env"
    env_file.write_text(_with(stack, "SECRET_KEY", "replace-me-with-a-long-random-string-of-64-characters-or-more"))
    before_secrets = _stack_secrets(stack)
    before_web = stack.inspect("web")["Version"]["Index"]
    result = subprocess.run(
        [str(DEPLOY)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**_base_env(), "ENV_FILE": str(env_file), "STACK": stack.name, "NOTES_IMAGE_TAG": FIRST_TAG,
             "SKIP_BUILD": "1"},
    )  # fmt: skip
    assert result.returncode != 0
    assert "SECRET_KEY is the placeholder from .env.example" in result.stderr
    assert "were refused" in result.stderr
    assert _stack_secrets(stack) == before_secrets
    assert stack.inspect("web")["Version"]["Index"] == before_web


def test_a_new_secret_key_in_env_rolls_web_over_and_keeps_two_factor_secrets_readable(stack: SwarmStack) -> None:
    def named(role: str) -> set[str]:
        return {s for s in _stack_secrets(stack) if f"_{role}_" in s}

    old_key, old_sealing = named("secret_key"), named("encryption_key")
    assert len(old_key) == 1 and len(old_sealing) == 1, _stack_secrets(stack)
    # As docs/scaling.md says: first pin ENCRYPTION_KEY to the key in use, then change SECRET_KEY.
    key = secrets.token_urlsafe(48)
    stack.env_file.write_text(_with(stack, "ENCRYPTION_KEY", stack.setting("SECRET_KEY")))
    stack.env_file.write_text(_with(stack, "SECRET_KEY", key))
    # The same images as the running release: only the secret changes.
    image = stack.inspect("web")["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
    stack.deploy(image.split("@")[0].split(":", 1)[1], build=False)
    new_key = named("secret_key") - old_key
    assert len(new_key) == 1, _stack_secrets(stack)
    # Two-factor secrets stay sealed with the same key.
    assert named("encryption_key") == old_sealing
    assert len(stack.running("web")) == 3
    for container in stack.container_ids("web"):
        assert docker("exec", container, "cat", "/run/secrets/notes_secret_key").stdout == key
    assert stack.session().get(stack.url("/readyz"), timeout=10).status_code == 200
    # The old key is kept while `docker service rollback` could return to it,
    # and goes with the next deploy.
    assert old_key <= named("secret_key")
    stack.deploy(image.split("@")[0].split(":", 1)[1], build=False)
    assert named("secret_key") == new_key
