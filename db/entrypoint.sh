#!/bin/sh
# POSTGRES_PASSWORD_FILE (a Docker secret on Swarm) whatever the base image's
# entrypoint supports, then the base image's entrypoint.
#
# Only a first start, which creates the cluster, needs the password. That
# start runs the base entrypoint's initialisation on its own (`postgres -C`
# prints a setting and exits), and the server then starts as on any later
# start: the password is never in the running server's environment.
set -eu
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    if [ -n "${POSTGRES_PASSWORD:-}" ]; then
        echo "notes-db: POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are both set; unset one of them" >&2
        exit 1
    fi
    password_file="$POSTGRES_PASSWORD_FILE"
    # The official image's entrypoint refuses the two variables together.
    unset POSTGRES_PASSWORD_FILE
    if [ "${1:-}" = postgres ] && [ ! -s "${PGDATA:-/var/lib/postgresql/data}/PG_VERSION" ]; then
        [ -s "$password_file" ] \
            || { echo "notes-db: POSTGRES_PASSWORD_FILE=$password_file is missing or empty" >&2; exit 1; }
        POSTGRES_PASSWORD="$(cat "$password_file")" docker-entrypoint.sh "$@" -C data_directory
    fi
fi
exec docker-entrypoint.sh "$@"
