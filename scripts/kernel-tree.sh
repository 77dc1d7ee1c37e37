#!/usr/bin/env bash
# Make build/linux a git tree of the Linux 7.2 source with kernel/patches applied.
#
#   scripts/kernel-tree.sh [--force]
#
# Source, first found wins:
#   1. $KERNEL_SRC: a source tree, a tarball (.tar, .tar.xz, .tar.gz) or a
#      linux-source .deb;
#   2. the Debian linux-source-7.2 package cached in ../shared/kernel/ (its
#      SHA256SUMS is checked);
#   3. the Debian package linux-source-7.2 downloaded by name from Debian's
#      archive with a private apt configuration (the system's sources are not
#      touched).
#
# The pristine source is the tree's root commit. Every patch listed in
# kernel/patches/series is then applied with 'git am'. A tree that is already
# at the current series is left alone; a tree carrying commits that were not
# exported is never reset unless --force is given.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

force=0
for arg in "$@"; do
	case "$arg" in
	--force) force=1 ;;
	-h|--help) sed -n '2,18p' "$0"; exit 0 ;;
	*) die "unknown argument: $arg" ;;
	esac
done

KERNEL_DEB_NAME=linux-source-7.2

series_hash() {
	local f
	{
		for f in $(series_entries "$PATCH_DIR/series"); do
			[ -f "$PATCH_DIR/$f" ] || die "series lists $f, which is not in $PATCH_DIR"
			printf '%s\n' "$f"
			cat "$PATCH_DIR/$f"
		done
	} | sha256sum | cut -d' ' -f1
}

stamp_file() { echo "$KTREE/.git/rdma-pal-applied"; }

# Download the Debian source package by name into $1, without touching the
# machine's apt sources.
download_deb() {
	local dest=$1 aptdir="$BUILD_DIR/apt-private"
	mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
	cat >"$aptdir/sources.list" <<-EOF
	deb http://deb.debian.org/debian sid main
	EOF
	local opts=(-o "Dir::Etc::sourcelist=$aptdir/sources.list"
		    -o "Dir::Etc::sourceparts=/dev/null"
		    -o "Dir::State::Lists=$aptdir/lists"
		    -o "Dir::Cache=$aptdir/cache"
		    -o "APT::Get::List-Cleanup=0")
	log "downloading $KERNEL_DEB_NAME from Debian's archive (sid)"
	apt-get "${opts[@]}" update >&2
	(cd "$dest" && apt-get "${opts[@]}" download "$KERNEL_DEB_NAME" >&2)
	ls "$dest"/"$KERNEL_DEB_NAME"_*.deb | head -n 1
}

# Print the path of a kernel source tarball, or of a source tree.
find_source() {
	local tmp=$1
	if [ -n "${KERNEL_SRC:-}" ]; then
		[ -e "$KERNEL_SRC" ] || die "KERNEL_SRC=$KERNEL_SRC does not exist"
		echo "$KERNEL_SRC"
		return
	fi
	local deb
	deb=$(ls "$SHARED_DIR"/kernel/"$KERNEL_DEB_NAME"_*.deb 2>/dev/null | head -n 1 || true)
	if [ -n "$deb" ]; then
		if [ -f "$SHARED_DIR/kernel/SHA256SUMS" ]; then
			(cd "$SHARED_DIR/kernel" && sha256sum --quiet -c SHA256SUMS >&2) ||
				die "$deb does not match SHA256SUMS"
		fi
		echo "$deb"
		return
	fi
	download_deb "$tmp"
}

# Unpack whatever find_source gave into the empty directory $2.
unpack_source() {
	local src=$1 dest=$2 tmp=$3
	if [ -d "$src" ]; then
		log "copying source tree $src"
		cp -a "$src"/. "$dest"/
		rm -rf "$dest/.git"
		return
	fi
	case "$src" in
	*.deb)
		log "unpacking $(basename "$src")"
		dpkg-deb -x "$src" "$tmp/deb"
		src=$(ls "$tmp"/deb/usr/src/linux-source-*.tar.* | head -n 1)
		[ -n "$src" ] || die "no source tarball inside the package"
		;;
	esac
	log "extracting $(basename "$src")"
	tar -xf "$src" -C "$dest" --strip-components=1
}

