#!/usr/bin/env bash
# The kernel patch workflow, end to end, on a throw-away tree: create a tree
# from a tarball, commit a change, export it, re-export without churn,
# rebuild the tree from the series, refuse to reset unexported work, and run
# the checkpatch wiring on a patch it must accept and one it must reject.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export BUILD_DIR=$work/build KTREE=$work/build/linux PATCH_DIR=$work/patches
mkdir -p "$PATCH_DIR" "$work/src/linux-0.1"
: >"$PATCH_DIR/series"
fails=0
check() {
	local what=$1
	shift
	if "$@"; then echo "ok - $what"; else echo "not ok - $what"; fails=$((fails + 1)); fi
}

# A two-file "kernel" whose checkpatch stand-in rejects the word BADSTYLE,
# and whose MAINTAINERS stand-in has a section for *.c files only.
printf 'kernelversion:\n\t@echo 0.1.0\n' >"$work/src/linux-0.1/Makefile"
mkdir -p "$work/src/linux-0.1/scripts"
cat >"$work/src/linux-0.1/scripts/checkpatch.pl" <<'CP'
#!/bin/sh
for f in "$@"; do case "$f" in -*) ;; *) ! grep -q BADSTYLE "$f" || exit 1 ;; esac; done
CP
cat >"$work/src/linux-0.1/scripts/get_maintainer.pl" <<'GM'
#!/bin/sh
for f in "$@"; do last=$f; done
case "$last" in *.c) echo "DEMO C FILES"; echo "M:	someone" ;; *) echo "THE REST" ;; esac
GM
chmod +x "$work/src/linux-0.1/scripts/checkpatch.pl" "$work/src/linux-0.1/scripts/get_maintainer.pl"
echo "int x;" >"$work/src/linux-0.1/a.c"
tar -C "$work/src" -czf "$work/linux-0.1.tar.gz" linux-0.1
export KERNEL_SRC=$work/linux-0.1.tar.gz

s=$top/scripts
"$s/kernel-tree.sh" 2>/dev/null
check "tree from a tarball has one pristine commit" \
	test "$(git -C "$KTREE" rev-list --count HEAD)" = 1

commit() {	# commit FILE TEXT SUBJECT
	echo "$2" >"$KTREE/$1"
	git -C "$KTREE" add "$1"
	git -C "$KTREE" -c user.name=rdma-pal -c user.email=rdma-pal@example.org \
		commit -q -s -m "$3" -m "Body of $3."
}
commit a.c "int x = 1;" "demo: set x"
commit b.c "int y;" "demo: add y"
"$s/kernel-export.sh" 2>/dev/null
check "export writes two patches and a series" \
	test "$(wc -l <"$PATCH_DIR/series")" = 2
sum1=$(cd "$PATCH_DIR" && sha256sum -- * | sha256sum)
"$s/kernel-export.sh" 2>/dev/null
check "re-export changes nothing" \
	test "$sum1" = "$(cd "$PATCH_DIR" && sha256sum -- * | sha256sum)"
check "checkpatch wiring accepts clean patches" "$s/kernel-checkpatch.sh"

want=$(git -C "$KTREE" rev-parse HEAD^{tree})
rm -rf "$KTREE"
"$s/kernel-tree.sh" 2>/dev/null
check "a new tree re-applies the series to the same content" \
	test "$(git -C "$KTREE" rev-parse HEAD^{tree})" = "$want"
check "series check passes on a matching tree" "$s/kernel-series-check.sh"

commit a.c "int x = 2; /* BADSTYLE */" "demo: bad style"
check "series check notices an unexported commit" \
	bash -c "! '$s/kernel-series-check.sh' 2>/dev/null"
echo "# edited" >>"$PATCH_DIR/$(head -n 1 "$PATCH_DIR/series")"
check "kernel-tree.sh refuses to reset unexported work" \
	bash -c "! '$s/kernel-tree.sh' 2>/dev/null"
"$s/kernel-export.sh" 2>/dev/null
check "checkpatch wiring rejects a bad patch" \
	bash -c "! '$s/kernel-checkpatch.sh' 2>/dev/null"
sed -i 's/^From: rdma-pal/From: someone/' "$PATCH_DIR/$(head -n 1 "$PATCH_DIR/series")"
git -C "$KTREE" reset -q --hard HEAD^
"$s/kernel-export.sh" 2>/dev/null
check "export restores the patches from the tree" "$s/kernel-checkpatch.sh"

commit notes.txt "text" "demo: add a file no MAINTAINERS section covers"
"$s/kernel-export.sh" 2>/dev/null
check "checkpatch wiring rejects an added file outside every section" \
	bash -c "! '$s/kernel-checkpatch.sh' 2>/dev/null"

echo "$fails failed"
[ "$fails" = 0 ]
