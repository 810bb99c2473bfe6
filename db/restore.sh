#!/usr/bin/env bash
# Restore a `make backup` file (pg_dump custom format) into the running stack.
#
#   make restore FILE=backups/notes-20250101T031700Z.dump [FORCE=1]
#
# Refuses to overwrite a database that holds any users or notes unless
# FORCE=1. The web service is stopped while the dump is loaded (no request
# sees a half-restored database) and started again afterwards; the restore
# runs in one transaction, so a failure leaves the old data in place. Then
# `migrate` brings an older dump up to the current schema.
set -euo pipefail

read -r -a compose <<<"${COMPOSE:-docker compose}"
file="${FILE:-}"
force="${FORCE:-0}"

if [ -z "$file" ]; then
    echo "restore: say which dump to restore: make restore FILE=backups/notes-<time>.dump" >&2
    exit 2
fi
if [ ! -f "$file" ] || [ ! -r "$file" ]; then
    echo "restore: $file is not a readable file" >&2
    exit 2
fi
if [ -z "$("${compose[@]}" ps -q --status running db 2>/dev/null)" ]; then
    echo "restore: the db service is not running; start the stack first (make up)" >&2
    exit 1
fi

psql() {
    "${compose[@]}" exec -T db sh -c 'exec psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v ON_ERROR_STOP=1 -Atq "$@"' psql "$@"
}

if ! "${compose[@]}" exec -T db pg_restore --list <"$file" >/dev/null 2>&1; then
    echo "restore: $file is not a pg_dump custom-format file (make backup writes those)" >&2
    exit 2
fi

# Rows in the tables that matter; a table that does not exist yet counts 0.
counts="$(psql -c "SELECT
    CASE WHEN to_regclass('public.users') IS NULL THEN 0 ELSE (SELECT count(*) FROM users) END,
    CASE WHEN to_regclass('public.notes') IS NULL THEN 0 ELSE (SELECT count(*) FROM notes) END" | tr '|' ' ')"
read -r users notes <<<"$counts"
if [ "$users" != 0 ] || [ "$notes" != 0 ]; then
    if [ "$force" != 1 ]; then
        echo "restore: refusing to overwrite a database that holds $users users and $notes notes." >&2
        echo "restore: take a backup first (make backup), then run: make restore FILE=$file FORCE=1" >&2
        exit 1
    fi
    echo "restore: FORCE=1: replacing $users users and $notes notes"
fi

"${compose[@]}" stop web
# --clean --if-exists drops what the dump recreates; one transaction, so any
# error rolls everything back and the database stays as it was.
if ! "${compose[@]}" exec -T db sh -c 'exec pg_restore -U "$POSTGRES_USER" -d "$POSTGRES_DB" --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error' <"$file"; then
    echo "restore: pg_restore failed; the database is unchanged. Starting web again." >&2
    "${compose[@]}" start web
    exit 1
fi
"${compose[@]}" run --rm -T --no-deps migrate
# The attachments' bytes, when `make backup` archived them beside the dump.
# Laid over the volume: files of the restored rows come back; others stay
# until `flask notes purge-trash` sweeps what no row names.
files="${file%.dump}.attachments.tar"
if [ -f "$files" ]; then
    if ! "${compose[@]}" run --rm -T --no-deps --entrypoint tar web -C /data/attachments -xf - <"$files"; then
        echo "restore: the database is restored, but $files could not be unpacked into the attachments volume" >&2
        "${compose[@]}" start web
        exit 1
    fi
    echo "restore: restored the attachments from $files"
else
    echo "restore: no $files beside the dump: the attachments volume is left as it is"
fi
"${compose[@]}" start web
echo "restore: restored $file"
