#!/usr/bin/env bash
# Check that build/linux and kernel/patches agree: the tree carries exactly
# the series on its pristine base, exporting it reproduces kernel/patches
# byte for byte, and every patch passes scripts/kernel-checkpatch.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -d "$KTREE/.git" ] || die "no kernel tree at $KTREE: run scripts/kernel-tree.sh"
base=$(tree_base "$KTREE")
n_tree=$(git -C "$KTREE" rev-list --count "$base"..HEAD)
n_series=$(series_entries "$PATCH_DIR/series" | wc -l)
[ "$n_tree" = "$n_series" ] ||
	die "$KTREE has $n_tree commits on its base, the series lists $n_series"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$KTREE/.git/rdma-pal-applied" "$tmp/stamp" 2>/dev/null || true
PATCH_DIR=$tmp/patches "$(dirname "$0")/kernel-export.sh"
cp "$tmp/stamp" "$KTREE/.git/rdma-pal-applied" 2>/dev/null || true
diff -r "$tmp/patches" "$PATCH_DIR" ||
	die "exporting $KTREE does not reproduce $PATCH_DIR"
"$(dirname "$0")/kernel-checkpatch.sh"
echo "series: $n_series patch(es) applied, export round trip identical, checkpatch clean"
