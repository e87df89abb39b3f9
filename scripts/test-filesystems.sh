#!/usr/bin/env bash
# Loop-mounted copy-on-write filesystems for the test suite (needs root, xfsprogs and btrfs-progs).
#   scripts/test-filesystems.sh up    mounts them (idempotent) and prints `export` lines for the tests
#   scripts/test-filesystems.sh down  unmounts them and deletes the images
set -euo pipefail
BASE=${PGBRANCH_TESTFS_DIR:-/var/tmp/pgbranch-testfs}
SIZE=${PGBRANCH_TESTFS_SIZE:-16G} # sparse: only what is written takes space

mount_fs() { # name mkfs-command...
  local name=$1; shift
  local img="$BASE/$name.img" dir="$BASE/$name"
  mkdir -p "$dir"
  if ! mountpoint -q "$dir"; then
    rm -f "$img"
    truncate -s "$SIZE" "$img"
    "$@" "$img" >/dev/null
    mount -o loop "$img" "$dir"
  fi
  chmod 755 "$dir"
}

case "${1:-}" in
  up)
    mkdir -p "$BASE"; chmod 755 "$BASE"
    mount_fs xfs mkfs.xfs -q -f -m reflink=1
    mount_fs btrfs mkfs.btrfs -q -f
    echo "export PGBRANCH_TEST_REFLINK_DIR=$BASE/xfs"
    echo "export PGBRANCH_TEST_BTRFS_DIR=$BASE/btrfs"
    ;;
  down)
    for name in xfs btrfs; do
      if mountpoint -q "$BASE/$name"; then umount "$BASE/$name" || umount -l "$BASE/$name"; fi
      rm -rf "${BASE:?}/$name" "$BASE/$name.img"
    done
    ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
