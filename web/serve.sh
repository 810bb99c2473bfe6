#!/bin/sh
# gunicorn, with a pause between the stop signal and gunicorn's graceful stop.
#
# When an orchestrator stops a replica it takes it out of DNS and signals it
# at about the same moment, but nginx only follows DNS when it next reloads
# (nginx/docker-entrypoint.d/40-notes-upstream-watch.sh, every few seconds).
# Requests nginx still sends during that window would meet a closed port, or
# a keep-alive connection closed under them (a 502 nginx may not retry for a
# POST). So on SIGTERM this keeps serving for DRAIN_SECONDS, then lets
# gunicorn finish what is in flight (GUNICORN_GRACEFUL_TIMEOUT). The stop
# grace period must cover both. DRAIN_SECONDS=0 (the default) stops at once.
set -eu
drain="${DRAIN_SECONDS:-0}"
case "$drain" in
    ''|*[!0-9]*) echo "notes-serve: DRAIN_SECONDS=$drain is not a whole number of seconds; set e.g. DRAIN_SECONDS=6" >&2; exit 2 ;;
esac

gunicorn -c gunicorn.conf.py "app:create_app()" "$@" &
child=$!
stop() {
    echo "notes-serve: stopping; serving on for ${drain}s while the proxy drops this replica" >&2
    sleep "$drain"
    kill -TERM "$child" 2>/dev/null || true
}
trap stop TERM INT
trap 'kill -HUP "$child" 2>/dev/null || true' HUP
# `wait` returns early when a trapped signal arrives; wait again until gunicorn exits.
status=0
while kill -0 "$child" 2>/dev/null; do
    wait "$child" && status=0 || status=$?
done
exit "$status"
