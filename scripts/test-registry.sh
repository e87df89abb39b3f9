#!/usr/bin/env bash
# Two OCI registries on 127.0.0.1 for the tests of remote snapshot stores (Debian's docker-registry, distribution 2.8):
# an open one, and one behind htpasswd basic auth (to see a 401). Storage, config, logs and pid files live in a
# private directory (mode 700) that `down` deletes; nothing listens beyond loopback.
#   scripts/test-registry.sh up    starts both (idempotent) and prints `export` lines for `eval`
#   scripts/test-registry.sh env   prints the `export` lines of the running pair (fails when they are not up)
#   scripts/test-registry.sh down  stops both and deletes their storage (safe when nothing runs)
# Settings: PGBRANCH_TEST_INFRA_DIR (default /var/tmp/pgbranch-test-infra), PGBRANCH_TEST_REGISTRY_WAIT (seconds, 30).
set -euo pipefail
BASE=${PGBRANCH_TEST_INFRA_DIR:-/var/tmp/pgbranch-test-infra}/registry
WAIT=${PGBRANCH_TEST_REGISTRY_WAIT:-30}
AUTH_USER=pgbranch-test

die() { echo "test-registry: $*" >&2; exit 1; }

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

running() { # name → true when its recorded registry process is alive
  local pidfile="$BASE/$1/pid"
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && grep -q docker-registry "/proc/$(cat "$pidfile")/cmdline" 2>/dev/null
}

answers() { # port expected-status → true when GET /v2/ answers with it
  [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/v2/")" = "$2" ]
}

install_packages() {
  local need=()
  command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
  command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  ((${#need[@]})) || return 0
  [ "$(id -u)" = 0 ] || die "installing ${need[*]} needs root"
  export DEBIAN_FRONTEND=noninteractive
  # The package's own service (listening on every address) must not start: forbid service starts during the install.
  local policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"
  fi
  local log; log=$(mktemp)
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; } >"$log" 2>&1 || {
    [ -z "$policy" ] || rm -f "$policy"
    die "apt-get install ${need[*]} failed: $(tail -n 10 "$log")"
  }
  [ -z "$policy" ] || rm -f "$policy"
  rm -f "$log"
}

start() { # name auth(0|1)
  local name=$1 auth=$2 dir="$BASE/$1"
  if running "$name"; then return 0; fi
  rm -rf "$dir"; mkdir -p "$dir/storage"; chmod 700 "$dir"
  local port; port=$(free_port)
  local auth_config=""
  if [ "$auth" = 1 ]; then
    head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$dir/password"
    htpasswd -Bbn "$AUTH_USER" "$(cat "$dir/password")" >"$dir/htpasswd"
    auth_config=$(printf 'auth:\n  htpasswd:\n    realm: pgbranch-test\n    path: %s\n' "$dir/htpasswd")
  fi
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: $(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
$auth_config
EOF
  echo "$port" >"$dir/port"
  setsid nohup docker-registry serve "$dir/config.yml" </dev/null >"$dir/log" 2>&1 &
  echo $! >"$dir/pid"
  disown "$(cat "$dir/pid")" 2>/dev/null || true
  local expected=200; [ "$auth" = 1 ] && expected=401
  local deadline=$((SECONDS + WAIT))
  until answers "$port" "$expected"; do
    running "$name" || die "$name exited before answering; last log lines:
$(tail -n 15 "$dir/log")"
    [ "$SECONDS" -lt "$deadline" ] || die "$name did not answer on 127.0.0.1:$port within ${WAIT}s; see $dir/log"
    sleep 0.1
  done
}

print_env() {
  running open && running auth || die "not running: scripts/test-registry.sh up"
  echo "export PGBRANCH_TEST_REGISTRY=127.0.0.1:$(cat "$BASE/open/port")"
  echo "export PGBRANCH_TEST_REGISTRY_AUTH=127.0.0.1:$(cat "$BASE/auth/port")"
  echo "export PGBRANCH_TEST_REGISTRY_AUTH_USER=$AUTH_USER"
  echo "export PGBRANCH_TEST_REGISTRY_AUTH_PASSWORD=$(cat "$BASE/auth/password")"
}

stop() { # names… : signalled together (each takes about 2 s to drain), then waited for
  local name pids=()
  for name in "$@"; do
    if running "$name"; then pids+=("$(cat "$BASE/$name/pid")"); kill "${pids[-1]}" 2>/dev/null || true; fi
  done
  local pid
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  for name in "$@"; do rm -rf "${BASE:?}/$name"; done
}

case "${1:-}" in
  up)
    install_packages
    mkdir -p "$BASE"; chmod 700 "$BASE"
    start open 0
    start auth 1
    print_env
    ;;
  env) print_env ;;
  down)
    stop open auth
    rmdir "$BASE" "$(dirname "$BASE")" 2>/dev/null || true # the shared parent too, once empty
    ;;
  *) echo "usage: $0 up|env|down" >&2; exit 2 ;;
esac
