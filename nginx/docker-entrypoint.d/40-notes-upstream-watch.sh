#!/bin/sh
# How nginx reaches the web replicas and follows them as they come and go
# (see the comment above notes_backend in notes.conf). nginx 1.26 resolves an
# upstream's name only when it (re)loads its config, so this writes the
# upstream for NGINX_UPSTREAM_SPLIT, then in the background checks `web`'s
# addresses every few seconds and reloads when they change:
# - 0: the upstream is the replicas, and the nginx that reloads is this one.
# - 1: the upstream is a second nginx (conf.d/upstream/nginx.conf, rendered
#   from templates/upstream/) that holds the replicas; it is started here, kept
#   running, and is the only one reloaded, so clients' connections stay open.
# A failed lookup (web down) changes nothing.
set -u
host="${NOTES_UPSTREAM_HOST:-web}"
interval="${NOTES_UPSTREAM_WATCH_INTERVAL:-3}"
split="${NGINX_UPSTREAM_SPLIT:-0}"
max_conns="${NGINX_UPSTREAM_MAX_CONNS:-64}"
inner=/etc/nginx/conf.d/upstream/nginx.conf
pidfile=/run/nginx-upstream.pid
mkdir -p /etc/nginx/notes

case "$split" in
0)
    cat > /etc/nginx/conf.d/notes-backend.conf <<CONF
upstream notes_backend {
    # Shared by nginx's worker processes, so max_conns counts for all of them.
    zone notes_backend 64k;
    # max_conns: requests in flight to one replica at most. Past it nginx
    # answers 503 at once instead of queueing more behind busy workers, so an
    # overload is refused quickly rather than served late (the app sheds what
    # still queues too long, web/app/http/overload.py). Counted only once
    # nginx has read a whole request, so slow clients never take a place.
    server $host:8000 max_fails=1 fail_timeout=5s max_conns=$max_conns;
    keepalive 32;
    keepalive_timeout 60s;
}
CONF
    printf 'default_type text/plain;\nreturn 200 "ok\\n";\n' > /etc/nginx/notes/health.conf
    reload() { nginx -s reload; }
    ;;
1)
    printf 'upstream notes_backend {\n    server unix:/run/nginx-upstream/notes.sock;\n}\n' \
        > /etc/nginx/conf.d/notes-backend.conf
    printf 'proxy_pass http://notes_backend/upstream-health;\n' > /etc/nginx/notes/health.conf
    mkdir -p /run/nginx-upstream
    # A socket left by a killed run (a restarted container keeps /run) would
    # make the bind fail; nothing listens on it now.
    rm -f /run/nginx-upstream/notes.sock
    nginx -c "$inner" -t -q || exit 1
    nginx -c "$inner" || exit 1
    reload() { nginx -c "$inner" -s reload; }
    ;;
*)
    echo "40-notes-upstream-watch: NGINX_UPSTREAM_SPLIT=$split; use 0 or 1" >&2
    exit 1
    ;;
esac

addresses() {
    getent ahostsv4 "$host" 2>/dev/null | awk '{print $1}' | sort -u | tr '\n' ' '
}

inner_running() {
    [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

(
    last="$(addresses)"
    while sleep "$interval"; do
        if [ "$split" = 1 ] && ! inner_running; then
            echo "40-notes-upstream-watch: the upstream nginx is not running; starting it" >&2
            rm -f /run/nginx-upstream/notes.sock
            nginx -c "$inner" && last="$(addresses)"
            continue
        fi
        now="$(addresses)"
        if [ -n "$now" ] && [ "$now" != "$last" ]; then
            echo "40-notes-upstream-watch: $host is now [$now]; reloading nginx (NGINX_UPSTREAM_SPLIT=$split)" >&2
            reload && last="$now"
        fi
    done
) &
