#!/bin/sh
# Off-site copies of the pgBackRest repository with restic (encrypted).
#
#   notes-offsite backup     copy /var/lib/pgbackrest (and /attachments) to RESTIC_REPOSITORY
#                            (initialises it the first time), then forget
#                            snapshots beyond OFFSITE_KEEP_DAILY/_WEEKLY
#   notes-offsite restore    put the latest snapshot back into
#                            /var/lib/pgbackrest; refuses a repository that
#                            holds backups unless FORCE=1
#   notes-offsite snapshots  list the snapshots
#
# RESTIC_REPOSITORY is any restic repository: /offsite (a volume or
# directory standing in for the remote, as the tests use), sftp:host:/path,
# s3:https://host/bucket, rest:https://... RESTIC_PASSWORD encrypts it:
# without it nothing can be read back, so keep it somewhere else too.
set -eu

repo_dir=/var/lib/pgbackrest
staging="$repo_dir/.offsite-restore"
stanza=notes

say() { echo "offsite: $*"; }
fail() {
    echo "offsite: $*" >&2
    exit 1
}

[ -n "${RESTIC_REPOSITORY:-}" ] || fail "RESTIC_REPOSITORY is not set (e.g. /offsite, sftp:host:/path, s3:https://host/bucket); see .env.example"
[ -n "${RESTIC_PASSWORD:-}" ] || fail "RESTIC_PASSWORD is not set; the off-site copy is encrypted with it (see .env.example)"

# restic's exit codes: 10 the repository does not exist, 12 wrong password.
ensure_repository() {
    set +e
    restic cat config >/dev/null 2>&1
    rc=$?
    set -e
    case $rc in
        0) ;;
        10)
            say "initialising the restic repository $RESTIC_REPOSITORY"
            restic init
            ;;
        12) fail "RESTIC_PASSWORD does not open $RESTIC_REPOSITORY (wrong password)" ;;
        *) fail "cannot open the restic repository $RESTIC_REPOSITORY (restic exit $rc)" ;;
    esac
}

case "${1:-}" in
    backup)
        ensure_repository
        # --retry-lock: the schedule's copy and a `make backup-offsite` from
        # cron may meet; the second waits instead of failing.
        # With it, the files on notes (the attachments volume, read-only here):
        # their rows are in the database, their bytes only there. Back with
        # `restic restore <snapshot> --include /attachments` (docs/backups.md).
        if [ -d /attachments ]; then
            restic backup --retry-lock 5m --host notes --tag pgbackrest --exclude "$staging" "$repo_dir" /attachments
        else
            restic backup --retry-lock 5m --host notes --tag pgbackrest --exclude "$staging" "$repo_dir"
        fi
        restic forget --retry-lock 5m --host notes --tag pgbackrest --prune \
            --keep-daily "${OFFSITE_KEEP_DAILY:-14}" --keep-weekly "${OFFSITE_KEEP_WEEKLY:-8}"
        say "copied $repo_dir to $RESTIC_REPOSITORY"
        ;;
    snapshots)
        ensure_repository
        restic snapshots --retry-lock 5m --host notes --tag pgbackrest
        ;;
    restore)
        set +e
        restic cat config >/dev/null 2>&1
        rc=$?
        set -e
        case $rc in
            0) ;;
            10) fail "there is no restic repository at $RESTIC_REPOSITORY" ;;
            12) fail "RESTIC_PASSWORD does not open $RESTIC_REPOSITORY (wrong password)" ;;
            *) fail "cannot open the restic repository $RESTIC_REPOSITORY (restic exit $rc)" ;;
        esac
        held="$(pgbackrest --stanza="$stanza" --output=json info 2>/dev/null | jq -r '.[0].backup // [] | length' 2>/dev/null || echo 0)"
        if [ "${held:-0}" != 0 ] && [ "${FORCE:-0}" != 1 ]; then
            fail "refusing: the repository already holds $held backups. Add FORCE=1 to lay the off-site copy over it (WAL archived since is kept)."
        fi
        snapshot="$(restic snapshots --retry-lock 5m --host notes --tag pgbackrest --latest 1 --json | jq -r '.[-1].short_id // empty')"
        [ -n "$snapshot" ] || fail "the restic repository $RESTIC_REPOSITORY holds no snapshot of the pgBackRest repository"
        rm -rf "$staging"
        restic restore --retry-lock 5m "$snapshot" --target "$staging"
        # Laid over what is there: restored files win; WAL archived after the
        # snapshot (by a database that kept running) stays.
        cp -a "$staging$repo_dir/." "$repo_dir/"
        rm -rf "$staging"
        say "restored snapshot $snapshot into $repo_dir"
        pgbackrest --stanza="$stanza" info
        ;;
    *)
        echo "usage: notes-offsite backup|restore|snapshots" >&2
        exit 2
        ;;
esac
