#!/usr/bin/env bash
# Check every patch of kernel/patches/series with the tree's own
# scripts/checkpatch.pl --strict, and check that each is authored and signed
# off by the project identity only.
#
#   scripts/kernel-checkpatch.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -x "$KTREE/scripts/checkpatch.pl" ] || die "no checkpatch.pl in $KTREE: run scripts/kernel-tree.sh"
ident="$PAL_AUTHOR_NAME <$PAL_AUTHOR_EMAIL>"

# check_patch FILE: checkpatch, MAINTAINERS coverage and tags of one patch.
check_patch() {
	local f=$1 p=$PATCH_DIR/$1 bad=0 added sections
	# The system python3 first: spdxcheck.py needs its python3-ply.
	# FILE_PATH_CHANGES fires for every added file of a patch that does
	# not touch MAINTAINERS; the section check below is the real test.
	# UNKNOWN_COMMIT_ID: the tree is a release tarball without upstream
	# history, so a Fixes: tag's commit can never be found in it.
	if ! (cd "$KTREE" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict --quiet \
		--no-summary --show-types --ignore FILE_PATH_CHANGES,UNKNOWN_COMMIT_ID "$p"); then
		log "checkpatch: $f has errors, warnings or checks"
		bad=1
	fi
	for added in $(awk '/^diff --git/ { file = $4 } /^new file mode/ { print substr(file, 3) }' "$p"); do
		sections=$(cd "$KTREE" && PATH=/usr/bin:$PATH ./scripts/get_maintainer.pl \
			--no-git --sections -f "$added" 2>/dev/null |
			grep -v -E '^([A-Z]:|$|THE REST$)' || true)
		[ -n "$sections" ] || { log "$f: $added is in no MAINTAINERS section"; bad=1; }
	done
	grep -q "^From: $ident\$" "$p" || { log "$f: author is not $ident"; bad=1; }
	grep -q "^Signed-off-by: $ident\$" "$p" || { log "$f: no Signed-off-by: $ident"; bad=1; }
	if grep -E '^(Signed-off-by|Reviewed-by|Acked-by|Tested-by|Reported-by|Suggested-by|Co-developed-by|Cc):' "$p" |
	   grep -v -F "$ident" | grep -q .; then
		log "$f: a tag names someone other than $ident"
		bad=1
	fi
	return "$bad"
}

# One patch per process, as many at a time as there are CPUs (checkpatch
# is single-threaded perl); the script runs itself with --one PATCH.
if [ "${1:-}" = --one ]; then
	check_patch "$2"
	exit
fi
n=$(series_entries "$PATCH_DIR/series" | wc -l)
series_entries "$PATCH_DIR/series" | xargs -r -P "$(nproc)" -n 1 "$0" --one ||
	die "checkpatch failed"
log "checkpatch --strict: $n patch(es) clean"
