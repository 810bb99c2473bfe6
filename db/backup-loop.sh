#!/bin/sh
# The `backup` service: base backups on a schedule, and off-site copies.
#
# Runs as the postgres user beside the db container, sharing its data
# directory, its socket directory and the pgBackRest repository (volumes).
# WAL is archived by PostgreSQL itself (archive_command); this loop only
# takes the base backups that WAL is replayed onto.
#
# Every BACKUP_CHECK_SECONDS it reads `pgbackrest info` and decides:
#   - no backup yet, or the newest full one is older than
#     BACKUP_FULL_EVERY_HOURS (168: weekly)      -> a full backup
#   - the newest backup of any type is older than
#     BACKUP_DIFF_EVERY_HOURS (24: daily)         -> a differential backup
#   - otherwise                                   -> nothing
# Deciding from the repository, not from a clock in a crontab, means a
# restart, a missed night or a restored repository never skips a backup.
# pgBackRest runs `expire` after every backup: retention is
# repo1-retention-full (PGBACKREST_REPO1_RETENTION_FULL, 2 full backups).
# After each backup, when RESTIC_REPOSITORY is set, the repository is
# copied off-site with restic (notes-offsite).
set -u

stanza=notes
full_hours="${BACKUP_FULL_EVERY_HOURS:-168}"
diff_hours="${BACKUP_DIFF_EVERY_HOURS:-24}"
check_seconds="${BACKUP_CHECK_SECONDS:-300}"

log() { echo "backup: $(date -u +%Y-%m-%dT%H:%M:%SZ) $*"; }
# Sleep in the background so that SIGTERM (docker stop) ends it at once.
pause() {
    sleep "$1" &
    wait $!
}
trap 'log "stopping"; exit 0' TERM INT

# What is due: full, diff or none, from the repository's own record.
due() {
    pgbackrest --stanza="$stanza" --output=json info | jq -r \
        --argjson full "$full_hours" --argjson diff "$diff_hours" '
        (.[0].backup // []) as $b | now as $t
        | if ($b | length) == 0 then "full"
          else ([$b[] | select(.type == "full") | .timestamp.stop] | max) as $lastfull
            | ([$b[] | .timestamp.stop] | max) as $last
            | if $lastfull == null or ($t - $lastfull) >= $full * 3600 then "full"
              elif ($t - $last) >= $diff * 3600 then "diff"
              else "none" end
          end'
}

# What the metrics read (app/metrics/status.py), when STATUS_DIR is set: the
# newest good backups from the repository and WAL archiving from
# pg_stat_archiver, as one JSON object, replaced whole (write, then rename).
report() {
    [ -n "${STATUS_DIR:-}" ] || return 0
    info="$(pgbackrest --stanza="$stanza" --output=json info 2>/dev/null)" || info='[]'
    archiver="$(psql -h /var/run/postgresql -U "${PGBACKREST_PG1_USER:-postgres}" -d postgres -Atq -c \
        "SELECT json_build_object('last_archived_unix', extract(epoch FROM last_archived_time),
                                  'failed_count', failed_count,
                                  'last_failed_unix', extract(epoch FROM last_failed_time))
         FROM pg_stat_archiver" 2>/dev/null)" || archiver='null'
    printf '%s' "$info" | jq --argjson archiver "${archiver:-null}" '
        (.[0].backup // []) as $b
        | {checked_unix: now,
           backups: ($b | length),
           last_unix: ([$b[] | .timestamp.stop] | max),
           last_full_unix: ([$b[] | select(.type == "full") | .timestamp.stop] | max),
           wal: $archiver}' >"$STATUS_DIR/.backup-status.json.new" \
        && mv "$STATUS_DIR/.backup-status.json.new" "$STATUS_DIR/backup-status.json" \
        || log "cannot write $STATUS_DIR/backup-status.json"
}

log "schedule: full every ${full_hours} h, differential every ${diff_hours} h, checked every ${check_seconds} s"

# The stanza (the repository's record of this cluster) is created once and
# checked at every start; the database may still be starting, so retry.
# It fails for good when the repository belongs to another cluster (a new,
# empty database over an old repository): restore instead (make restore-pitr).
until pgbackrest --stanza="$stanza" stanza-create; do
    log "stanza-create failed (database not ready, or the repository belongs to another cluster); retrying in 15 s"
    pause 15
done

while :; do
    if kind="$(due)" && [ -n "$kind" ]; then
        case "$kind" in
            full | diff)
                log "taking a $kind backup"
                if pgbackrest --stanza="$stanza" backup --type="$kind"; then
                    log "$kind backup done"
                    if [ -n "${RESTIC_REPOSITORY:-}" ]; then
                        notes-offsite backup || log "off-site copy FAILED"
                    fi
                else
                    log "$kind backup FAILED"
                fi
                ;;
        esac
    else
        log "cannot read the repository (pgbackrest info failed)"
    fi
    report
    pause "$check_seconds"
done
