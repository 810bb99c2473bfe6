#!/bin/sh
# POSTGRES_PASSWORD_FILE (a Docker secret on Swarm) whatever the base image's
# entrypoint supports, then the base image's entrypoint.
#
# Only a first start, which creates the cluster, needs the password. That
# start runs the base entrypoint's initialisation on its own (`postgres -C`
# prints a setting and exits), and the server then starts as on any later
# start: the password is never in the running server's environment.
set -eu
# docker-compose.yml passes PG_ARCHIVE_TIMEOUT both here and as `-c
# archive_timeout=`: refused here, a bad value stops the start with what to set.
case "${PG_ARCHIVE_TIMEOUT-60}" in
    '' | *[!0-9]* | 0 | 0*)
        echo "notes-db: PG_ARCHIVE_TIMEOUT=${PG_ARCHIVE_TIMEOUT} is not a whole number of seconds above 0; set it in .env (60 by default: what a lost volume can lose)" >&2
        exit 1
        ;;
esac
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
