#!/usr/bin/env bash
# The guest runner works from a clone under /tmp, though the guest covers
# /tmp with a tmpfs of its own: the payload must start in the clone's own
# directory and see its files. Uses the committed state of this repository
# and the guest kernel already built here.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
kernel=${1:-$top/build/kobj/vmlinux}
[ -f "$kernel" ] || { echo "no guest kernel at $kernel"; exit 1; }
work=$(mktemp -d /tmp/rdma-pal-clone.XXXXXX)
trap 'rm -rf "$work"' EXIT
git clone -q --depth 1 "file://$top" "$work/rdma-pal"
clone=$work/rdma-pal
rc=0
"$clone/scripts/vm-run.sh" --kernel "$kernel" --out "$work/out" --timeout 300 -- \
	bash -c 'test "$(pwd)" = "$1" && test -f scripts/guest-init.sh &&
		 echo "payload started in $(pwd), the project is there"' _ "$clone" || rc=$?
cat "$work/out/payload.log" 2>/dev/null || echo "no payload log"
exit "$rc"
