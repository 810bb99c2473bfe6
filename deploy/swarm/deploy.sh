#!/bin/sh
# make swarm-deploy: build and tag the images, create the secrets, deploy the
# stack to the swarm this Docker engine manages, and wait until it is healthy.
# A second run with a new NOTES_IMAGE_TAG is a rolling update. docs/scaling.md.
#
# Settings: ENV_FILE (default .env, the same file docker compose reads;
# values already in the environment win), STACK (default notes),
# NOTES_IMAGE_TAG (default, or "latest": the checkout's commit), SKIP_BUILD=1 to deploy
# images already tagged, WAIT_SECONDS (default 300).
#
# With DATABASE_URL set, that database is used (a managed PostgreSQL) and
# deploy/swarm/db.yml is left out; otherwise db.yml runs PostgreSQL and its
# backups on the node labelled notes.db=true.
set -eu
cd "$(dirname "$0")/../.."
here=deploy/swarm

fail() { echo "swarm-deploy: $*" >&2; exit 1; }

env_file="${ENV_FILE:-.env}"
[ -f "$env_file" ] || fail "$env_file not found; run \`make .env\` (fresh secrets) or copy .env.example, then edit it"
# KEY=VALUE lines, as docker compose reads them; the environment wins.
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    key="${line%%=*}"
    case "$key" in
        '' | [0-9]* | *[!A-Za-z0-9_]*) fail "$env_file: cannot read the line starting ${line%%=*}: expected KEY=VALUE" ;;
    esac
    eval "known=\${$key+x}"
    # shellcheck disable=SC2154 # set by the eval above
    [ -n "$known" ] || export "$key=${line#*=}"
done < "$env_file"

stack="${STACK:-notes}"
# Swarm updates a service only when its spec changes, so every release needs
# its own tag: "latest" (.env.example's, for compose) means the commit, and
# uncommitted changes get a tag of their own each time.
tag="${NOTES_IMAGE_TAG:-latest}"
if [ "$tag" = latest ]; then
    tag="$(git rev-parse --short=12 HEAD 2>/dev/null)" || fail "set NOTES_IMAGE_TAG (not in a git checkout, no commit to name the release after)"
    git diff --quiet HEAD -- 2>/dev/null || tag="$tag-dirty-$(date +%s)"
fi
export NOTES_IMAGE_TAG="$tag"
wait_seconds="${WAIT_SECONDS:-300}"

state="$(docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}')"
[ "$state" = "active true" ] || fail "this Docker engine is not a swarm manager ($state); run \`docker swarm init\` (docs/scaling.md) or point DOCKER_HOST at a manager"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    echo "swarm-deploy: building images tagged $tag"
    docker build -q -t "notes-web:$tag" --target runtime web >/dev/null
    docker build -q -t "notes-nginx:$tag" -f nginx/Dockerfile . >/dev/null
    docker build -q -t "notes-db:$tag" db >/dev/null
fi
# nginx (host-mode ports) and db (one data directory) can only be replaced
# stop-first, with a gap. So they run under a tag made from their image's
# content: a release that leaves them unchanged leaves them running, and only
# web, which updates start-first, rolls.
content_tag() {
    docker image inspect --format '{{.Id}}' "$1:$tag" | sed 's/^sha256:/c-/' | cut -c1-14
}
NOTES_NGINX_TAG="$(content_tag notes-nginx)"
NOTES_DB_TAG="$(content_tag notes-db)"
docker tag "notes-nginx:$tag" "notes-nginx:$NOTES_NGINX_TAG"
docker tag "notes-db:$tag" "notes-db:$NOTES_DB_TAG"
export NOTES_NGINX_TAG NOTES_DB_TAG

if [ -n "${DATABASE_URL:-}" ]; then
    database_url="$DATABASE_URL"
    files="-c $here/notes.yml"
    echo "swarm-deploy: using the external database in DATABASE_URL; no db service"
else
    : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set in $env_file (or set DATABASE_URL for an external database)}"
    database_url="postgresql+psycopg://${POSTGRES_USER:-notes}:${POSTGRES_PASSWORD}@db:5432/${POSTGRES_DB:-notes}"
    files="-c $here/notes.yml -c $here/db.yml"
fi

# The app's own rules judge the secrets (placeholders, length) before they
# become Docker secrets that a crash-looping service would reveal only in its logs.
SECRET_KEY="${SECRET_KEY:-}" DATABASE_URL="$database_url" docker run --rm --network none \
    -e APP_ENV=prod -e SECRET_KEY -e DATABASE_URL "notes-web:$tag" flask deploy check >/dev/null \
    || fail "the settings in $env_file were refused (above); fix them and run again"

# A Docker secret cannot change, so each is named after its value's digest:
# a changed .env makes a new secret, and the services roll over to it like
# to a new image (start-first for web). Whoever can list secrets on a manager
# can read them anyway, so the digest tells nothing new.
secret() {
    variable="$1" name="$2" value="$3"
    versioned="${name}_$(printf %s "$value" | sha256sum | cut -c1-12)"
    if ! docker secret inspect "$versioned" >/dev/null 2>&1; then
        printf %s "$value" | docker secret create --label "notes.stack=$stack" "$versioned" - >/dev/null
        echo "swarm-deploy: created the secret $versioned"
    fi
    export "$variable=$versioned"
}
secret NOTES_SECRET_KEY_SECRET "${stack}_secret_key" "$SECRET_KEY"
secret NOTES_DATABASE_URL_SECRET "${stack}_database_url" "$database_url"
[ -n "${DATABASE_URL:-}" ] || secret NOTES_POSTGRES_PASSWORD_SECRET "${stack}_postgres_password" "$POSTGRES_PASSWORD"

