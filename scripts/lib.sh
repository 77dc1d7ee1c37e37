# shellcheck shell=bash
# Common paths and helpers for rdma-pal scripts. Source it, do not run it.

RDMA_PAL_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$RDMA_PAL_TOP/build}
KTREE=${KTREE:-$BUILD_DIR/linux}
KOBJ=${KOBJ:-$BUILD_DIR/kobj}
PATCH_DIR=${PATCH_DIR:-$RDMA_PAL_TOP/kernel/patches}
SHARED_DIR=${SHARED_DIR:-$RDMA_PAL_TOP/../shared}

# The identity every kernel commit of the series is authored and signed off by.
PAL_AUTHOR_NAME="rdma-pal"
PAL_AUTHOR_EMAIL="rdma-pal@example.org"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Patch file names listed in a series file, comments and blank lines dropped.
series_entries() {
	[ -f "$1" ] || return 0
	sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$1"
}

# The pristine-source commit of a kernel tree: its root commit.
tree_base() {
	git -C "$1" rev-list --max-parents=0 HEAD | tail -n 1
}

# Kernel log lines that fail a run whatever the tests said: oops, WARN, BUG,
# KASAN/UBSAN, lockdep, kmemleak, hung tasks, lockups and RCU stalls.
SPLAT_RE='(BUG:|WARNING:|Oops|general protection fault|Kernel panic|KASAN:|UBSAN:|kmemleak: [1-9][0-9]* new suspected|possible circular locking|possible recursive locking|inconsistent lock state|INFO: task .* blocked for more than|soft lockup|RCU stall)'

# Seconds since the epoch, for phase timings.
now() { date +%s; }
