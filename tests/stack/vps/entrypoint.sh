#!/bin/sh
# The key the test logs in with, host keys, the Docker engine, then sshd in front.
set -eu
printf '%s\n' "$AUTHORIZED_KEY" > /root/.ssh/authorized_keys
chmod 600 /root/.ssh/authorized_keys
ssh-keygen -A >/dev/null
# Its containers' cgroups go under a parent of their own, apart from those of
# the engine that runs the box.
dockerd --host=unix:///var/run/docker.sock --cgroup-parent="/notes-vps-$(hostname)" >/var/log/dockerd.log 2>&1 &
exec /usr/sbin/sshd -D -e
