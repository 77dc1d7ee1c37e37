#!/usr/bin/env bash
# Configure and build the guest kernel out of tree.
#
#   scripts/kernel-build.sh [--debug|--no-odp|--bench] [--jobs N] [--config-only]
#                           [--series-step]
#
# Config: 'allnoconfig' + kernel/configs/kvm_guest.config +
# kernel/config/base.config + kernel/config/hw.config (the RDMA hardware
# drivers, built but never run), or with --debug base.config +
# kernel/config/debug.config,
# or with --no-odp base.config + hw.config + kernel/config/no-odp.config
# (build/kobj-noodp, built on top of build/kobj so that only what depends
# on ODP is rebuilt), or with --bench base.config + kernel/config/bench.config
# (build/kobj-bench: the main job's kernel, without per-operation debug
# checks), merged with
# scripts/kconfig/merge_config.sh; every symbol the fragments ask
# for is then checked, since merge_config silently drops one whose
# dependencies are off. Objects go to build/kobj (build/kobj-debug); ccache is
# used when present. The result is build/kobj*/vmlinux, booted as a PVH
# guest by scripts/vm-run.sh. --series-step (for scripts/kernel-build-series.sh,
# building an earlier commit of the series) skips fragment symbols that the
# tree's Kconfig does not define yet.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

debug=0
no_odp=0
bench=0
jobs=$(($(nproc) + 1))
config_only=0
series_step=0
while [ $# -gt 0 ]; do
	case "$1" in
	--debug) debug=1 ;;
	--no-odp) no_odp=1 ;;
	--bench) bench=1 ;;
	--jobs) jobs=$2; shift ;;
	--config-only) config_only=1 ;;
	--series-step) series_step=1 ;;
	-h|--help) sed -n '2,22p' "$0"; exit 0 ;;
	*) die "unknown argument: $1" ;;
	esac
	shift
done

[ -f "$KTREE/Makefile" ] || die "no kernel tree at $KTREE: run scripts/kernel-tree.sh"
[ $((debug + no_odp + bench)) -le 1 ] || die "--debug, --no-odp and --bench are separate kernels"

fragments=("$RDMA_PAL_TOP/kernel/config/base.config")
obj=$KOBJ
if [ "$debug" = 1 ]; then
	fragments+=("$RDMA_PAL_TOP/kernel/config/debug.config")
	obj=$KOBJ-debug
elif [ "$bench" = 1 ]; then
	fragments+=("$RDMA_PAL_TOP/kernel/config/bench.config")
	obj=$KOBJ-bench
else
	fragments+=("$RDMA_PAL_TOP/kernel/config/hw.config")
fi
# The key of a configuration: its fragments and the tree's Kconfig files
# (their blob ids in the index), not the commit: a commit of the series
# that changes no Kconfig keeps the configuration, and the per-patch build
# merges it again only at the steps that add or change a symbol.
config_key_of() {
	(cat "$@" "$KTREE/kernel/configs/kvm_guest.config"
	 git -C "$KTREE" ls-files -s -- ':(glob)**/Kconfig*') |
		sha256sum | cut -d' ' -f1
}

# --no-odp: the normal kernel's state, kept aside while build/kobj holds
# the kernel without ODP, goes back; run from the EXIT trap, and at the
# start in case a run died without it.
restore_normal() {
	[ -d "$KOBJ.normal" ] || return 0
	rm -rf "$KOBJ.partial"
	[ ! -e "$KOBJ" ] || mv -T "$KOBJ" "$KOBJ.partial"
	mv -T "$KOBJ.normal" "$KOBJ"
	rm -rf "$KOBJ.partial"
}

if [ "$no_odp" = 1 ]; then
	[ "$config_only" = 0 ] || die "--no-odp builds on build/kobj's objects: --config-only keeps nothing"
	# Built incrementally on the normal kernel, in build/kobj's own
	# directory: kbuild's host tools (objtool) record absolute paths, so
	# a copy elsewhere would relink objtool and rebuild every object. The
	# normal kernel's state is kept aside meanwhile and put back after,
	# also when the build fails or is interrupted (bash runs the signal
	# traps once make has returned). Nothing else may use build/kobj
	# meanwhile: scripts/test.sh builds this kernel before any test runs.
	restore_normal
	[ -f "$KOBJ/vmlinux" ] && [ "$(cat "$KOBJ/.config-key" 2>/dev/null)" = \
		"$(config_key_of "${fragments[@]}")" ] ||
		die "build the normal kernel of this tree first (scripts/kernel-build.sh)"
	fragments+=("$RDMA_PAL_TOP/kernel/config/no-odp.config")
	cp -a "$KOBJ" "$KOBJ.normal"
	trap restore_normal EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
