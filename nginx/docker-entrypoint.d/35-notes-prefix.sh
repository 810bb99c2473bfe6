#!/bin/sh
# What nginx answers outside URL_PREFIX, the path Notes is served under
# (notes.conf includes /etc/nginx/notes/prefix.conf in its HTTPS server):
# - empty (the root): nothing; notes.conf's `location /` is the app.
# - /notes, say: / redirects to /notes/, /notes to /notes/ (308 keeps a POST
#   a POST), and any other path outside the prefix is a 404.
# The app refuses the same bad values at its start (web/app/config.py).
set -eu
prefix="${URL_PREFIX:-}"
[ "$prefix" = "/" ] && prefix=""
out="${NOTES_PREFIX_CONF:-/etc/nginx/notes/prefix.conf}"
mkdir -p "$(dirname "$out")"

if [ -z "$prefix" ]; then
    echo "# Served at the root: nothing lies outside the app." > "$out"
    exit 0
fi

# Letters, digits and -._~ in /-separated segments, none of them . or ..
if ! printf '%s' "$prefix" | grep -Eq '^(/[A-Za-z0-9._~-]+)+$' \
    || printf '%s/' "$prefix" | grep -Eq '/\.\.?/'; then
    echo "35-notes-prefix: URL_PREFIX='$prefix' is not a path like /notes (a leading /, no trailing /," \
        "letters, digits and -._~ only); set it like URL_PREFIX=/notes, or empty for the root" >&2
    exit 1
fi

cat > "$out" <<CONF
location = / {
    return 302 https://\$host\$notes_https_port$prefix/;
}
location = $prefix {
    return 308 https://\$host\$notes_https_port$prefix/\$is_args\$args;
}
location / {
    return 404;
}
CONF
