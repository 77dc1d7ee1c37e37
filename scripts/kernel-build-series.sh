#!/usr/bin/env bash
# Build the guest kernel at every commit of the series, in order, so that
# each patch is known to build on its own. Uses the object directory of
# scripts/kernel-build.sh and ends at the tree's HEAD, so afterwards that
# directory holds the kernel of the whole series.
#
#   scripts/kernel-build-series.sh [--debug]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -d "$KTREE/.git" ] || die "no kernel tree at $KTREE: run scripts/kernel-tree.sh"
[ -z "$(git -C "$KTREE" status --porcelain --untracked-files=no)" ] ||
	die "$KTREE has uncommitted changes: commit them first"
branch=$(git -C "$KTREE" symbolic-ref --short HEAD 2>/dev/null) ||
	die "$KTREE is not on a branch"
base=$(tree_base "$KTREE")
commits=$(git -C "$KTREE" rev-list --reverse "$base"..HEAD)
trap 'git -C "$KTREE" checkout -q "$branch"' EXIT

n=0
for c in $commits; do
	n=$((n + 1))
	subject=$(git -C "$KTREE" log -1 --format=%s "$c")
	log "series build $n: $subject"
	git -C "$KTREE" checkout -q --detach "$c"
	"$(dirname "$0")/kernel-build.sh" --series-step "$@" ||
		die "patch $n ($subject) does not build"
done
git -C "$KTREE" checkout -q "$branch"
# With an empty series, or to settle on HEAD's config, build HEAD itself.
"$(dirname "$0")/kernel-build.sh" "$@"
log "all $n patch(es) of the series build"
