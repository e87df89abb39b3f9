#!/usr/bin/env bash
# A second Docker engine on this machine, standing in for another CI machine ("machine B") in the tests: its own
# data root, exec root, pid file and unix socket in a private directory, plus tcp://127.0.0.1:PORT (loopback only,
# no bridge network, no iptables). The local Postgres test image is loaded into it, so image IDs are equal on both.
#   scripts/test-docker-b.sh up    starts it (idempotent) and prints `export` lines for `eval`
#   scripts/test-docker-b.sh env   prints the `export` lines of the running engine (fails when it is not up)
#   scripts/test-docker-b.sh down  removes its containers, stops it and deletes its directories (no mount survives)
# Settings: PGBRANCH_TEST_INFRA_DIR (default /var/tmp/pgbranch-test-infra), PGBRANCH_TEST_DOCKER_B_WAIT (seconds, 60),
# PGBRANCH_TEST_IMAGE (default pgbranch-test/postgres:18, built by scripts/build-test-image.sh).
set -euo pipefail
BASE=${PGBRANCH_TEST_INFRA_DIR:-/var/tmp/pgbranch-test-infra}/docker-b
WAIT=${PGBRANCH_TEST_DOCKER_B_WAIT:-60}
IMAGE=${PGBRANCH_TEST_IMAGE:-pgbranch-test/postgres:18}

die() { echo "test-docker-b: $*" >&2; exit 1; }

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

running() {
  [ -f "$BASE/dockerd.pid" ] && kill -0 "$(cat "$BASE/dockerd.pid")" 2>/dev/null && grep -q dockerd "/proc/$(cat "$BASE/dockerd.pid")/cmdline" 2>/dev/null
}

host() { echo "tcp://127.0.0.1:$(cat "$BASE/port")"; }

b() { DOCKER_HOST=$(host) docker "$@"; }

answers() { timeout 5 env DOCKER_HOST="$(host)" docker info >/dev/null 2>&1; }

# Mounts below this engine's directories (its overlay layers, shm, netns), deepest first.
mounts_below() { awk -v base="$BASE/" 'index($2, base) == 1 { print $2 }' /proc/self/mounts | sort -r; }

up() {
  command -v dockerd >/dev/null 2>&1 || die "dockerd is missing: run scripts/docker-setup.sh first"
  docker image inspect "$IMAGE" >/dev/null 2>&1 || die "$IMAGE is not in the default engine: run scripts/build-test-image.sh first"
  if running && answers; then print_env; return; fi
  running && die "dockerd (pid $(cat "$BASE/dockerd.pid")) runs but does not answer: scripts/test-docker-b.sh down, then up"
  down_quietly
  mkdir -p "$BASE"/{data,exec,run}; chmod 700 "$BASE"
  free_port >"$BASE/port"
  echo '{}' >"$BASE/daemon.json" # not /etc/docker/daemon.json: that belongs to the machine's own engine
  # --tls=false: a plain-TCP engine, on loopback only (this machine's tests are its only clients).
  setsid nohup dockerd \
    --config-file "$BASE/daemon.json" \
    --data-root "$BASE/data" --exec-root "$BASE/exec" --pidfile "$BASE/dockerd.pid" \
    -H "unix://$BASE/run/docker.sock" -H "$(host)" --tls=false \
    --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    --storage-driver overlay2 --log-level warn \
    </dev/null >"$BASE/dockerd.log" 2>&1 &
  local pid=$!
  disown "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + WAIT))
  until [ -f "$BASE/dockerd.pid" ] && answers; do
    kill -0 "$pid" 2>/dev/null || die "dockerd exited before answering; last log lines:
$(tail -n 15 "$BASE/dockerd.log")"
    [ "$SECONDS" -lt "$deadline" ] || die "dockerd (pid $pid) did not answer at $(host) within ${WAIT}s; see $BASE/dockerd.log"
    sleep 0.2
  done
  docker save "$IMAGE" | b load >/dev/null
  [ "$(b image inspect --format '{{.Id}}' "$IMAGE")" = "$(docker image inspect --format '{{.Id}}' "$IMAGE")" ] \
    || die "$IMAGE has another ID in engine B than in the default engine"
  print_env
}

print_env() {
  running || die "not running: scripts/test-docker-b.sh up"
  echo "export PGBRANCH_TEST_DOCKER_B=$(host)"
}

down_quietly() {
  if running; then
    local pid; pid=$(cat "$BASE/dockerd.pid")
    local ids; ids=$(b ps -aq 2>/dev/null || true)
    [ -z "$ids" ] || b rm -f -v $ids >/dev/null 2>&1 || true
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && { kill -9 "$pid" 2>/dev/null || true; sleep 0.5; }
  fi
  [ -d "$BASE" ] || return 0
  local m
  for m in $(mounts_below); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  [ -z "$(mounts_below)" ] || die "mounts left under $BASE: $(mounts_below | tr '\n' ' ')"
  rm -rf "$BASE"
  rmdir "$(dirname "$BASE")" 2>/dev/null || true # the shared parent too, once empty
}

case "${1:-}" in
  up) up ;;
  env) print_env ;;
  down) down_quietly ;;
  *) echo "usage: $0 up|env|down" >&2; exit 2 ;;
esac
