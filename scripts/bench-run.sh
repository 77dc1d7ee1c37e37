#!/usr/bin/env bash
# Run the benchmark suite (bench/suite.sh) in the guest on soft-RoCE and
# write the report.
#
#   scripts/bench-run.sh --out DIR [--quick] [--debug | --kernel VMLINUX] [--progress]
#
# Needs the kernel (scripts/kernel-build.sh), the patched rdma-core and
# perftest (scripts/userspace-tree.sh) and the CMake build (build/cmake).
# DIR gets the JSON/CSV of every benchmark, the plots (PNG and SVG), the
# console log and report.md. --quick makes it a smoke run of every
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
	(tail -n +1 -F "$out/console.log" 2>/dev/null | show_progress) 2>/dev/null &
	progress_pid=$!
fi

rc=0
# The full sweeps hold buffers of up to 256 MiB of each kind beside their
# baselines; the room is for the larger sizes issue 17 asks for. QEMU only
# backs what the guest touches.
mem=2G
[ ${#quick[@]} -gt 0 ] || mem=8G
"$RDMA_PAL_TOP/scripts/vm-run.sh" --kernel "$kernel" --out "$out" --timeout 3600 \
	--mem $mem --ivshmem 16M --append vfio.enable_unsafe_noiommu_mode=1 -- \
	"$RDMA_PAL_TOP/bench/suite.sh" --bench "$bench" \
	--rdma-core-lib "$BUILD_DIR/rdma-core/build/lib" \
	--perftest "$BUILD_DIR/perftest" --ivshmem "${quick[@]}" || rc=$?
if [ -n "$progress_pid" ]; then
	sleep 1
	pkill -P "$progress_pid" tail 2>/dev/null || true
	wait "$progress_pid" 2>/dev/null || true
fi
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
