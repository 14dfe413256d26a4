#!/usr/bin/env bash
# One-command setup of the github-private-backup container: check prerequisites, store the token in an env file
# (mode 600), build and start the stack, run the first init and sync, wait until healthy, print status.
# Safe to run again: nothing that exists is overwritten unless it changed, and init/sync are idempotent.
set -euo pipefail

readonly CONTAINER=github-private-backup
readonly COMPOSE_FILE_NAME=docker-compose.github-backup.yml
readonly ENV_FILE_NAME=.env.github-backup
readonly CONFIG_FILE_NAME=backup.config.yml

# Exit codes (also in --help and docs/GITHUB_PRIVATE_BACKUP_SETUP.md).
readonly EXIT_USAGE=2
readonly EXIT_NO_DOCKER=10
readonly EXIT_NO_COMPOSE=11
readonly EXIT_NO_DAEMON=12
readonly EXIT_NO_TOKEN=13
readonly EXIT_NO_REPOS=14
readonly EXIT_UP_FAILED=20
readonly EXIT_NOT_RUNNING=21
readonly EXIT_INIT_FAILED=22
readonly EXIT_SYNC_FAILED=23
readonly EXIT_NOT_HEALTHY=24

usage() {
  cat <<EOF
Usage: scripts/init-github-backup.sh [options]

Sets up the github-private-backup container in one go:
  1. checks that docker and docker compose are installed and the daemon answers
  2. takes the GitHub token from \$GITHUB_TOKEN, from an existing $ENV_FILE_NAME, or asks for it
     (input hidden; only when run interactively) and writes $ENV_FILE_NAME with mode 600
  3. writes $CONFIG_FILE_NAME from --repo/--owner if it does not exist yet
  4. builds and starts the stack ($COMPOSE_FILE_NAME)
  5. runs 'backup-manager init' and a first 'backup-manager sync' in the container
  6. waits until the container reports healthy, then prints 'backup-manager status'
Running it again is safe: existing files are kept, init and sync are idempotent.

Options:
  --repo OWNER/NAME     a repository to back up (repeatable; used only when $CONFIG_FILE_NAME does not exist)
  --owner NAME          back up every repository of this user or organization (repeatable; same rule)
  --project-dir DIR     directory holding $COMPOSE_FILE_NAME (default: the repository this script is in)
  --timeout SECONDS     how long to wait for the container to start, and again for it to turn healthy
                        after the first sync (the sync itself is not timed; default: 300)
  --no-build            start the stack without rebuilding the image
  --skip-sync           do not run the first sync (the container stays unhealthy until the scheduled one)
  -h, --help            show this help

Environment:
  GITHUB_TOKEN          the token (classic PAT with 'repo', or fine-grained with Contents: read and
                        Metadata: read). Never printed, never passed on a command line.

Exit status:
  0   set up and healthy
  $EXIT_USAGE   usage error (unknown option, bad value, compose file not found)
  $EXIT_NO_DOCKER  docker is not installed (not on PATH)
  $EXIT_NO_COMPOSE  docker compose (v2 plugin) is not available
  $EXIT_NO_DAEMON  the docker daemon does not answer (is it running? may this user use it?)
  $EXIT_NO_TOKEN  no token: GITHUB_TOKEN unset, no $ENV_FILE_NAME, and not interactive (or invalid token)
  $EXIT_NO_REPOS  no repositories configured: no $CONFIG_FILE_NAME and no --repo/--owner
  $EXIT_UP_FAILED  docker compose up failed (build or start)
  $EXIT_NOT_RUNNING  the container did not reach the running state in time
  $EXIT_INIT_FAILED  backup-manager init failed in the container
  $EXIT_SYNC_FAILED  the first backup-manager sync failed in the container
  $EXIT_NOT_HEALTHY  the container did not report healthy in time
EOF
}

info() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  local code=$1
  shift
  printf 'error: %s\n' "$*" >&2
  exit "$code"
}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
project_dir=$(cd "$script_dir/.." && pwd)
timeout=300
build=1
first_sync=1
repos=()
owners=()

