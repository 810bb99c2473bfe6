#!/bin/sh
# Starts the second nginx (conf.d/upstream/nginx.conf, rendered from
# templates/upstream/), which holds the connections to the web replicas, and
# keeps it running. That nginx resolves `web` only when it (re)loads its
# config: when web replicas are added (--scale), removed or recreated with
# new addresses, reload it so traffic follows them. The first nginx, which
# holds the clients' connections, is never reloaded for this.
# Runs in the background for the life of the container; a failed lookup (web
# down) changes nothing.
set -u
host="${NOTES_UPSTREAM_HOST:-web}"
interval="${NOTES_UPSTREAM_WATCH_INTERVAL:-3}"
conf=/etc/nginx/conf.d/upstream/nginx.conf
pidfile=/run/nginx-upstream.pid

mkdir -p /run/nginx-upstream
nginx -c "$conf" -t -q || exit 1
nginx -c "$conf" || exit 1

addresses() {
    getent ahostsv4 "$host" 2>/dev/null | awk '{print $1}' | sort -u | tr '\n' ' '
}

running() {
    [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

(
    last="$(addresses)"
    while sleep "$interval"; do
        if ! running; then
            echo "40-notes-upstream-watch: the upstream nginx is not running; starting it" >&2
            nginx -c "$conf" && last="$(addresses)"
            continue
        fi
        now="$(addresses)"
        if [ -n "$now" ] && [ "$now" != "$last" ]; then
            echo "40-notes-upstream-watch: $host is now [$now]; reloading the upstream nginx" >&2
            nginx -c "$conf" -s reload && last="$now"
        fi
    done
) &
