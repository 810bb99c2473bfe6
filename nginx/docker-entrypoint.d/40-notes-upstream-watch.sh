#!/bin/sh
# nginx resolves the upstream `web` only when it (re)loads its config. When
# web replicas are added (--scale), removed or recreated with new addresses,
# reload nginx so traffic follows them. Runs in the background for the life
# of the container; a failed lookup (web down) changes nothing.
set -u
host="${NOTES_UPSTREAM_HOST:-web}"
interval="${NOTES_UPSTREAM_WATCH_INTERVAL:-3}"

addresses() {
    getent ahostsv4 "$host" 2>/dev/null | awk '{print $1}' | sort -u | tr '\n' ' '
}

(
    last="$(addresses)"
    while sleep "$interval"; do
        now="$(addresses)"
        if [ -n "$now" ] && [ "$now" != "$last" ]; then
            echo "40-notes-upstream-watch: $host is now [$now]; reloading nginx" >&2
            nginx -s reload && last="$now"
        fi
    done
) &
