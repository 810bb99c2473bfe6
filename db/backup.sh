#!/usr/bin/env bash
# Dump the running stack's database to $BACKUP_DIR/notes-<UTC time>.dump
# (pg_dump custom format: compressed, restorable table by table), and the
# attachments volume to notes-<UTC time>.attachments.tar beside it.
#
#   make backup                      # the usual way
#   COMPOSE="docker compose -p x" BACKUP_DIR=/srv/notes/backups db/backup.sh
#
# The dump is written to a temporary name and renamed only once pg_dump has
# succeeded and pg_restore can read its table of contents, so a failed run
# never leaves a file that looks like a good backup. Exits non-zero, with a
# message saying what to do, when the db service is not running or the dump
# fails.
set -euo pipefail

read -r -a compose <<<"${COMPOSE:-docker compose}"
dir="${BACKUP_DIR:-backups}"

if [ -z "$("${compose[@]}" ps -q --status running db 2>/dev/null)" ]; then
    echo "backup: the db service is not running; start the stack first (make up)" >&2
    exit 1
fi

mkdir -p "$dir"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
target="$dir/notes-$stamp.dump"
partial="$target.partial"
trap 'rm -f "$partial"' EXIT

# umask 077: the dump holds password hashes and every note.
(
    umask 077
    "${compose[@]}" exec -T db sh -c 'exec pg_dump -U "$POSTGRES_USER" -d "$POSTGRES_DB" --format=custom' >"$partial"
)
if ! "${compose[@]}" exec -T db pg_restore --list <"$partial" >/dev/null; then
    echo "backup: the dump is unreadable (pg_restore --list failed); nothing was kept" >&2
    exit 1
fi
# The files on notes, beside the dump under the same name: the rows are in
# the dump, their bytes in this tar (db/restore.sh puts both back).
files="$dir/notes-$stamp.attachments.tar"
trap 'rm -f "$partial" "$files.partial"' EXIT
if ! (
    umask 077
    "${compose[@]}" exec -T web tar -C /data/attachments -cf - . >"$files.partial"
); then
    echo "backup: could not archive the attachments volume (is web running?); nothing was kept" >&2
    exit 1
fi
mv "$partial" "$target"
mv "$files.partial" "$files"
trap - EXIT
echo "backup: wrote $target ($(wc -c <"$target") bytes)"
echo "backup: wrote $files ($(wc -c <"$files") bytes)"
