#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine (idempotent; run as root, e.g. in CI).
#   - `docker info` already answers: does nothing (never restarts a working engine);
#   - otherwise installs docker.io with apt if dockerd is missing, starts dockerd detached
#     WITHOUT bridge networking (containers must use --network host or --network none),
#     logging to $PGBRANCH_DOCKERD_LOG, and waits up to $PGBRANCH_DOCKERD_WAIT seconds for it.
# Prints one line saying what it did; exits non-zero with a message when the engine cannot be had.
set -euo pipefail
LOG=${PGBRANCH_DOCKERD_LOG:-/var/log/pgbranch-dockerd.log}
WAIT=${PGBRANCH_DOCKERD_WAIT:-60}

die() { echo "docker-setup: $*" >&2; exit 1; }
engine_up() { command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; }

if engine_up; then
  echo "docker-setup: engine already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')), nothing to do"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "the Docker engine is not answering and starting it needs root"

installed=""
if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || die "dockerd is missing and apt-get is not available to install docker.io"
  export DEBIAN_FRONTEND=noninteractive
  # The package's maintainer scripts must not start dockerd with its default bridge network:
  # forbid service starts during the install unless a policy already exists.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  aptlog=$(mktemp)
  apt-get update -qq >"$aptlog" 2>&1 || die "apt-get update failed: $(tail -n 5 "$aptlog")"
  apt-get install -y -qq --no-install-recommends docker.io >"$aptlog" 2>&1 \
    || die "apt-get install docker.io failed: $(tail -n 10 "$aptlog")"
  rm -f "$aptlog"
  if [ -n "$policy" ]; then rm -f "$policy"; trap - EXIT; fi
  command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd is still not on PATH"
  installed="installed docker.io, "
fi

# A dockerd that is alive but not (yet) answering: wait for it rather than start a second one.
if pid=$(pgrep -x dockerd 2>/dev/null | head -n1) && [ -n "$pid" ]; then
  action="waited for the already started dockerd (pid $pid)"
else
  mkdir -p "$(dirname "$LOG")"
  # Leftover pid file from a dead engine would make dockerd refuse to start.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then rm -f /var/run/docker.pid; fi
  setsid nohup dockerd --bridge=none --iptables=false --ip-forward=false </dev/null >>"$LOG" 2>&1 &
  pid=$!
  disown "$pid" 2>/dev/null || true
  action="started dockerd (pid $pid, log $LOG)"
fi

deadline=$((SECONDS + WAIT))
until engine_up; do
  if ! kill -0 "$pid" 2>/dev/null; then
    die "dockerd (pid $pid) exited before answering; last log lines:
$(tail -n 15 "$LOG" 2>/dev/null)"
  fi
  [ "$SECONDS" -lt "$deadline" ] || die "dockerd (pid $pid) did not answer 'docker info' within ${WAIT}s; see $LOG"
  sleep 1
done
echo "docker-setup: ${installed}${action}; engine $(docker version --format '{{.Server.Version}}' 2>/dev/null), storage $(docker info --format '{{.Driver}}' 2>/dev/null), up after $((SECONDS))s"
