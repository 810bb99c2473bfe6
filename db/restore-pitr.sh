#!/usr/bin/env bash
# Point-in-time restore of the stack's database from pgBackRest.
#
#   make restore-pitr TIME=latest                  # everything the archive holds
#   make restore-pitr TIME='2026-11-30 14:05:00'   # as it was then (UTC, or add +01:00)
#
# Checks TIME against the repository first: a time that is not one, lies in
# the future or comes before the oldest backup's end is refused with a
# message, and nothing is stopped or changed. Then:
#   1. if the database is up, a last commit and a WAL switch put everything
#      written so far into the archive (so TIME=latest loses nothing);
#   2. web, backup and db stop (nginx answers 502 meanwhile);
#   3. `pgbackrest restore --delta` rewrites the data volume from the newest
#      backup before TIME (an intact, a damaged or a new empty volume);
#   4. db starts and replays archived WAL up to TIME, then opens for writes
#      on a new timeline (the old one stays in the archive);
#   5. the whole stack starts again (migrate first, as on every `up`).
set -euo pipefail

read -r -a compose <<<"${COMPOSE:-docker compose}"
python="${PYTHON:-python3}"
here="$(cd "$(dirname "$0")" && pwd)"
time_arg="${TIME:-}"
wait_seconds="${RESTORE_WAIT_SECONDS:-900}"

say() { echo "restore-pitr: $*"; }
fail() {
    echo "restore-pitr: $*" >&2
    exit "${2:-1}"
}

[ -n "$time_arg" ] || fail "say which time to restore to: make restore-pitr TIME=latest, or TIME='2026-11-30 14:05:00' (UTC)" 2

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The repository is read by a one-off container of the backup service, so
# this works whether the stack is up, down, or has lost its database volume.
if ! "${compose[@]}" run --rm --no-deps -T backup pgbackrest --stanza=notes --output=json info \
    >"$tmp/info.json" 2>"$tmp/info.err"; then
    cat "$tmp/info.err" >&2
    fail "cannot read the pgBackRest repository (above); nothing was changed"
fi
if ! target="$("$python" "$here/backup_info.py" target "$time_arg" --info "$tmp/info.json" 2>"$tmp/target.err")"; then
    fail "$(cat "$tmp/target.err"); nothing was changed" 2
fi

running() { [ -n "$("${compose[@]}" ps -q --status running "$1" 2>/dev/null)" ]; }
psql_db() {
    "${compose[@]}" exec -T db sh -c 'exec psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v ON_ERROR_STOP=1 -Atq -c "$1"' psql "$1"
}

if [ "$target" = latest ]; then
    say "restoring the database to the latest archived state"
else
    say "restoring the database to $target"
fi

if running db && psql_db "SELECT 1" >/dev/null 2>&1; then
    # A commit record now, so that any TIME up to now has a commit after it
    # (recovery stops at the first commit past its target), then close the
    # WAL segment and wait until the archiver has it.
    # (Two statements, two transactions: the commit must come before the switch.)
    psql_db "SELECT pg_current_xact_id()" >/dev/null
    segment="$(psql_db "SELECT pg_walfile_name(pg_switch_wal())")"
    say "archiving the current WAL ($segment) first"
    deadline=$((SECONDS + 120))
    until [ "$(psql_db "SELECT coalesce(last_archived_wal, '') >= '$segment' FROM pg_stat_archiver")" = t ]; do
        if [ $SECONDS -ge $deadline ]; then
            say "WARNING: $segment was not archived within 120 s; writes since the last archived segment may be lost"
            break
        fi
        sleep 1
    done
fi

"${compose[@]}" stop web backup db

if [ "$target" = latest ]; then
    recovery=(--type=default)
else
    recovery=(--type=time "--target=$target" --target-action=promote)
fi
# --delta: rewrite only the files whose checksum differs from the backup's.
# On an empty volume pgBackRest says it cannot use --delta there (no
# PG_VERSION) and restores everything; a volume that holds files but no
# PG_VERSION is refused (empty it first). A database that crashed
# leaves postmaster.pid behind, which pgBackRest takes for a running server;
# db is stopped now, so it is stale.
if ! "${compose[@]}" run --rm --no-deps -T backup sh -c 'rm -f "$PGDATA/postmaster.pid" && exec pgbackrest "$@"' \
    pgbackrest --stanza=notes restore --delta "${recovery[@]}"; then
    fail "pgbackrest restore failed (above). The database volume is incomplete: fix the cause and run this again."
fi

since="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
"${compose[@]}" up -d --no-deps db
say "replaying archived WAL (up to ${wait_seconds} s)"
deadline=$((SECONDS + wait_seconds))
# Docker restarts a db that stops (restart: unless-stopped), so its log, not
# its state, tells a recovery that cannot finish.
while :; do
    if running db && [ "$(psql_db "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ]; then
        break
    fi
    log="$("${compose[@]}" logs --no-color --since "$since" db 2>&1 || true)"
    if grep -q "recovery ended before configured recovery target was reached" <<<"$log"; then
        "${compose[@]}" stop db >/dev/null 2>&1 || true
        fail "the archive ends before $target: what was written after its last archived WAL is gone. Run make restore-pitr TIME=latest (or an earlier TIME); the stack stays stopped until then."
    fi
    if grep -q "PANIC\|FATAL:  could not" <<<"$log" || [ $SECONDS -ge $deadline ]; then
        "${compose[@]}" stop db >/dev/null 2>&1 || true
        tail -n 30 <<<"$log" >&2
        fail "the database did not come out of recovery (its log is above); the stack stays stopped"
    fi
    sleep 2
done

# migrate runs before web starts, as on every `up`.
"${compose[@]}" up -d --wait
timeline="$(psql_db "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int" 2>/dev/null || echo '?')"
say "restored to ${target}; the database is on timeline ${timeline} and the stack is up"
