#!/bin/sh
# nginx reads its certificate only when it (re)loads. When fullchain.pem or
# privkey.pem changes (the `acme` service renewed it, or someone dropped a new
# pair into TLS_CERTS), check the pair and reload gracefully: old workers
# finish what they serve, new connections get the new certificate, the
# listening sockets never close. Needs no Docker socket: it only watches files.
# A pair that does not load (say, the key is new and the certificate not yet)
# is tried again on the next round; nginx keeps serving the old one meanwhile.
set -u
dir="${NOTES_CERT_DIR:-/etc/nginx/certs}"
interval="${NOTES_CERT_WATCH_INTERVAL:-5}"

signature() {
    # inode (a rename always changes it), mtime in ns, size
    stat -L -c '%i %.9Y %s' "$dir/fullchain.pem" "$dir/privkey.pem" 2>/dev/null | tr '\n' ' '
}

# Taken now, before nginx starts and reads the pair: any later change counts.
last="$(signature)"
(
    warned=""
    while sleep "$interval"; do
        now="$(signature)"
        if [ -n "$now" ] && [ "$now" != "$last" ]; then
            # Still being written (the key lands a moment before the
            # certificate)? Wait for the pair to settle first.
            sleep 1
            [ "$(signature)" = "$now" ] || continue
            if nginx -t -q 2>/dev/null; then
                echo "41-notes-cert-watch: the certificate in $dir changed; reloading nginx" >&2
                nginx -s reload && last="$now"
            elif [ "$now" != "$warned" ]; then
                echo "41-notes-cert-watch: the certificate in $dir changed but does not load; nginx keeps the old one" >&2
                nginx -t -q 2>&1 | head -n 3 >&2
                warned="$now"
            fi
        fi
    done
) &
