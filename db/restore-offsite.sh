#!/usr/bin/env bash
# Put the latest off-site (restic) copy back into pgBackRest's repository volume.
#
#   make restore-offsite [FORCE=1]
#
# For a repository that was lost (a new machine, a dead disk): works with
# the stack down, in a one-off container of the backup service (which is
# stopped meanwhile, so it cannot create a new, empty stanza underneath).
# Refuses a repository that still holds backups unless FORCE=1. Afterwards
# `make restore-pitr TIME=latest` rebuilds the database from it.
set -euo pipefail

read -r -a compose <<<"${COMPOSE:-docker compose}"
was_running="$("${compose[@]}" ps -q --status running backup 2>/dev/null || true)"

"${compose[@]}" stop backup >/dev/null 2>&1 || true
set +e
"${compose[@]}" run --rm --no-deps -T -e FORCE="${FORCE:-0}" backup notes-offsite restore
rc=$?
set -e
if [ -n "$was_running" ]; then
    "${compose[@]}" start backup >/dev/null
fi
exit $rc