while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --repo | --owner | --project-dir | --timeout)
      [ $# -ge 2 ] || die "$EXIT_USAGE" "$1 needs a value (see --help)"
      case "$1" in
        --repo)
          [[ "$2" =~ ^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$ ]] || die "$EXIT_USAGE" "--repo must look like OWNER/NAME, got '$2'"
          repos+=("$2")
          ;;
        --owner)
          [[ "$2" =~ ^[A-Za-z0-9][A-Za-z0-9-]*$ ]] || die "$EXIT_USAGE" "--owner must be a GitHub user or organization name, got '$2'"
          owners+=("$2")
          ;;
        --project-dir)
          [ -d "$2" ] || die "$EXIT_USAGE" "--project-dir: no such directory: $2"
          project_dir=$(cd "$2" && pwd)
          ;;
        --timeout)
          [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$EXIT_USAGE" "--timeout must be a positive number of seconds, got '$2'"
          timeout=$2
          ;;
      esac
      shift 2
      ;;
    --no-build)
      build=0
      shift
      ;;
    --skip-sync)
      first_sync=0
      shift
      ;;
    *)
      die "$EXIT_USAGE" "unknown argument '$1' (see --help)"
      ;;
  esac
done

compose_file="$project_dir/$COMPOSE_FILE_NAME"
env_file="$project_dir/$ENV_FILE_NAME"
config_file="$project_dir/$CONFIG_FILE_NAME"
[ -f "$compose_file" ] || die "$EXIT_USAGE" "compose file not found: $compose_file (use --project-dir)"

# ---------------------------------------------------------------- prerequisites, first missing one stops us
info "checking prerequisites"
command -v docker > /dev/null 2>&1 ||
  die "$EXIT_NO_DOCKER" "docker is not installed or not on PATH; install Docker Engine: https://docs.docker.com/engine/install/"
docker compose version > /dev/null 2>&1 ||
  die "$EXIT_NO_COMPOSE" "'docker compose' is not available; install the Compose v2 plugin: https://docs.docker.com/compose/install/"
docker info > /dev/null 2>&1 ||
  die "$EXIT_NO_DAEMON" "the docker daemon does not answer; start it, or add this user to the 'docker' group"

