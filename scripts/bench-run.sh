#!/usr/bin/env bash
# Run the benchmark suite (bench/suite.sh) in the guest on soft-RoCE and
# write the report.
#
#   scripts/bench-run.sh --out DIR [--quick] [--debug | --kernel VMLINUX] [--progress]
#
# Needs the kernel (scripts/kernel-build.sh), the patched rdma-core and
# perftest (scripts/userspace-tree.sh) and the CMake build (build/cmake).
# DIR gets the JSON/CSV of every benchmark, the plots (PNG and SVG), the
# console log and report.md; DIR/large those of the 1 GiB hugetlb folios
# (a boot that reserves them; not with --quick) and DIR/iommu those of the
# kernel import behind an IOMMU (a boot with one). --quick makes it a smoke run of every
# benchmark. --kernel boots another kernel than build/kobj's (the main job
# boots build/kobj-bench, built without per-operation debug checks); the
# debug options of the kernel measured go to DIR/kernel-config.txt and the
# report. --progress prints each step of the suite with its elapsed time,
# and the benchmarks' progress lines, while the guest runs (the main job's
# terminal; everything also stays in DIR/console.log). Exit status non-zero if a benchmark failed or its numbers are
# inconsistent (scripts/report.py).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out="" quick=() kernel=$KOBJ/vmlinux progress=0
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=$2; shift ;;
	--quick) quick=(--quick) ;;
	--debug) kernel=$KOBJ-debug/vmlinux ;;
	--kernel) kernel=$2; shift ;;
	--progress) progress=1 ;;
	*) die "unknown argument: $1" ;;
	esac
	shift
done
[ -n "$out" ] || die "usage: $0 --out DIR [--quick] [--debug | --kernel VMLINUX] [--progress]"
bench=$BUILD_DIR/cmake/bench/pal_bench
[ -x "$bench" ] || die "no $bench: build the CMake project first"

[ -f "$kernel" ] || die "no kernel $kernel"
config=$(dirname "$kernel")/.config
[ -f "$config" ] || die "no $config beside $kernel"

# The suite's lines on the guest console ("| " prefixed): its steps ("== ")
# with the time since the start and the time the previous step took, its
# failures, and the benchmarks' "\r"-updated progress lines.
show_progress() {
	local start=$SECONDS last="" line part name=""
	while IFS= read -r line; do
		[[ $line == "| "* ]] || continue
		line=${line#| }
		while IFS= read -r -d $'\r' part || [ -n "$part" ]; do
			part=${part%$'\n'}
			case "$part" in
			"== "*)
				[ -z "$last" ] || printf '\r[%5d s] %s: %d s\033[K\n' \
					$((SECONDS - start)) "$name" $((SECONDS - last))
				name=${part#== }
				last=$SECONDS
				printf '[%5d s] %s\n' $((SECONDS - start)) "$name" ;;
			FAILED*) printf '\r%s\033[K\n' "$part" ;;
			*": "[0-9]*/[0-9]*) printf '\r  %s\033[K' "$part" ;;
			esac
		done <<<"$line"
	done
	[ -z "$last" ] || printf '\r[%5d s] %s: %d s\033[K\n' $((SECONDS - start)) "$name" \
		$((SECONDS - last))
}

progress_pid=""
if [ "$progress" = 1 ]; then
	mkdir -p "$out"
	# vm-run.sh empties $out first: follow the console by name.
	(tail -n +1 -F "$out/console.log" "$out/large/console.log" "$out/iommu/console.log" \
		2>/dev/null | show_progress) 2>/dev/null &
	progress_pid=$!
fi

rc=0
# run_suite DIR ARGS...: the suite in a guest of vm-run.sh ARGS (up to --),
# results in DIR; 1 if it failed.
run_suite() {
	local dir=$1
	shift
	local vm_args=()
	while [ "$1" != -- ]; do vm_args+=("$1"); shift; done
	shift
	"$RDMA_PAL_TOP/scripts/vm-run.sh" --kernel "$kernel" --out "$dir" --timeout 3600 \
		"${vm_args[@]}" -- "$RDMA_PAL_TOP/bench/suite.sh" --bench "$bench" \
		--rdma-core-lib "$BUILD_DIR/rdma-core/build/lib" \
		--perftest "$BUILD_DIR/perftest" "${quick[@]}" "$@"
}

# GiB the host can lend a guest: what it has available, less 3 GiB for
# itself. QEMU only backs what the guest touches, but the large sweeps do
# touch what they register.
host_gib=$(awk '/^MemAvailable:/ { print int($2 / 1048576) - 3 }' /proc/meminfo)
# The main boot: the many-MR sweep holds a fully fragmented buffer of up
# to 8 GiB beside its baselines (12 GiB of guest), less where the host
# has less; the quick sweeps fit in 2 GiB.
mem=2G
if [ ${#quick[@]} -eq 0 ]; then
	g=12
	[ "$host_gib" -ge "$g" ] || g=$host_gib
	[ "$g" -ge 4 ] || g=4
	mem=${g}G
fi
run_suite "$out" --mem "$mem" --ivshmem 16M --append vfio.enable_unsafe_noiommu_mode=1 \
	-- --ivshmem || rc=$?
# The 1 GiB hugetlb folios, in a boot that reserves them: up to 16, and
# 3 GiB beside them for the kernel and the 1 GiB anonymous baseline.
if [ ${#quick[@]} -eq 0 ]; then
	n=$((host_gib - 3))
	[ "$n" -le 16 ] || n=16
	if [ "$n" -ge 1 ]; then
		run_suite "$out/large" --mem $((n + 3))G \
			--append "hugepagesz=1G hugepages=$n" -- --only large-huge || rc=1
	else
		echo "bench-run: the host cannot lend a 1 GiB hugetlb page" >&2
		rc=1
	fi
fi
# The kernel import behind an IOMMU: the list path maps a window as one
# IOVA range there.
run_suite "$out/iommu" --mem 2G --iommu -- --only import || rc=1
# vm-run.sh empties $out: the kernel's description goes in afterwards.
{
	echo "kernel $(realpath --relative-to="$RDMA_PAL_TOP" "$kernel")"
	if [ ${#quick[@]} -gt 0 ]; then echo "sweeps quick"; else echo "sweeps full"; fi
	for sym in KASAN PROVE_LOCKING DEBUG_KMEMLEAK DMABUF_DEBUG DMA_API_DEBUG DEBUG_SG \
		   DEBUG_LIST SLUB_DEBUG_ON DEBUG_ATOMIC_SLEEP; do
		if grep -q "^CONFIG_$sym=y" "$config"; then
			echo "CONFIG_$sym=y"
		else
			echo "CONFIG_$sym=n"
		fi
	done
} >"$out/kernel-config.txt"
python3 "$RDMA_PAL_TOP/scripts/report.py" "$out" || rc=1
exit "$rc"
