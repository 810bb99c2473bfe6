#!/bin/sh
# gunicorn for an orchestrator: migrations first (when asked), and a pause
# between the stop signal and gunicorn's graceful stop.
#
# MIGRATE_ON_START=1: `flask deploy migrate` before serving (its advisory
# lock lets every replica run it; MIGRATE_ATTEMPTS x 2 s to reach the
# database, which must stay inside the health check's start period). A stop
# signal during it stops it.
#
# DRAIN_SECONDS: when an orchestrator stops a replica it takes it out of DNS
# and signals it at about the same moment, but nginx follows DNS only when its
# upstream process next reloads (nginx/docker-entrypoint.d/40-notes-upstream-watch.sh). Requests
# nginx still sends meanwhile would meet a closed port, or a keep-alive
# connection closed under them (a 502 nginx may not retry for a POST). So on
# SIGTERM this keeps serving DRAIN_SECONDS, then lets gunicorn finish what is in
# flight (GUNICORN_GRACEFUL_TIMEOUT). The stop grace period must cover both.
# 0 (the default) stops at once.
set -eu
drain="${DRAIN_SECONDS:-0}"
attempts="${MIGRATE_ATTEMPTS:-25}"
for setting in "DRAIN_SECONDS=$drain" "MIGRATE_ATTEMPTS=$attempts"; do
    case "${setting#*=}" in
        '' | *[!0-9]*) echo "notes-serve: ${setting} is not a whole number; set e.g. ${setting%%=*}=6" >&2; exit 2 ;;
    esac
done

# Runs "$@" in the background and waits for it, so that a trapped signal is
# handled at once; returns its exit status (or the signal's, if it was stopped).
run() {
    "$@" &
    child=$!
    status=0
    while kill -0 "$child" 2>/dev/null; do
        wait "$child" && status=0 || status=$?
    done
    return "$status"
}

if [ "${MIGRATE_ON_START:-0}" = 1 ]; then
    trap 'kill -TERM "$child" 2>/dev/null || true' TERM INT
    run flask deploy migrate --attempts "$attempts" --interval 2 || exit $?
fi

stop() {
    echo "notes-serve: stopping; serving on for ${drain}s while the proxy drops this replica" >&2
    sleep "$drain"
    kill -TERM "$child" 2>/dev/null || true
}
trap stop TERM INT
trap 'kill -HUP "$child" 2>/dev/null || true' HUP
run gunicorn -c gunicorn.conf.py "app:create_app()" "$@"
