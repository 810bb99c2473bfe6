#!/usr/bin/env bash
# When the last good base backup and the last archived WAL segment were.
#
#   make backup-status          # prints it; writes backups/backup-status.prom
#
# Reads `pgbackrest info --output=json` (through a one-off container of the
# backup service, so it works with the stack up or down) and, when the
# database is up, pg_stat_archiver. db/backup_info.py prints the summary and
# writes the metrics file (Prometheus text, node_exporter's textfile
# collector format: docs/backups.md). Exit status 1 means a problem
# (no good backup, the newest older than 48 h, archiving failing).
set -euo pipefail

read -r -a compose <<<"${COMPOSE:-docker compose}"
python="${PYTHON:-python3}"
here="$(cd "$(dirname "$0")" && pwd)"
dir="${BACKUP_DIR:-backups}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if ! "${compose[@]}" run --rm --no-deps -T backup pgbackrest --stanza=notes --output=json info \
    >"$tmp/info.json" 2>"$tmp/info.err"; then
    cat "$tmp/info.err" >&2
    echo "backup-status: cannot read the pgBackRest repository (above)" >&2
    exit 1
fi
: >"$tmp/archiver.json"
if [ -n "$("${compose[@]}" ps -q --status running db 2>/dev/null)" ]; then
    "${compose[@]}" exec -T db sh -c 'exec psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Atq -c "$1"' psql \
        "SELECT json_build_object(
            'archived_count', archived_count, 'last_archived_wal', last_archived_wal,
            'last_archived_time', extract(epoch FROM last_archived_time),
            'failed_count', failed_count, 'last_failed_wal', last_failed_wal,
            'last_failed_time', extract(epoch FROM last_failed_time))
         FROM pg_stat_archiver" >"$tmp/archiver.json" 2>/dev/null || : >"$tmp/archiver.json"
fi
mkdir -p "$dir"
exec "$python" "$here/backup_info.py" status --info "$tmp/info.json" --archiver "$tmp/archiver.json" \
    --prom "$dir/backup-status.prom" --max-age-hours "${BACKUP_MAX_AGE_HOURS:-48}"