# ---------------------------------------------------------------- the token: env, existing env file, or prompt
existing_token=""
if [ -f "$env_file" ]; then
  # Read with builtins only: the token never appears in a process's arguments.
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      GITHUB_TOKEN=*) existing_token=${line#GITHUB_TOKEN=} ;;
    esac
  done < "$env_file"
fi

token=${GITHUB_TOKEN:-}
if [ -z "$token" ] && [ -n "$existing_token" ]; then
  token=$existing_token
fi
if [ -z "$token" ]; then
  if [ -t 0 ]; then
    # -s: no echo; the prompt goes to stderr so stdout stays clean.
    read -r -s -p "GitHub token (input hidden): " token
    printf '\n' >&2
  else
    die "$EXIT_NO_TOKEN" "no GitHub token: set GITHUB_TOKEN, or run interactively to be asked for it, or write GITHUB_TOKEN=... into $env_file (mode 600)"
  fi
fi
[ -n "$token" ] || die "$EXIT_NO_TOKEN" "the token is empty"
# Tokens are [A-Za-z0-9_]; refusing anything else also keeps the env file one well-formed line.
[[ "$token" =~ ^[A-Za-z0-9_.-]+$ ]] ||
  die "$EXIT_NO_TOKEN" "the token contains characters a GitHub token never has (spaces, quotes, newlines?); check what was pasted"

if [ "$token" = "$existing_token" ]; then
  info "token: $env_file already holds it (unchanged)"
else
  # umask 077 in a subshell: the file is created with mode 600, never readable by others even for a moment.
  (
    umask 077
    tmp_env="$env_file.tmp.$$"
    printf 'GITHUB_TOKEN=%s\n' "$token" > "$tmp_env"
    mv -f "$tmp_env" "$env_file"
  )
  if [ -n "$existing_token" ]; then info "token: updated $env_file (mode 600)"; else info "token: wrote $env_file (mode 600)"; fi
fi
chmod 600 "$env_file"
unset token existing_token

# ---------------------------------------------------------------- which repositories
if [ -f "$config_file" ]; then
  info "config: using $config_file"
  if [ ${#repos[@]} -gt 0 ] || [ ${#owners[@]} -gt 0 ]; then
    warn "$config_file exists, so --repo/--owner were not written into it; edit the file to add repositories"
  fi
elif [ ${#repos[@]} -gt 0 ] || [ ${#owners[@]} -gt 0 ]; then
  {
    printf '# Repositories backed up by the github-private-backup container (see docs/GITHUB_PRIVATE_BACKUP_SETUP.md).\n'
    printf '# Add more here and restart nothing: the next run picks them up (or run backup-manager init now).\n'
    printf 'repositories:\n'
    for repo in ${repos[@]+"${repos[@]}"}; do printf '  - %s\n' "$repo"; done
    for owner in ${owners[@]+"${owners[@]}"}; do printf '  - owner: %s\n' "$owner"; done
  } > "$config_file"
  chmod 644 "$config_file"
  info "config: wrote $config_file"
else
  die "$EXIT_NO_REPOS" "no repositories configured: pass --repo OWNER/NAME (or --owner NAME), or create $config_file"
fi

# ---------------------------------------------------------------- build and start
compose=(docker compose -f "$compose_file")
if [ "$build" -eq 1 ]; then
  info "building and starting the stack"
  "${compose[@]}" up -d --build || die "$EXIT_UP_FAILED" "docker compose up failed; see the output above"
else
  info "starting the stack"
  "${compose[@]}" up -d || die "$EXIT_UP_FAILED" "docker compose up failed; see the output above"
fi

deadline=$((SECONDS + timeout))
container_state() { docker inspect --format "$1" "$CONTAINER" 2> /dev/null || true; }

info "waiting for $CONTAINER to run"
until [ "$(container_state '{{.State.Status}}')" = running ]; do
  [ "$SECONDS" -lt "$deadline" ] ||
    die "$EXIT_NOT_RUNNING" "$CONTAINER is not running after ${timeout}s; see: docker logs $CONTAINER"
  sleep 2
done

# ---------------------------------------------------------------- first init and sync
info "initializing mirrors (backup-manager init)"
docker exec "$CONTAINER" backup-manager init ||
  die "$EXIT_INIT_FAILED" "backup-manager init failed; check the token's scopes and $config_file, then run this script again"

if [ "$first_sync" -eq 1 ]; then
  info "first backup (backup-manager sync)"
  docker exec "$CONTAINER" backup-manager sync ||
    die "$EXIT_SYNC_FAILED" "the first sync failed; see: docker exec $CONTAINER backup-manager status"
fi

# ---------------------------------------------------------------- healthy?
if [ "$first_sync" -eq 1 ]; then
  # A fresh clock: the first sync of a big repository may take longer than --timeout, and that is not unhealthy.
  deadline=$((SECONDS + timeout))
  info "waiting for $CONTAINER to report healthy (checked every 30s)"
  while :; do
    health=$(container_state '{{if .State.Health}}{{.State.Health.Status}}{{end}}')
    [ "$health" = healthy ] && break
    [ "$SECONDS" -lt "$deadline" ] ||
      die "$EXIT_NOT_HEALTHY" "$CONTAINER is '${health:-unknown}', not healthy, after ${timeout}s; see: docker exec $CONTAINER backup-manager health"
    sleep 3
  done
else
  warn "--skip-sync: the container reports unhealthy until its first scheduled sync"
fi

info "status"
docker exec "$CONTAINER" backup-manager status || true
info "done: $CONTAINER backs up on schedule '${BACKUP_SCHEDULE:-0 2 * * *}' (UTC); drive it with: docker exec $CONTAINER backup-manager <command>"