create_tree() {
	local tmp
	tmp=$(mktemp -d "$BUILD_DIR/.src.XXXXXX")
	trap 'rm -rf "$tmp"' RETURN
	local src
	src=$(find_source "$tmp")
	rm -rf "$KTREE.new"
	mkdir -p "$KTREE.new"
	unpack_source "$src" "$KTREE.new" "$tmp"
	[ -f "$KTREE.new/Makefile" ] || die "$src did not give a kernel tree"
	local version
	version=$(make -s -C "$KTREE.new" kernelversion 2>/dev/null)
	# Debian's source package ends .gitignore with a packaging block that
	# ignores everything at the top level ("/*"), which would hide every
	# new file of the series from git: drop that block, nothing else.
	# The import itself adds every file (-f): it is the whole source.
	if [ -f "$KTREE.new/.gitignore" ]; then
		awk '/^# Debian packaging: ignore everything/ { exit }
		     { lines[n++] = $0 }
		     END { while (n > 0 && lines[n - 1] ~ /^#?$/) n--
			   for (i = 0; i < n; i++) print lines[i] }' \
			"$KTREE.new/.gitignore" >"$tmp/gitignore"
		cat "$tmp/gitignore" >"$KTREE.new/.gitignore"
	fi
	log "committing pristine Linux $version"
	git -C "$KTREE.new" init -q -b base
	git_in_tree "$KTREE.new" add -A -f
	git_in_tree "$KTREE.new" commit -q --no-verify \
		-m "Linux $version (pristine source)" \
		-m "Imported from $(basename "$src") by scripts/kernel-tree.sh. Debian's packaging block at the end of .gitignore (which ignores every top-level path) is dropped so that new files are seen."
	git -C "$KTREE.new" tag pristine
	git -C "$KTREE.new" checkout -q -b rdma-pal
	rm -rf "$KTREE"
	mv "$KTREE.new" "$KTREE"
}

git_in_tree() {
	local dir=$1
	shift
	GIT_AUTHOR_NAME=$PAL_AUTHOR_NAME GIT_AUTHOR_EMAIL=$PAL_AUTHOR_EMAIL \
	GIT_COMMITTER_NAME=$PAL_AUTHOR_NAME GIT_COMMITTER_EMAIL=$PAL_AUTHOR_EMAIL \
	GIT_AUTHOR_DATE=${GIT_AUTHOR_DATE:-2000-01-01T00:00:00+0000} GIT_COMMITTER_DATE=${GIT_COMMITTER_DATE:-2000-01-01T00:00:00+0000} \
		git -C "$dir" -c core.autocrlf=false "$@"
}

apply_series() {
	local base f n=0
	base=$(tree_base "$KTREE")
	git -C "$KTREE" reset -q --hard "$base"
	git -C "$KTREE" clean -q -fdx
	for f in $(series_entries "$PATCH_DIR/series"); do
		n=$((n + 1))
		# Keep the committer equal to the author so that export is stable.
		GIT_COMMITTER_NAME=$PAL_AUTHOR_NAME GIT_COMMITTER_EMAIL=$PAL_AUTHOR_EMAIL \
			git -C "$KTREE" am -q --committer-date-is-author-date \
			"$PATCH_DIR/$f" ||
			{ git -C "$KTREE" am --abort || true; die "patch $f does not apply"; }
	done
	log "applied $n patch(es) from $PATCH_DIR/series"
}

mkdir -p "$BUILD_DIR"
want=$(series_hash)
if [ ! -d "$KTREE/.git" ]; then
	create_tree
	apply_series
elif [ -f "$(stamp_file)" ] && [ "$(sed -n 1p "$(stamp_file)")" = "$want" ] &&
     [ "$(sed -n 2p "$(stamp_file)")" = "$(git -C "$KTREE" rev-parse HEAD)" ]; then
	log "$KTREE is at the current series"
	exit 0
else
	stamped_head=$(sed -n 2p "$(stamp_file)" 2>/dev/null || true)
	if [ "$force" = 0 ] && [ -n "$stamped_head" ] &&
	   [ "$stamped_head" != "$(git -C "$KTREE" rev-parse HEAD)" ]; then
		die "$KTREE has commits that are not exported (HEAD moved since the series was applied); run scripts/kernel-export.sh, or --force to discard them"
	fi
	apply_series
fi
printf '%s\n%s\n' "$want" "$(git -C "$KTREE" rev-parse HEAD)" >"$(stamp_file)"
log "kernel tree ready: $KTREE ($(git -C "$KTREE" log --oneline "$(tree_base "$KTREE")"..HEAD | wc -l) patch(es) on the pristine base)"
