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
bad=0
n=0
for f in $(series_entries "$PATCH_DIR/series"); do
	n=$((n + 1))
	p=$PATCH_DIR/$f
	if ! (cd "$KTREE" && ./scripts/checkpatch.pl --strict --quiet --no-summary \
		--show-types "$p"); then
		log "checkpatch: $f has errors, warnings or checks"
		bad=1
	fi
	grep -q "^From: $ident\$" "$p" || { log "$f: author is not $ident"; bad=1; }
	grep -q "^Signed-off-by: $ident\$" "$p" || { log "$f: no Signed-off-by: $ident"; bad=1; }
	if grep -E '^(Signed-off-by|Reviewed-by|Acked-by|Tested-by|Reported-by|Suggested-by|Co-developed-by|Cc):' "$p" |
	   grep -v -F "$ident" | grep -q .; then
		log "$f: a tag names someone other than $ident"
		bad=1
	fi
done
[ "$bad" = 0 ] || die "checkpatch failed"
log "checkpatch --strict: $n patch(es) clean"
