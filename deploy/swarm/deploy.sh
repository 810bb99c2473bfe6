#!/bin/sh
# make swarm-deploy: build and tag the images, create the secrets, deploy the
# stack to the swarm this Docker engine manages, and wait until it is healthy.
# A second run with a new NOTES_IMAGE_TAG is a rolling update. docs/scaling.md.
#
# Settings: ENV_FILE (default .env, the same file docker compose reads;
# values already in the environment win, but for DATABASE_URL), STACK
# (default notes), NOTES_IMAGE_TAG (default, or "latest": the checkout's
# commit), SKIP_BUILD=1 to deploy images already tagged, WAIT_SECONDS (300).
#
# With DATABASE_URL in the env file, that database is used (a managed
# PostgreSQL) and deploy/swarm/db.yml is left out; otherwise db.yml runs
# PostgreSQL and its backups on the node labelled notes.db=true.
#
# The images are built here, on this manager. A task placed on another node
# needs them there too: a registry, or `docker save | docker load` (docs/scaling.md).
set -eu
cd "$(dirname "$0")/../.."
here=deploy/swarm

fail() { echo "swarm-deploy: $*" >&2; exit 1; }

env_file="${ENV_FILE:-.env}"
[ -f "$env_file" ] || fail "$env_file not found; run \`make .env\` (fresh secrets) or copy .env.example, then edit it"
# A DATABASE_URL left exported in a shell must not switch the stack to an
# external database (and prune its own): only the env file says so.
unset DATABASE_URL
# KEY=VALUE lines, as docker compose reads them; the environment wins.
n=0
while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    case "$line" in '' | '#'*) continue ;; esac
    key="${line%%=*}"
    case "$line" in
        *=*) ;;
        *) fail "$env_file line $n is not KEY=VALUE" ;;
    esac
    case "$key" in
        '' | [0-9]* | *[!A-Za-z0-9_]*) fail "$env_file line $n: the name before = is not a variable name" ;;
    esac
    eval "known=\${$key+x}"
    # shellcheck disable=SC2154 # set by the eval above
    [ -n "$known" ] || export "$key=${line#*=}"
done < "$env_file"

stack="${STACK:-notes}"
# Swarm updates a service only when its spec changes, so every release needs
# its own tag: "latest" (.env.example's, for compose) means the commit, and
# a checkout with changes (untracked files too) gets a tag of its own each time.
tag="${NOTES_IMAGE_TAG:-latest}"
if [ "$tag" = latest ]; then
    tag="$(git rev-parse --short=12 HEAD 2>/dev/null)" || fail "set NOTES_IMAGE_TAG (not in a git checkout, no commit to name the release after)"
    [ -z "$(git status --porcelain -- web nginx db 2>/dev/null)" ] || tag="$tag-dirty-$(date +%s)"
fi
export NOTES_IMAGE_TAG="$tag"
wait_seconds="${WAIT_SECONDS:-300}"
# notes.yml's stop_grace_period (35 s) must cover the drain and gunicorn's 20 s.
case "${DRAIN_SECONDS:-6}" in
    '' | *[!0-9]*) fail "DRAIN_SECONDS=${DRAIN_SECONDS} is not a whole number of seconds" ;;
esac
[ "${DRAIN_SECONDS:-6}" -le 10 ] || fail "DRAIN_SECONDS=${DRAIN_SECONDS} leaves gunicorn too little of the 35 s stop grace period; use 10 or less"

state="$(docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}')" || fail "cannot reach the Docker engine"
[ "$state" = "active true" ] || fail "this Docker engine is not a swarm manager ($state); run \`docker swarm init\` (docs/scaling.md) or point DOCKER_HOST at a manager"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    echo "swarm-deploy: building images tagged $tag"
    docker build -q -t "notes-web:$tag" --target runtime web >/dev/null
    docker build -q -t "notes-nginx:$tag" -f nginx/Dockerfile . >/dev/null
    docker build -q -t "notes-db:$tag" db >/dev/null
fi
for image in notes-web notes-nginx notes-db; do
    docker image inspect "$image:$tag" >/dev/null 2>&1 || fail "there is no image $image:$tag; build it (without SKIP_BUILD=1)"
