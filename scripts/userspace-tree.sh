#!/usr/bin/env bash
# Make a git tree of a Debian upstream source (rdma-core or perftest) with
# our patch series applied, and build it.
#
#   scripts/userspace-tree.sh rdma-core|perftest [--tree-only] [--force]
#
# The upstream tarball is Debian's "<pkg>_<version>.orig.tar.gz" from sid,
# fetched with a private deb-src configuration (the machine's apt sources are
# not touched; apt checks it against the signed Sources index) and cached in
# build/sources/. The tree is build/<pkg>: the pristine source is its root
# commit (tag 'pristine'), then 'git am' of userspace/<pkg>/patches/series.
# Edit and commit there, then regenerate the series with
# 'scripts/userspace-tree.sh <pkg> --export'.
#
# Builds: rdma-core in place into build/rdma-core/build (lib/ holds
# libibverbs.so.1 and the providers; tests put it first on LD_LIBRARY_PATH);
# perftest with autotools into build/perftest.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pkg=${1:-}
shift || true
case "$pkg" in
rdma-core) version=65.0 ;;
perftest) version=25.01.0+0.80 ;;
*) die "usage: $0 rdma-core|perftest [--tree-only] [--export] [--force]" ;;
esac
tree_only=0 export_only=0 force=0
for arg in "$@"; do
	case "$arg" in
	--tree-only) tree_only=1 ;;
	--export) export_only=1 ;;
	--force) force=1 ;;
	*) die "unknown option $arg" ;;
	esac
done

tree=$BUILD_DIR/$pkg
patches=$RDMA_PAL_TOP/userspace/$pkg/patches
tarball=$BUILD_DIR/sources/${pkg}_${version}.orig.tar.gz
git_id=(-c "user.name=$PAL_AUTHOR_NAME" -c "user.email=$PAL_AUTHOR_EMAIL")

export_series() {
	[ -z "$(git -C "$tree" status --porcelain --untracked-files=no)" ] ||
		die "$tree has uncommitted changes"
	rm -f "$patches"/*.patch
	mkdir -p "$patches"
	git -C "$tree" format-patch -q -N --zero-commit --no-signature \
		-o "$patches" pristine..HEAD
	(cd "$patches" && ls -1 -- *.patch >series)
	log "exported $(wc -l <"$patches/series") patch(es) to $patches"
}

fetch_orig() {
	local aptdir=$BUILD_DIR/apt-private-src
	[ -f "$tarball" ] && return
	mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" \
		"$BUILD_DIR/sources"
	echo "deb-src http://deb.debian.org/debian sid main" >"$aptdir/sources.list"
	local opts=(-o "Dir::Etc::sourcelist=$aptdir/sources.list"
		    -o "Dir::Etc::sourceparts=/dev/null"
		    -o "Dir::State::Lists=$aptdir/lists"
		    -o "Dir::Cache=$aptdir/cache"
		    -o "APT::Get::List-Cleanup=0"
		    -o "APT::Sandbox::User=root")
	log "downloading $pkg's upstream source from Debian's archive (sid)"
	apt-get "${opts[@]}" update >&2
	# The .dsc may be gone from the mirror while the orig tarball stays;
	# apt fetches what it can before failing on the rest.
	(cd "$BUILD_DIR/sources" &&
		apt-get "${opts[@]}" source --download-only "$pkg" >&2 || true)
	[ -f "$tarball" ] || die "could not download $(basename "$tarball")"
}

# What the tree was made from: the tarball and every patch, byte for byte.
series_stamp() {
	{ basename "$tarball"; cat "$patches/series" 2>/dev/null
	  series_entries "$patches/series" | while read -r p; do cat "$patches/$p"; done
	} | sha256sum | cut -d' ' -f1
}

make_tree() {
	local stamp
	stamp=$(series_stamp)
	if [ -d "$tree/.git" ] && [ "$force" = 0 ] &&
	   [ "$(cat "$tree/.git/rdma-pal-applied" 2>/dev/null)" = "$stamp" ] &&
	   [ -z "$(git -C "$tree" status --porcelain --untracked-files=no)" ] &&
	   [ "$(git -C "$tree" rev-list --count pristine..HEAD)" = \
	     "$(series_entries "$patches/series" | wc -l)" ]; then
		log "$tree is up to date with the series"
		return
	fi
	if [ -d "$tree/.git" ]; then
		if [ "$force" = 0 ] &&
		   [ "$(git -C "$tree" rev-list --count pristine..HEAD)" != \
		     "$(series_entries "$patches/series" | wc -l)" ]; then
			die "$tree has commits not in the series: export them or pass --force"
		fi
		rm -rf "$tree"
	fi
	mkdir -p "$tree"
	tar -xzf "$tarball" -C "$tree" --strip-components=1
	git -C "$tree" init -q
	git -C "$tree" add -A -f
	git "${git_id[@]}" -C "$tree" commit -q -m "$pkg $version (pristine source)"
	git -C "$tree" tag pristine
	local p
	for p in $(series_entries "$patches/series"); do
		git "${git_id[@]}" -C "$tree" am -q "$patches/$p" ||
			die "$p does not apply"
	done
	echo "$stamp" >"$tree/.git/rdma-pal-applied"
	log "$tree: $pkg $version + $(series_entries "$patches/series" | wc -l) patch(es)"
}

# pyverbs is built with Debian's python3 and cython3 (scripts/deps.sh), not
# whatever python3 comes first on PATH: the guest runs rdma-core's tests
# (build/bin/run_tests.py) with /usr/bin/python3.
build_rdma_core() {
	mkdir -p "$tree/build"
	(cd "$tree/build" &&
		cmake -GNinja -DIN_PLACE=1 -DNO_PYVERBS=0 -DPYTHON_EXECUTABLE=/usr/bin/python3 \
			-DNO_MAN_PAGES=1 -DENABLE_STATIC=0 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
			.. >/dev/null &&
		ninja >/dev/null)
	[ -f "$tree/build/lib/librxe-rdmav"*.so ] ||
		die "rdma-core build produced no rxe provider"
	[ -f "$tree/build/python/pyverbs/dmabuf.cpython-"*.so ] ||
		die "rdma-core build produced no pyverbs (cython3 and python3-dev installed?)"
}

# perftest's dma-buf backends need the patched kernel's uAPI headers
# (scripts/kernel-build.sh installs them), and the test exporter's backend
# the ABI header that sits beside that test module in the kernel tree.
build_perftest() {
	local uapi=$KOBJ/usr/include testabi=$KTREE/drivers/dma-buf
	[ -f "$uapi/linux/udmabuf.h" ] ||
		die "no patched kernel headers in $uapi: run scripts/kernel-build.sh"
	[ -f "$testabi/dma-buf-pal-test-uapi.h" ] ||
		die "no $testabi/dma-buf-pal-test-uapi.h: run scripts/kernel-tree.sh"
	# The series edits Makefile.am: regenerate the build system.
	(cd "$tree" && ./autogen.sh >/dev/null 2>&1 &&
		./configure -q CPPFLAGS="-I$uapi -idirafter $testabi" >/dev/null &&
		make -s -j"$(nproc)" >/dev/null)
	[ -x "$tree/ib_write_bw" ] || die "perftest build produced no ib_write_bw"
}

if [ "$export_only" = 1 ]; then
	export_series
	exit 0
fi
fetch_orig
make_tree
[ "$tree_only" = 1 ] && exit 0
start=$(now)
case "$pkg" in
rdma-core) build_rdma_core ;;
perftest) build_perftest ;;
esac
log "built $pkg in $(($(now) - start)) s"