# Pin nginx (host-mode ports) and the database (local volumes) to this node
# unless an operator has labelled other nodes for them.
self="$(docker info --format '{{.Swarm.NodeID}}')"
labels=notes.edge
[ -n "${DATABASE_URL:-}" ] || labels="$labels notes.db"
for label in $labels; do
    if [ -z "$(docker node ls -q --filter "node.label=$label=true")" ]; then
        docker node update --label-add "$label=true" "$self" >/dev/null
        echo "swarm-deploy: labelled this node $label=true"
    fi
done

# nginx needs a certificate before it starts: a self-signed one for
# SERVER_NAME unless the volume holds one (web/self_signed_cert.py).
if docker node ls -q --filter "node.label=notes.edge=true" | grep -qx "$self"; then
    docker run --rm --network none -e "SERVER_NAME=${SERVER_NAME:-localhost}" -e CERT_DIR=/certs \
        -v "${stack}_certs:/certs" "notes-web:$tag" python /app/self_signed_cert.py >/dev/null
else
    echo "swarm-deploy: nginx runs on another node; its ${stack}_certs volume must hold fullchain.pem and privkey.pem" >&2
fi

# What web was before, to tell an update (which must be seen to complete)
# from a deploy that changed nothing.
web_spec() { docker service inspect --format '{{json .Spec}}' "${stack}_web" 2>/dev/null | sha256sum; }
update_started() { docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.StartedAt}}{{end}}' "${stack}_web" 2>/dev/null || true; }
existed=0
docker service inspect "${stack}_web" >/dev/null 2>&1 && existed=1
spec_before="$(web_spec)"
started_before="$(update_started)"

echo "swarm-deploy: deploying stack $stack ($tag)"
# shellcheck disable=SC2086 # $files is two or four words
docker stack deploy --prune --resolve-image never $files "$stack"

# Until every web task runs the new image and is healthy (Swarm counts a
# task as running only once its health check passes), and an update, if this
# was one, did not roll back.
want="notes-web:$tag"
updated=0
[ "$existed" = 1 ] && [ "$(web_spec)" != "$spec_before" ] && updated=1
deadline=$(($(date +%s) + wait_seconds))
while :; do
    update="$(docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "${stack}_web")"
    # An earlier deploy's outcome (say, a rollback) is not this one's.
    [ "$(update_started)" != "$started_before" ] || update=""
    case "$update" in
        rollback_*) fail "the update of ${stack}_web failed and was rolled back ($update): docker service ps ${stack}_web" ;;
        paused) fail "the update of ${stack}_web is paused: docker service ps ${stack}_web" ;;
    esac
    replicas="$(docker service inspect --format '{{.Spec.Mode.Replicated.Replicas}}' "${stack}_web")"
    tasks="$(docker service ps --filter desired-state=running --format '{{.Image}}|{{.CurrentState}}' "${stack}_web")"
    total="$(printf '%s\n' "$tasks" | grep -c . || true)"
    ready="$(printf '%s\n' "$tasks" | grep -c "^$want|Running" || true)"
    nginx="$(docker service ls --filter "name=${stack}_nginx" --format '{{.Replicas}}' | head -n1)"
    # An update (a new image, or only a new secret) is done when Swarm says so.
    finished=1
    if [ "$updated" = 1 ]; then
        [ "$update" = completed ] && [ "$(update_started)" != "$started_before" ] || finished=0
    fi
    if [ "$ready" = "$replicas" ] && [ "$total" = "$replicas" ] && [ "$nginx" = "1/1" ] && [ "$finished" = 1 ]; then
        break
    fi
    [ "$(date +%s)" -lt "$deadline" ] \
        || fail "not healthy after ${wait_seconds}s (web: $ready of $replicas on $want, nginx $nginx, update ${update:-none}): docker service ps ${stack}_web"
    sleep 2
done
# Secrets an earlier .env made and nothing uses now. A replaced task still
# draining holds its secret (DRAIN_SECONDS + the graceful timeout), so each
# is tried for a while; one still held then waits for the next deploy.
for old in $(docker secret ls --filter "label=notes.stack=$stack" --format '{{.Name}}'); do
    case " $NOTES_SECRET_KEY_SECRET $NOTES_DATABASE_URL_SECRET ${NOTES_POSTGRES_PASSWORD_SECRET:-} " in
        *" $old "*) continue ;;
    esac
    tries=0
    until docker secret rm "$old" >/dev/null 2>&1; do
        tries=$((tries + 1))
        [ "$tries" -lt 30 ] || { echo "swarm-deploy: $old is still in use; the next deploy removes it" >&2; break; }
        sleep 2
    done
    [ "$tries" -ge 30 ] || echo "swarm-deploy: removed the unused secret $old"
done
echo "swarm-deploy: $stack is up: $replicas web tasks on $want, https://${SERVER_NAME:-localhost}:${HTTPS_PORT:-443}/"