done
# nginx (host-mode ports) and db (one data directory) can only be replaced
# stop-first, with a gap. So they run under a tag made from their image's
# content: a release that leaves them unchanged leaves them running, and only
# web, which updates start-first, rolls.
content_tag() {
    id="$(docker image inspect --format '{{.Id}}' "$1:$tag")"
    echo "$id" | sed 's/^sha256:/c-/' | cut -c1-14
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

# The app's own rules judge the settings (placeholders, lengths) before they
# become Docker secrets that a crash-looping service would reveal only in its logs.
SECRET_KEY="${SECRET_KEY:-}" DATABASE_URL="$database_url" ENCRYPTION_KEY="${ENCRYPTION_KEY:-}" \
    docker run --rm --network none -e APP_ENV=prod -e SECRET_KEY -e DATABASE_URL -e ENCRYPTION_KEY \
    "notes-web:$tag" flask deploy check >/dev/null \
    || fail "the settings in $env_file were refused (above); fix them and run again"

# A Docker secret cannot change. So a secret's name carries when it was made,
# and a label the digest of its value: the same value finds the same secret,
# a changed one makes a new secret that the services roll over to. (Only
# managers see labels, and they can read the secrets themselves.)
# keep=1: an existing secret of that role is kept whatever the value (the
# database password, which only the first start reads).
secret() {
    variable="$1" role="$2" value="$3" keep="${4:-0}"
    digest="$(printf %s "$value" | sha256sum | cut -c1-64)"
    filter="--filter label=notes.stack=$stack --filter label=notes.role=$role"
    [ "$keep" = 1 ] || filter="$filter --filter label=notes.sha256=$digest"
    # shellcheck disable=SC2086 # $filter is several words
    name="$(docker secret ls $filter --format '{{.Name}}' | sort | tail -n1)"
    if [ -z "$name" ]; then
        name="${stack}_${role}_$(date -u +%Y%m%d%H%M%S)"
        printf %s "$value" | docker secret create --label "notes.stack=$stack" --label "notes.role=$role" \
            --label "notes.sha256=$digest" "$name" - >/dev/null
        echo "swarm-deploy: created the secret $name"
    fi
    export "$variable=$name"
}
secret NOTES_SECRET_KEY_SECRET secret_key "$SECRET_KEY"
secret NOTES_DATABASE_URL_SECRET database_url "$database_url"
# Unset, ENCRYPTION_KEY is SECRET_KEY (web/app/accounts/twofactor.py): set it
# in the env file before you rotate SECRET_KEY (docs/scaling.md, "Secrets").
secret NOTES_ENCRYPTION_KEY_SECRET encryption_key "${ENCRYPTION_KEY:-$SECRET_KEY}"
[ -n "${DATABASE_URL:-}" ] || secret NOTES_POSTGRES_PASSWORD_SECRET postgres_password "$POSTGRES_PASSWORD" 1

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

# What each service's tasks were before, to tell an update (which must be
# seen to complete) from a deploy that changes no task (a new replica count,
# or nothing): Swarm reports no update for those.
services="web nginx"
[ -n "${DATABASE_URL:-}" ] || services="$services db"
template() {
    # "new" for a service this deploy creates: Swarm starts its tasks, it updates nothing.
    spec="$(docker service inspect --format '{{json .Spec.TaskTemplate}}' "${stack}_$1" 2>/dev/null)" || { echo new; return; }
    printf %s "$spec" | sha256sum
}
update_started() { docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.StartedAt}}{{end}}' "${stack}_$1" 2>/dev/null || true; }
for service in $services; do
    eval "template_$service=\"\$(template $service)\" started_$service=\"\$(update_started $service)\""
done

echo "swarm-deploy: deploying stack $stack ($tag)"
# shellcheck disable=SC2086 # $files is two or four words
docker stack deploy --prune --resolve-image never $files "$stack"

updating=""
for service in $services; do
    eval "before=\"\$template_$service\""
    # shellcheck disable=SC2154 # set by the eval above
    [ "$before" = new ] || [ "$(template "$service")" = "$before" ] || updating="$updating $service"
done

# This deploy's update of ``service`` is over: 0 when it completed (or there
# was none), 1 while it runs; fails the script when it rolled back or paused.
update_done() {
    service="$1"
    case " $updating " in *" $service "*) ;; *) return 0 ;; esac
    eval "before=\"\$started_$service\""
    [ "$(update_started "$service")" != "$before" ] || return 1 # not started yet
    state="$(docker service inspect --format '{{.UpdateStatus.State}}' "${stack}_$service")" || fail "cannot inspect ${stack}_$service"
    case "$state" in
        completed) return 0 ;;
        rollback_*) fail "the update of ${stack}_$service failed and was rolled back ($state): docker service ps ${stack}_$service" ;;
        paused) fail "the update of ${stack}_$service is paused: docker service ps ${stack}_$service" ;;
    esac
    return 1
}

# Until every web task runs the new image and is healthy (Swarm counts a task
# as running only once its health check passes), each update has completed,
# and nginx runs.
want="notes-web:$tag"
deadline=$(($(date +%s) + wait_seconds))
while :; do
    pending=""
    for service in $services; do
        update_done "$service" || pending="$pending $service"
    done
    replicas="$(docker service inspect --format '{{.Spec.Mode.Replicated.Replicas}}' "${stack}_web")" || fail "cannot inspect ${stack}_web"
    tasks="$(docker service ps --filter desired-state=running --format '{{.Image}}|{{.CurrentState}}' "${stack}_web")" || fail "cannot list ${stack}_web's tasks"
    total="$(printf '%s\n' "$tasks" | grep -c . || true)"
    ready="$(printf '%s\n' "$tasks" | grep -c "^$want|Running" || true)"
    nginx="$(docker service ls --filter "name=${stack}_nginx" --format '{{.Replicas}}' | head -n1)"
    if [ -z "$pending" ] && [ "$ready" = "$replicas" ] && [ "$total" = "$replicas" ] && [ "$nginx" = "1/1" ]; then
        break
    fi
    [ "$(date +%s)" -lt "$deadline" ] \
        || fail "not healthy after ${wait_seconds}s (web: $ready of $replicas on $want, nginx $nginx, updating:${pending:- none}): docker service ps ${stack}_web"
    sleep 2
done

# Secrets an earlier env file made that no service refers to, in its spec
# or in the spec `docker service rollback` would return to.
in_use="$(for service in $services; do
    docker service inspect --format '{{json .Spec.TaskTemplate.ContainerSpec.Secrets}} {{if .PreviousSpec}}{{json .PreviousSpec.TaskTemplate.ContainerSpec.Secrets}}{{end}}' "${stack}_$service"
done)"
for old in $(docker secret ls --filter "label=notes.stack=$stack" --format '{{.Name}}'); do
    case "$in_use" in
        *"\"$old\""*) ;;
        *) docker secret rm "$old" >/dev/null 2>&1 && echo "swarm-deploy: removed the unused secret $old" ;;
    esac
done
echo "swarm-deploy: $stack is up: $replicas web tasks on $want, https://${SERVER_NAME:-localhost}:${HTTPS_PORT:-443}/"
