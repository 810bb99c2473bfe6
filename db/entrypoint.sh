#!/bin/sh
# POSTGRES_PASSWORD_FILE (a Docker secret on Swarm) whatever the base image's
# entrypoint supports, then the base image's entrypoint.
#
# Only a first start, which creates the cluster, needs the password; a later
# start leaves it out of the server's environment.
set -eu
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    if [ -n "${POSTGRES_PASSWORD:-}" ]; then
        echo "notes-db: POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are both set; unset one of them" >&2
        exit 1
    fi
    if [ ! -s "${PGDATA:-/var/lib/postgresql/data}/PG_VERSION" ]; then
        [ -s "$POSTGRES_PASSWORD_FILE" ] \
            || { echo "notes-db: POSTGRES_PASSWORD_FILE=$POSTGRES_PASSWORD_FILE is missing or empty" >&2; exit 1; }
        POSTGRES_PASSWORD="$(cat "$POSTGRES_PASSWORD_FILE")"
        export POSTGRES_PASSWORD
    fi
    unset POSTGRES_PASSWORD_FILE
fi
exec docker-entrypoint.sh "$@"
