#!/usr/bin/env bash
# Regenerate kernel/patches/ from the commits of build/linux on top of its
# pristine base.
#
#   scripts/kernel-export.sh
#
# Patches are 'git format-patch' files with stable names (NNNN-subject.patch,
# no "n/m" numbering, zeroed commit ids), so re-exporting an unchanged series
# changes no file. kernel/patches/series lists them in order.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -d "$KTREE/.git" ] || die "no kernel tree at $KTREE: run scripts/kernel-tree.sh"
[ -z "$(git -C "$KTREE" status --porcelain --untracked-files=no)" ] ||
	die "$KTREE has uncommitted changes: commit them first"

base=$(tree_base "$KTREE")
mkdir -p "$PATCH_DIR"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$KTREE" format-patch -q -N --zero-commit --no-signature \
	--subject-prefix=PATCH -o "$tmp" "$base"..HEAD

changed=0
for old in $(series_entries "$PATCH_DIR/series"); do
	if [ ! -f "$tmp/$old" ]; then
		rm -f "$PATCH_DIR/$old"
		changed=1
	fi
done
: >"$tmp/series"
for f in $(cd "$tmp" && ls -- *.patch 2>/dev/null || true); do
	echo "$f" >>"$tmp/series"
	if ! cmp -s "$tmp/$f" "$PATCH_DIR/$f"; then
		cp "$tmp/$f" "$PATCH_DIR/$f"
		changed=1
	fi
done
if ! cmp -s "$tmp/series" "$PATCH_DIR/series"; then
	cp "$tmp/series" "$PATCH_DIR/series"
	changed=1
fi

# The tree now matches the series: record it, as kernel-tree.sh does.
hash=$( { for f in $(series_entries "$PATCH_DIR/series"); do
		printf '%s\n' "$f"; cat "$PATCH_DIR/$f"; done; } | sha256sum | cut -d' ' -f1)
printf '%s\n%s\n' "$hash" "$(git -C "$KTREE" rev-parse HEAD)" >"$KTREE/.git/rdma-pal-applied"
n=$(series_entries "$PATCH_DIR/series" | wc -l)
if [ "$changed" = 1 ]; then
	log "exported $n patch(es) to $PATCH_DIR"
else
	log "$PATCH_DIR already matches the tree ($n patch(es))"
fi