fi
mkdir -p "$obj"

make_args=(-C "$KTREE" O="$obj" ARCH=x86_64 -s)
if command -v ccache >/dev/null 2>&1; then
	make_args+=(CC="ccache gcc" HOSTCC="ccache gcc")
	# Paths below the project are hashed relative to it, so that a fresh
	# clone in another directory still hits the cache.
	export CCACHE_BASEDIR=$RDMA_PAL_TOP CCACHE_NOHASHDIR=true
	export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G} CCACHE_COMPILERCHECK=content
fi
# Reproducible build identity: keeps ccache hits across builds.
export KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=rdma-pal KBUILD_BUILD_HOST=rdma-pal

# Check that every CONFIG_X=V of the fragments holds in .config; a later
# fragment overrides an earlier one, as in the merge.
check_config() {
	local frag line sym got bad=0
	local -A want=()
	# kvm_guest.config serves several architectures: only our own
	# fragments are held to every line.
	for frag in "${fragments[@]}"; do
		while IFS= read -r line; do
			case "$line" in CONFIG_*=*) want[${line%%=*}]=${line#*=} ;; esac
		done <"$frag"
	done
	local defined=""
	if [ "$series_step" = 1 ]; then
		defined=$(find "$KTREE" -name 'Kconfig*' -not -path '*/.git/*' -print0 |
			  xargs -0 sed -n 's/^[[:space:]]*\(menu\)\{0,1\}config[[:space:]]\{1,\}\([A-Za-z0-9_]*\).*/CONFIG_\2/p' |
			  sort -u)
	fi
	for sym in "${!want[@]}"; do
		if [ -n "$defined" ] && ! grep -qx "$sym" <<<"$defined"; then
			log "$sym: not defined at this commit, skipped"
			continue
		fi
		got=$(grep -E "^($sym=|# $sym is not set)" "$obj/.config" || true)
		case "${want[$sym]}" in
		n) [ -z "$got" ] || [ "$got" = "# $sym is not set" ] ||
			{ log "$sym: wanted n, got '$got'"; bad=1; } ;;
		*) [ "$got" = "$sym=${want[$sym]}" ] ||
			{ log "$sym: wanted ${want[$sym]}, got '${got:-unset}'"; bad=1; } ;;
		esac
	done
	return $bad
}

config_key=$(config_key_of "${fragments[@]}")
if [ ! -f "$obj/.config" ] || [ "$(cat "$obj/.config-key" 2>/dev/null)" != "$config_key" ]; then
	log "configuring $obj"
	make "${make_args[@]}" allnoconfig
	(cd "$obj" && ARCH=x86_64 "$KTREE/scripts/kconfig/merge_config.sh" -n -m -O "$obj" \
		"$obj/.config" "$KTREE/kernel/configs/kvm_guest.config" "${fragments[@]}" >/dev/null)
	make "${make_args[@]}" olddefconfig
	check_config || die "the merged config lacks symbols the fragments ask for (see above)"
	echo "$config_key" >"$obj/.config-key"
fi
[ "$config_only" = 1 ] && exit 0

start=$(now)
log "building vmlinux in $obj with -j$jobs"
make "${make_args[@]}" -j"$jobs" vmlinux
# The series' uAPI headers, for the guest test programs; an earlier commit
# of the series (--series-step) needs none.
[ "$series_step" = 1 ] || make "${make_args[@]}" headers
log "built $obj/vmlinux in $(($(now) - start)) s"
if [ "$no_odp" = 1 ]; then
	rm -rf "$KOBJ-noodp"
	mv -T "$KOBJ" "$KOBJ-noodp"
	mv -T "$KOBJ.normal" "$KOBJ"
	trap - EXIT INT TERM HUP
	log "the kernel without ODP is $KOBJ-noodp/vmlinux"
fi
